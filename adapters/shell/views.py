"""Every line the shell platform prints: cards, thread messages, DMs, answers.

Tickets are always referred to as ``#<number>``. Times are shown in UTC and,
relative to now, with humanize ("in 8 hours").
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import humanize

from core.events import Event, EventKind
from core.routing import Target
from core.tickets import Status
from core.validation import BIDI_CONTROLS as BIDI
from core.views import Listed, TicketDetails, TicketView

STATUS_WORDS = {
    Status.OPEN: "open",
    Status.IN_PROGRESS: "in progress",
    Status.WAITING: "waiting on the requester",
    Status.ON_HOLD: "on hold",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
}


def printable(text: str) -> str:
    """``text`` with control and direction-override characters shown as escapes, so an
    echoed line cannot move the terminal's cursor or colours."""
    return "".join(
        ch if ch == "\t" or (unicodedata.category(ch) != "Cc" and ch not in BIDI) else
        f"\\u{ord(ch):04x}" for ch in text)


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """``2026-01-05 17:00 UTC (in 8 hours)``; relative part rounded to the minute."""
    if moment is None:
        return "—"
    now = now or datetime.now(UTC)
    seconds = round((moment - now).total_seconds() / 60) * 60
    if seconds == 0:
        relative = "now"
    else:
        span = humanize.naturaldelta(timedelta(seconds=abs(seconds)))
        relative = f"in {span}" if seconds > 0 else f"{span} ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({relative})"


def status(value: Status | str) -> str:
    return STATUS_WORDS[Status(value)]


def _to(data: dict[str, object], fallback: Status) -> str:
    """The status an event moved the ticket to (history shows it as it was then)."""
    to = data.get("to")
    return status(to) if isinstance(to, str) and to in {s.value for s in Status} \
        else status(fallback)


def card(t: TicketView) -> list[str]:
    """The ticket card: number, subject, category, priority, status, people, SLA due."""
    assignee = t.assignee.name if t.assignee else "nobody yet"
    lines = [
        f"#{t.number} {t.subject}",
        f"  {t.category_name} · {t.priority} priority · {status(t.status)}"
        + (f" · escalation level {t.escalation_level}" if t.escalation_level else ""),
        f"  requester {t.requester.name} · assignee {assignee}"
        + (f" · account {t.account}" if t.account else ""),
    ]
    if t.sla_due:
        lines.append(f"  SLA due {when(t.sla_due)}")
    return lines


def where(target: Target, number: int, audience_public: bool, recipient: str | None) -> str:
    if target is Target.BINDING:
        return f"[#{number} {'ticket' if audience_public else 'team'} thread]"
    if target is Target.CHANNEL:
        return "[escalation channel]"
    return f"[DM to {recipient}]"


