"""``/ticket stats [period]`` on Discord (PRODUCT.md §4): the figures as an embed with the
chart attached (shown as the embed's image), answered ephemerally to the agent."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord

from adapters.discord.acting import answer, bot_of
from core import report as reports
from core.identity import Actor
from core.report import Figures, Report, share_text, short_duration
from core.report_chart import chart_png

FIELD_VALUE_MAX = 1024  # Discord's limit on an embed field's value
CHART = "stats.png"


def _times(f: Figures, kind: str) -> str:
    t = f.first_response if kind == "first" else f.resolution
    return f"median {short_duration(t.median)}\np90 {short_duration(t.p90)} ({t.count})"


def _line(f: Figures) -> str:
    return (f"**{discord.utils.escape_markdown(f.name)}**: {f.opened} opened, {f.resolved} "
            f"resolved, {f.backlog} backlog · 1st reply {short_duration(f.first_response.median)}"
            f" · resolution {short_duration(f.resolution.median)} · SLA "
            f"{share_text(f.sla_met)} · satisfied {share_text(f.satisfaction)}")


def _lines(lines: tuple[Figures, ...]) -> str:
    """As many lines as fit in a field, then how many more there are."""
    text, shown = "", 0
    for line in (_line(f) for f in lines):
        more = f"\n… and {len(lines) - shown} more"
        if len(text) + 1 + len(line) + len(more) > FIELD_VALUE_MAX:
            return text + more
        text, shown = f"{text}\n{line}" if text else line, shown + 1
    return text


def embed(report: Report, desk_name: str) -> discord.Embed:
    """The report as an embed: the desk's figures as fields, by category and by agent
    as lines, the chart (attached as ``stats.png``) as its image."""
    t = report.total
    kind = "business hours" if report.business_time else "around the clock"
    found = discord.Embed(
        title=f"{desk_name}: stats, {report.label}",
        description=(f"{report.span} · "
                     f"times {kind} · backlog: active now"),
        colour=discord.Colour.blurple())
    for name, value in (("Opened", str(t.opened)), ("Resolved", str(t.resolved)),
                        ("Backlog", str(t.backlog)),
                        ("First response", _times(t, "first")),
                        ("Resolution", _times(t, "resolution")),
                        ("SLA met", f"{share_text(t.sla_met)}\n{report.breaches} breach"
                                    f"{'' if report.breaches == 1 else 'es'}"),
                        ("Satisfaction (good)", share_text(t.satisfaction))):
        found.add_field(name=name, value=value, inline=True)
    for name, lines in (("By category", report.by_category), ("By agent", report.by_agent)):
        if lines:
            found.add_field(name=name, value=_lines(lines), inline=False)
    found.set_image(url=f"attachment://{CHART}")
    return found


async def send_stats(interaction: discord.Interaction[Any], actor: Actor, period: str) -> None:
    """The report for ``actor`` (an agent; else ``NotAllowed``) with its chart, as an
    ephemeral answer to ``interaction``."""
    desk = bot_of(interaction).desk
    found = await reports.stats(actor, desk.config, desk.stores, desk.clock, period)
    png = await asyncio.to_thread(chart_png, found, title=desk.config.desk.name)
    await answer(interaction, embed=embed(found, desk.config.desk.name),
                 file=discord.File(io.BytesIO(png), filename=CHART))
