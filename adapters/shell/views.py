"""Every line the shell platform prints: cards, thread messages, DMs, answers.

Tickets are always referred to as ``#<number>``. Times are shown in UTC and,
relative to now, with humanize ("in 8 hours").
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import assert_never

import humanize

from core.characters import BIDI_CONTROLS as BIDI
from core.events import (
    Assigned,
    Attachment,
    AutoClosed,
    Claimed,
    Closed,
    CloseDeclined,
    CloseRequested,
    Commented,
    Escalated,
    Event,
    EventKind,
    Held,
    InfoRequested,
    Linked,
    Noted,
    Opened,
    PriorityChanged,
    Rated,
    Reminded,
    Reopened,
    Resolved,
    Resumed,
    SlaBreached,
    SlaWarning,
    Unassigned,
    WatcherAdded,
)
from core.routing import Purpose, Target
from core.tickets import LinkKind, Status
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


TARGETS = {"first_response": "first response", "resolution": "resolution"}
AUTO_CLOSED = {
    AutoClosed.NO_REPLY: "no reply came to the question, so it expired",
    AutoClosed.RESOLVED: "it was resolved and nobody wrote since",
    AutoClosed.CLOSE_REQUEST: "nobody answered the request to close it",
}


def event_lines(event: Event, t: TicketView, purpose: Purpose | None,
                desk_name: str = "Helpthread") -> list[str]:
    """What a delivered event says, for a thread or a DM; ``purpose`` None is the
    ticket's history (``/ticket show``). The desk's own changes are signed
    ``desk_name`` (``desk.name``)."""
    who = event.actor.name if event.actor else desk_name
    n = t.number
    match event.payload:
        case Opened(on_behalf=on_behalf):
            if purpose is None:
                return [f"{who} opened #{n}: {t.subject}", f"  {t.description}"]
            if purpose is Purpose.RECEIPT:
                return [
                    f"We have your ticket #{n}: {t.subject}",
                    f"  {t.category_name} · {t.priority} priority. {desk_name} will answer "
                    f"in its thread; first response due {when(t.sla_due)}.",
                    f"  Follow it with /thread {n}; see it with /ticket show {n}.",
                ]
            opener = f" (opened by {who} for {t.requester.name})" if on_behalf else ""
            body = [f"New ticket{opener}:", *card(t), f"  {t.description}"]
            return body + [f"  {f.label}: {f.value}" for f in t.fields]
        case Commented(text=text, attachments=files):
            return [f"{who}: {text}", *attachment_lines(files)]
        case Noted(text=text, attachments=files):
            return [f"{who} (internal note): {text}", *attachment_lines(files)]
        case Claimed(to=to):
            return [f"{who} claimed #{n}; it is {status(to)}."]
        case Assigned(assignee=assignee):
            return [f"{who} assigned #{n} to {assignee}."]
        case Unassigned():
            return [f"{who} handed #{n} back to the queue."]
        case InfoRequested(question=question):
            return [f"{who} needs more information: {question}",
                    f"  #{n} is waiting on the requester; reply in this thread."]
        case Held(reason=reason):
            return [f"{who} put #{n} on hold" + (f": {reason}" if reason else ".")]
        case Resumed(to=to):
            return [f"#{n} is {status(to)} again."]
        case Resolved(note=note):
            return [f"{who} resolved #{n}: {note}"]
        case Closed(why=why) if why is not None:
            return [f"{desk_name} closed #{n}: {AUTO_CLOSED[why]}."]
        case Closed(reason=reason, by_system=by_system):
            closer = desk_name if by_system else who
            return [f"{closer} closed #{n}" + (f": {reason}" if reason else ".")]
        case Reopened(to=to):
            return [f"{who} reopened #{n}; it is {status(to)}."]
        case PriorityChanged(previous=previous, to=to):
            return [f"{who} changed the priority of #{n} from {previous} to {to}."]
        case Escalated(level=level, reason=reason):
            return [f"{who} escalated #{n} (level {level})" + (f": {reason}" if reason else ".")]
        case Linked(link=LinkKind.FOLLOWED_UP_BY, number=other):
            return [f"#{n} continues in follow-up ticket #{other}; write there "
                    f"(/thread {other})."]
        case Linked(link=link, number=other):
            return [f"{who} linked #{n} to #{other} ({link.value})."]
        case WatcherAdded(watcher=watcher):
            return [f"{who} added {watcher} as a watcher of #{n}."]
        case SlaWarning(target=target, due=due):
            return [f"SLA warning: #{n}'s {TARGETS[target]} is due {when(due)}."]
        case SlaBreached(target=target, due=due):
            return [f"SLA breached: #{n} missed its {TARGETS[target]} target (due "
                    f"{when(due)})."]
        case Reminded(closes_at=closes_at):
            return [f"#{n} is still waiting for your answer; it closes {when(closes_at)} "
                    "unless you reply."]
        case CloseRequested(message=message, closes_at=closes_at):
            return [f"{who} asks whether #{n} can be closed" + (f": {message}" if message
                                                               else "."),
                    f"  Yes: /ticket close {n} · No, I still need help: /ticket keep-open "
                    f"{n} (or reply). Without an answer it closes {when(closes_at)}."]
        case CloseDeclined():
            return [f"{who} still needs help with #{n}; it stays open."]
        case Rated(rating=rating, comment=comment, previous=previous):
            changed = f" (was {previous.value})" if previous else ""
            return [f"{who} rated #{n} {rating.value}{changed}"
                    + (f": {comment}" if comment else ".")]
        case unreachable:
            assert_never(unreachable)


def attachment_lines(files: tuple[Attachment, ...]) -> list[str]:
    return [f"  attachment: {f.name} ({f.size if f.size is not None else '?'} bytes) "
            f"{f.url}".rstrip() for f in files]


def details(d: TicketDetails) -> list[str]:
    t = d.ticket
    lines = card(t)
    lines.append(f"  opened {when(t.opened_at)} · from {t.source} · {t.visibility.value}")
    if t.resolution_due and t.resolution_due != t.sla_due \
            and t.status not in (Status.RESOLVED, Status.CLOSED):  # the card said it
        lines.append(f"  resolution due {when(t.resolution_due)}")
    lines.append(f"  description: {t.description}")
    lines += [f"  {f.label}: {f.value}" for f in (*t.fields, *d.sensitive)]
    if t.resolution:
        lines.append(f"  resolution: {t.resolution}")
    for link in t.links:
        lines.append(f"  {link.kind.value.replace('_', ' ')} #{link.number}")
    if t.watchers:
        lines.append("  watchers: " + ", ".join(w.name for w in t.watchers))
    team = f" (team: /thread {t.number} team)" if d.sees_internal else ""
    lines.append(f"  thread: /thread {t.number}{team}")
    lines.append("  conversation:")
    for e in d.events:
        if e.kind is EventKind.OPENED:
            continue
        lines += ["    " + line.strip() for line in event_lines(e, t, Purpose.THREAD)]
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
  /ticket list [open|closed|all] [mine|org] [unread] [page N]
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
Inside a thread the ticket number may be omitted; another ticket is then #N
(/ticket reply 2 weeks is usual, in #1, replies on #1)."""