def event_lines(event: Event, t: TicketView, purpose: str) -> list[str]:
    """What a delivered event says, for a thread or a DM."""
    who = event.actor.name if event.actor else "Helpthread"
    text = event.text
    data = event.data
    kind = event.kind
    if kind is EventKind.OPENED:
        if purpose == "history":
            return [f"{who} opened #{t.number}: {t.subject}", f"  {t.description}"]
        if purpose == "receipt":
            return [
                f"We have your ticket #{t.number}: {t.subject}",
                f"  {t.category_name} · {t.priority} priority. An agent will answer in its "
                f"thread; first response due {when(t.sla_due)}.",
                f"  Follow it with /thread {t.number}; see it with /ticket show {t.number}.",
            ]
        opener = f" (opened by {who} for {t.requester.name})" if data.get("on_behalf") else ""
        body = [f"New ticket{opener}:", *card(t), f"  {t.description}"]
        body += [f"  {f.label}: {f.value}" for f in t.fields]
        return body
    if kind is EventKind.COMMENTED:
        lines = [f"{who}: {text}"]
        for item in data.get("attachments", []):
            lines.append(f"  attachment: {item.get('name')} ({item.get('size', '?')} bytes) "
                         f"{item.get('url', '')}".rstrip())
        return lines
    if kind is EventKind.NOTED:
        return [f"{who} (internal note): {text}"]
    if kind is EventKind.CLAIMED:
        return [f"{who} claimed #{t.number}; it is {_to(data, t.status)}."]
    if kind is EventKind.ASSIGNED:
        return [f"{who} assigned #{t.number} to {data.get('assignee')}."]
    if kind is EventKind.UNASSIGNED:
        return [f"{who} handed #{t.number} back to the queue."]
    if kind is EventKind.WAITING:
        return [f"{who} needs more information: {text}", f"  #{t.number} is waiting on the "
                "requester; reply in this thread."]
    if kind is EventKind.HELD:
        reason = data.get("internal", {}).get("reason")
        return [f"{who} put #{t.number} on hold" + (f": {reason}" if reason else ".")]
    if kind is EventKind.RESUMED:
        return [f"#{t.number} is {_to(data, t.status)} again."]
    if kind is EventKind.RESOLVED:
        return [f"{who} resolved #{t.number}: {text}"]
    if kind is EventKind.CLOSED:
        return [f"{who} closed #{t.number}" + (f": {text}" if text else ".")]
    if kind is EventKind.REOPENED:
        return [f"{who} reopened #{t.number}; it is {_to(data, t.status)}."]
    if kind is EventKind.PRIORITY_CHANGED:
        return [f"{who} changed the priority of #{t.number} from {data.get('from')} to "
                f"{data.get('to')}."]
    if kind is EventKind.ESCALATED:
        reason = data.get("internal", {}).get("reason")
        return [f"{who} escalated #{t.number} (level {data.get('level')})"
                + (f": {reason}" if reason else ".")]
    if kind is EventKind.LINKED:
        if data.get("link") == "followed_up_by":
            return [f"#{t.number} continues in follow-up ticket #{data.get('number')}."]
        return [f"{who} linked #{t.number} to #{data.get('number')} ({data.get('link')})."]
    if kind is EventKind.WATCHER_ADDED:
        return [f"{who} added {data.get('watcher')} as a watcher of #{t.number}."]
    return [f"#{t.number}: {kind.value}"]


def details(d: TicketDetails) -> list[str]:
    t = d.ticket
    lines = card(t)
    lines.append(f"  opened {when(t.opened_at)} · from {t.source} · {t.visibility.value}")
    if t.resolution_due and t.status not in (Status.RESOLVED, Status.CLOSED):
        lines.append(f"  resolution due {when(t.resolution_due)}")
    lines.append(f"  description: {t.description}")
    lines += [f"  {f.label}: {f.value}" for f in (*t.fields, *d.sensitive)]
    if t.resolution:
        lines.append(f"  resolution: {t.resolution}")
    for link in t.links:
        lines.append(f"  {link.kind.value.replace('_', ' ')} #{link.number}")
    if t.watchers:
        lines.append("  watchers: " + ", ".join(w.name for w in t.watchers))
    team = f" (team: /thread {t.number} team)" if d.viewer_is_agent else ""
    lines.append(f"  thread: /thread {t.number}{team}")
    lines.append("  conversation:")
    for e in d.events:
        if e.kind is EventKind.OPENED:
            continue
        lines += ["    " + line.strip() for line in event_lines(e, t, "thread")]
    return lines


def listing(items: list[Listed], empty: str) -> list[str]:
    if not items:
        return [empty]
    return [
        f"{'•' if item.unread else ' '} #{item.ticket.number} [{status(item.ticket.status)}] "
        f"{item.ticket.subject} — {item.ticket.priority}, "
        f"{item.ticket.assignee.name if item.ticket.assignee else 'unassigned'}"
        + (f", SLA due {when(item.ticket.sla_due)}" if item.ticket.sla_due else "")
        for item in items
    ]


HELP = """Commands (the same words as Slack and Discord):
  /ticket new [subject]     open a ticket; give fields inline to skip questions:
      category=refund subject="…" description="…" priority=high account=1234 receipt=…
      share=yes makes it visible to your organisation
  /ticket list [open|closed|all] [mine|org] [unread]
  /ticket show N            /ticket search <words|"phrase"|#N>      /ticket transcript N
  /ticket reply N text      /ticket note N text        (agents)
  /ticket claim N | assign N NAME | unassign N | wait N question | hold N reason | resume N (agents)
  /ticket priority N low|normal|high|urgent | escalate N reason | resolve N note (agents)
  /ticket link N related|duplicate_of M (agents)
  /ticket close N [reason] | reopen N                  (agents; the requester for their own)
  /ticket queue (agents)    /ticket help
  /thread N [team]          enter a ticket's thread (team thread: agents only);
                            plain text is then a message in that thread
  /as NAME [--agent]        act as someone else      /quit
Inside a thread the ticket number may be omitted."""
