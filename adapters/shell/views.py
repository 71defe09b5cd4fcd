"""Every line the shell platform prints: cards, thread messages, DMs, answers.

Tickets are always referred to as ``#<number>``. Times are shown in UTC and,
relative to now, rounded the same way for due times and time left ("in 8 hours",
``core.durations.spoken``).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import assert_never

from core.characters import BIDI_CONTROLS as BIDI
from core.durations import spoken
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
    VisibilityChanged,
    WatcherAdded,
    WatcherRemoved,
)
from core.grammar import ListTickets, Queue, Search
from core.policy import Action
from core.routing import Purpose, Target
from core.tickets import DONE, LinkKind, Status, Visibility
from core.views import Listed, Page, TicketDetails, TicketView

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


def relative(moment: datetime, now: datetime | None = None) -> str:
    """``in 8 hours`` / ``2 days ago`` / ``now`` (``core.durations.spoken``: rounded to
    the minute, or to the second within a minute of ``now``; UTC, default the real
    time)."""
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    seconds = round(seconds) if abs(seconds) < 60 else round(seconds / 60) * 60
    if seconds == 0:
        return "now"
    said = spoken(timedelta(seconds=seconds))
    return f"in {said}" if seconds > 0 else f"{said} ago"


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """``2026-01-05 17:00 UTC (in 8 hours)``; ``—`` for None."""
    if moment is None:
        return "—"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({relative(moment, now)})"


def span(left: timedelta) -> str:
    """A duration as ``relative`` says one (``core.durations.spoken``): ``4 hours``,
    ``1 day 23 hours``, ``3 seconds``."""
    return spoken(max(left, timedelta(0)))


def status(value: Status | str) -> str:
    return STATUS_WORDS[Status(value)]


def card(t: TicketView, *, team: bool = True, now: datetime | None = None) -> list[str]:
    """The ticket card: number, subject, category, priority, status, people, the SLA
    clocks, when the desk closes it by itself, a pending close request and — on the
    ``team`` side, where the view carries it — the requester's rating. Breaches are
    marked for the team only (PRODUCT.md §7: never shown to the requester)."""
    assignee = t.assignee.name if t.assignee else "nobody yet"
    lines = [
        f"#{t.number} {t.subject}",
        f"  {t.category_name} · {t.priority} priority · {status(t.status)}"
        + (f" · escalation level {t.escalation_level}" if t.escalation_level else ""),
        f"  requester {t.requester.name} · assignee {assignee}"
        + (f" · account {t.account}" if t.account else ""),
    ]
    lines += [f"  SLA {line}" for line in clock_lines(t, team=team, now=now)]
    if t.closes_at is not None:
        lines.append(f"  closes {relative(t.closes_at, now)} "
                     f"({t.closes_at:%Y-%m-%d %H:%M} UTC){CLOSES_UNLESS[t.status]}")
    if t.close_requested:
        lines.append(f"  close requested: waiting for {t.requester.name} to confirm")
    if t.rating is not None:
        lines.append(f"  rated {t.rating.value} by {t.requester.name}"
                     + (f": {t.rating_comment}" if t.rating_comment else ""))
    if t.visibility is Visibility.SHARED:
        lines.append(f"  shared with {t.requester.name}'s organisation")
    if t.watchers:
        lines.append("  watchers: " + ", ".join(w.name for w in t.watchers))
    return lines


CLOSES_UNLESS = {
    Status.WAITING: " unless the requester replies",
    Status.RESOLVED: " unless it is reopened",
    Status.OPEN: " unless the requester answers",
    Status.IN_PROGRESS: " unless the requester answers",
    Status.ON_HOLD: "",
    Status.CLOSED: "",
}


def clock_lines(t: TicketView, *, team: bool = True, now: datetime | None = None
                ) -> list[str]:
    """One line per SLA clock with something to say: ``first response due … (in 3
    hours)``, ``resolution paused while waiting on the requester, 5 hours left``,
    ``first response met``; a target missed is ``BREACHED`` for the ``team`` and
    ``overdue`` for the requester, with when it was due."""
    if not t.clocks:  # a view made without its clocks: the next due time, as before
        return [f"due {when(t.sla_due, now)}"] if t.sla_due else []
    lines = []
    for clock in t.clocks:
        name = TARGETS[clock.target]
        late = clock.breached and not clock.met
        if clock.met:
            lines.append(f"{name} met{' late' if team and clock.breached else ''}")
        elif clock.paused:
            left = f", {span(clock.left)} left" if clock.left > timedelta(0) else ""
            mark = " (BREACHED)" if team and late else ""
            lines.append(f"{name} paused while {status(t.status)}{left}{mark}")
        elif t.status in DONE:  # over: nothing is due or overdue any more
            if team and late:
                lines.append(f"{name} BREACHED, never met")
        elif late:
            was = f", was due {when(clock.due, now)}" if clock.due else ""
            lines.append(f"{name} BREACHED, not met yet{was}" if team
                         else f"{name} overdue{was}")
        elif clock.due is not None:
            risk = " (at risk)" if team and clock.warned else ""
            lines.append(f"{name} due {when(clock.due, now)}{risk}")
    return lines


def where(target: Target, number: int, audience_public: bool, recipient: str | None,
          purpose: Purpose | None = None) -> str:
    """Where a delivery is printed: ``[#1 ticket thread]``, ``[#1 team thread]``,
    ``[team channel]`` (SLA notices), ``[escalation channel]``, ``[DM to lena]``."""
    if target is Target.BINDING:
        return f"[#{number} {'ticket' if audience_public else 'team'} thread]"
    if target is Target.CHANNEL:
        return "[team channel]" if purpose is Purpose.SLA else "[escalation channel]"
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
    ``desk_name`` (``desk.name``). A text of several lines (a comment, a description)
    keeps them, each indented under the line it began on."""
    return hanging(_event_lines(event, t, purpose, desk_name))


def hanging(lines: list[str], deeper: int = 2) -> list[str]:
    """``lines`` with each embedded line break made a line of its own, indented
    ``deeper`` spaces more than the line it belongs to (a blank one left blank)."""
    out: list[str] = []
    for line in lines:
        first, *more = line.split("\n")
        out.append(first)
        indent = " " * (len(first) - len(first.lstrip(" ")) + deeper)
        out.extend(indent + rest if rest else "" for rest in more)
    return out


def _event_lines(event: Event, t: TicketView, purpose: Purpose | None,
                 desk_name: str) -> list[str]:
    who = event.actor.name if event.actor else desk_name
    n = t.number
    match event.payload:
        case Opened(on_behalf=on_behalf) as opened:
            if purpose is None:
                return [f"{who} opened #{n}: {t.subject}", f"  {t.description}"]
            if purpose is Purpose.RECEIPT:
                return [
                    f"We have your ticket #{n}: {t.subject}",
                    f"  {t.category_name} · {t.priority} priority. {desk_name} will answer "
                    f"in its thread; first response due {when(t.sla_due)}.",
                    *([f"  {t.back_text}"] if t.back_text else []),
                    f"  Follow it with /thread {n}; see it with /ticket show {n}.",
                    *helpful_lines(opened, n),
                ]
            opener = f" (opened by {who} for {t.requester.name})" if on_behalf else ""
            body = [f"New ticket{opener}:", *card(t), f"  {t.description}"]
            return body + [f"  {f.label}: {f.value}" for f in t.fields] + similar_lines(opened)
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
            return [f"{who} linked #{n} to #{other} ({link.words})."]
        case WatcherAdded(own=True):
            return [f"{who} is watching #{n}."]
        case WatcherAdded(watcher=watcher):
            return [f"{who} added {watcher} as a watcher of #{n}."]
        case WatcherRemoved(own=True):
            return [f"{who} stopped watching #{n}."]
        case WatcherRemoved(watcher=watcher):
            return [f"{who} removed {watcher} as a watcher of #{n}."]
        case VisibilityChanged(to=Visibility.SHARED):
            return [f"{who} shared #{n} with {t.requester.name}'s organisation."]
        case VisibilityChanged():
            return [f"{who} made #{n} private: only its requester, watchers and agents "
                    "see it."]
        case SlaWarning(target=target, due=due):
            return [f"SLA warning: #{n}'s {TARGETS[target]} is due {when(due)}."]
        case SlaBreached(target=target, due=due):
            return [f"SLA breached: #{n} missed its {TARGETS[target]} target (due "
                    f"{when(due)})."]
        case Reminded(closes_at=closes_at):
            return [f"Reminder: #{n} is still waiting for {t.requester.name}'s answer; it "
                    f"closes {when(closes_at)} without a reply."]
        case CloseRequested(message=message, closes_at=closes_at):
            return [f"{who} asks whether #{n} can be closed" + (f": {message}" if message
                                                               else "."),
                    f"  Without an answer it closes {when(closes_at)}."]
        case CloseDeclined():
            return [f"{who} still needs help with #{n}; it stays open."]
        case Rated(rating=rating, comment=comment, previous=previous):
            changed = f" (was {previous.value})" if previous else ""
            return [f"{who} rated #{n} {rating.value}{changed}"
                    + (f": {comment}" if comment else ".")]
        case unreachable:
            assert_never(unreachable)


def _flat(text: str) -> str:
    """Text on one line (an FAQ answer or a resolution note may have several)."""
    return " ".join(text.split())


def helpful_lines(opened: Opened, number: int) -> list[str]:
    """The receipt's "These may help": the requester's similar resolved tickets and the
    ``[[faq]]`` entries that matched (``core.deflection``); nothing when none did."""
    if not opened.helpful and not opened.faq:
        return []
    lines = ["  These may help:"]
    lines += [f"    #{p.number} {p.subject} (resolved: {_flat(p.resolution)})"
              for p in opened.helpful]
    lines += [f"    FAQ: {f.title} — {_flat(f.answer)}" for f in opened.faq]
    lines.append(f"  If one answers it, close yours with /ticket close {number}; "
                 "otherwise an agent will answer.")
    return lines


def similar_lines(opened: Opened) -> list[str]:
    """The team card's similar past tickets with their resolution notes (agents only:
    a public copy of the event carries none)."""
    if not opened.similar:
        return []
    return ["  Similar past tickets:"] + [
        f"    #{p.number} {p.subject} — resolution: {_flat(p.resolution)}"
        for p in opened.similar]


def attachment_lines(files: tuple[Attachment, ...]) -> list[str]:
    return [f"  attachment: {f.name} ({f.size if f.size is not None else '?'} bytes) "
            f"{f.url}".rstrip() for f in files]


def answer_hints(event: Event, t: TicketView) -> list[str]:
    """How the requester answers what ``event`` asks of them, where ``t`` (the ticket as
    they see it now) still allows it: a close request (close / keep open / reply) and a
    resolution (a rating). Printed under public deliveries only."""
    n = t.number
    if event.kind is EventKind.CLOSE_REQUESTED and Action.KEEP_OPEN in t.actions:
        return [f"  Yes, close it: /ticket close {n} · No, I still need help: "
                f"/ticket keep-open {n} (or reply in the thread)."]
    if event.kind is EventKind.REMINDED and t.status is Status.WAITING:
        return [f"  Reply in its thread (/thread {n}) to keep it open."]
    if event.kind is EventKind.RESOLVED and Action.RATE in t.actions:
        return [f"  How did we do? /ticket rate {n} good|bad [comment]"]
    return []


def channel_notice(event: Event, t: TicketView, purpose: Purpose, mention: str,
                   desk_name: str = "Helpthread") -> list[str]:
    """A channel's own message: an SLA warning or breach in the team channel mentioning
    who must act (the assignee, else the agents' group), or an escalation in the
    escalation channel mentioning the escalation group. ``mention`` is that name."""
    said = event_lines(event, t, purpose, desk_name)
    assignee = t.assignee.name if t.assignee else "unassigned"
    return [f"@{mention} {said[0]}", *said[1:],
            f"  #{t.number} {t.subject} · {t.priority} priority · {status(t.status)} · "
            f"{assignee} · /thread {t.number} team"]


def details(d: TicketDetails, now: datetime | None = None) -> list[str]:
    """``/ticket show``: the card, the ticket's particulars, what it asks of its requester
    (theirs to see) and its history; relative times from ``now`` (UTC)."""
    t = d.ticket
    lines = card(t, team=d.sees_internal, now=now)
    lines.append(f"  opened {when(t.opened_at, now)} · from {t.source} · {t.visibility.value}")
    if t.back_text:
        lines.append(f"  {t.back_text}")
    lines.append(f"  description: {t.description}")
    lines += [f"  {f.label}: {f.value}" for f in (*t.fields, *d.sensitive)]
    if t.resolution:
        lines.append(f"  resolution: {t.resolution}")
    for link in t.links:
        lines.append(f"  {link.kind.words} #{link.number}")
    if not d.sees_internal:
        lines += _requester_choices(t)
    team = f" (team: /thread {t.number} team)" if d.sees_internal else ""
    lines.append(f"  thread: /thread {t.number}{team}")
    lines.append("  conversation:")
    for e in d.events:
        if e.kind is EventKind.OPENED:
            continue
        lines += ["    " + line.strip()
                  for line in _event_lines(e, t, Purpose.THREAD, "Helpthread")]
    return hanging(lines)  # a description or comment of several lines, under its start


def _requester_choices(t: TicketView) -> list[str]:
    """What the ticket asks of its requester now, as core allows it (``t.actions``)."""
    n = t.number
    lines = []
    if Action.KEEP_OPEN in t.actions:
        lines.append(f"  close requested: /ticket close {n} to close it, /ticket keep-open "
                     f"{n} (or a reply) if you still need help")
    if Action.RATE in t.actions:
        lines.append(f"  rate it: /ticket rate {n} good|bad [comment]")
    if Action.ESCALATE in t.actions:
        lines.append(f"  no answer in time: you may escalate it (/ticket escalate {n} "
                     "reason)")
    return lines


def more(page: Page, request: ListTickets | Queue | Search) -> list[str]:
    """Under a page of a list that goes on: the command for the next page."""
    return [f"More: /ticket {request.words(page.number + 1)}"] if page.more else []


def listing(items: list[Listed], empty: str, *, team: bool = True,
            now: datetime | None = None) -> list[str]:
    """``/ticket list``/``search``/``queue``: a line per ticket with its SLA state — for
    the ``team`` breaches marked — when it closes by itself, and (agents) its rating."""
    if not items:
        return [empty]
    lines = []
    for item in items:
        lines.append(
            f"{'•' if item.unread else ' '} #{item.ticket.number} "
            f"[{status(item.ticket.status)}] {item.ticket.subject} — {item.ticket.priority}, "
            f"{item.ticket.assignee.name if item.ticket.assignee else 'unassigned'}"
            + "".join(f", {part}" for part in _brief(item.ticket, team, now)))
        if item.snippet:  # a search hit: the words around the match
            lines.append(f"      {item.snippet}")
    return lines


def _brief(t: TicketView, team: bool, now: datetime | None) -> list[str]:
    parts = []
    if team and t.breached:
        parts.append("SLA BREACHED: " + " and ".join(TARGETS[b] for b in t.breached))
    elif t.status not in DONE and any(c.breached and not c.met for c in t.clocks):
        parts.append("SLA overdue")
    running = [c for c in t.clocks if c.due and not (c.met or c.breached or c.paused)
               and t.status not in DONE]
    if t.paused and any(not c.met for c in t.clocks):
        parts.append("SLA paused")
    elif running:
        soonest = min(running, key=lambda c: c.due or datetime.max.replace(tzinfo=UTC))
        risk = " (at risk)" if team and soonest.warned else ""
        parts.append(f"{TARGETS[soonest.target]} due {when(soonest.due, now)}{risk}")
    elif not t.clocks and t.sla_due:
        parts.append(f"SLA due {when(t.sla_due, now)}")
    if t.closes_at is not None:
        parts.append(f"closes {relative(t.closes_at, now)}")
    if t.close_requested:
        parts.append("close requested")
    if t.rating is not None:
        parts.append(f"rated {t.rating.value}")
    return parts
