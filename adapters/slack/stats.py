"""``/ticket stats [7d|30d|90d]`` on Slack (PRODUCT.md §4): the figures as Block Kit
blocks, answered ephemerally, and the chart uploaded (``files_upload_v2``: Slack's
``files.getUploadURLExternal`` → upload → ``files.completeUploadExternal``) into the
agent's DM with the app — an ephemeral message cannot carry a file."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.context import Shared
from adapters.slack.text import escape
from core import report as reports
from core.identity import Actor
from core.report import Figures, Report, share_text, short_duration
from core.report_chart import chart_png

SECTION_TEXT_MAX = 3000
FIELDS_MAX = 10  # a section's fields


def _times(label: str, f: Figures, kind: str) -> str:
    t = f.first_response if kind == "first" else f.resolution
    return (f"*{label}*\nmedian {short_duration(t.median)} · p90 {short_duration(t.p90)}"
            f" ({t.count})")


def _line(f: Figures) -> str:
    return (f"• *{escape(f.name)}*: opened {f.opened}, resolved {f.resolved}, backlog "
            f"{f.backlog} · 1st reply {short_duration(f.first_response.median)} (p90 "
            f"{short_duration(f.first_response.p90)}) · resolution "
            f"{short_duration(f.resolution.median)} (p90 {short_duration(f.resolution.p90)})"
            f" · SLA met {share_text(f.sla_met)} · satisfied {share_text(f.satisfaction)}")


def _sections(title: str, lines: tuple[Figures, ...]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = f"*{title}*"
    for line in (_line(f) for f in lines):
        if len(text) + 1 + len(line) > SECTION_TEXT_MAX:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
            text = ""
        text = f"{text}\n{line}" if text else line[:SECTION_TEXT_MAX]
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return blocks


def summary(report: Report) -> str:
    """One line: the fallback text of the answer and the chart's comment."""
    t = report.total
    return (f"Stats, {report.label}: {t.opened} opened, {t.resolved} resolved, "
            f"{t.backlog} in the backlog; first response median "
            f"{short_duration(t.first_response.median)}, SLA met {share_text(t.sla_met)}.")


def blocks(report: Report) -> list[dict[str, Any]]:
    """The report as blocks: a header, the period, the desk's figures as fields, then by
    category and by agent (names escaped for mrkdwn)."""
    t = report.total
    kind = "business hours" if report.business_time else "around the clock"
    found: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Stats, {report.label}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"{report.span} · times "
            f"{kind} · backlog: active now")}]},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in (
            f"*Opened*\n{t.opened}", f"*Resolved*\n{t.resolved}", f"*Backlog*\n{t.backlog}",
            _times("First response", t, "first"), _times("Resolution", t, "resolution"),
            f"*SLA met*\n{share_text(t.sla_met)} · {report.breaches} breach"
            f"{'' if report.breaches == 1 else 'es'}",
            f"*Satisfaction* (good)\n{share_text(t.satisfaction)}",
        )][:FIELDS_MAX]},
    ]
    for title, lines in (("By category", report.by_category), ("By agent", report.by_agent)):
        if lines:
            found += [{"type": "divider"}, *_sections(title, lines)]
    return found[:50]


async def send_stats(shared: Shared, actor: Actor, period: str,
                     body: dict[str, Any]) -> None:
    """Answer ``/ticket stats`` for ``actor``: the blocks ephemerally (a DM without a
    ``response_url``), the chart into their DM. Raises the desk's errors (an actor who
    is not an agent: ``NotAllowed``) and the SDK's when Slack refuses."""
    desk = shared.desk
    found = await reports.stats(actor, desk.config, desk.stores, desk.clock, period)
    png = await asyncio.to_thread(chart_png, found, title=desk.config.desk.name)
    answer, url = blocks(found), body.get("response_url")
    text = summary(found)
    sent = False
    if url:
        webhook = AsyncWebhookClient(url, timeout=10, session=shared.session)
        response = await webhook.send(text=text, blocks=answer, response_type="ephemeral",
                                      replace_original=False)
        sent = response.status_code < 400
    opened = await shared.client.conversations_open(users=actor.ref.user_id)
    channel = opened["channel"]["id"]
    if not sent:
        await shared.client.chat_postMessage(channel=channel, text=text, blocks=answer)
    await shared.client.files_upload_v2(
        channel=channel, file=png, filename=f"helpthread-stats-{found.label}.png",
        title=f"{desk.config.desk.name}: stats, {found.label}", initial_comment=text)
