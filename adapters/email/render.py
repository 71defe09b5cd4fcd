"""What each e-mail says: one ``match`` over the event payloads, ending in ``assert_never``.

A mail is a list of blocks — the desk's own sentences (``str``) and what a person
wrote (``Quote``) — rendered twice: as plain text, and as HTML where every block is
escaped (``html.escape``), so nothing a requester or agent typed becomes markup, a
link or a script in the recipient's mail client. Times are absolute, in UTC: mail is
read later than it is sent, so "in 3 hours" would lie.

E-mail only ever carries what the public may read (``core.routing`` plans no e-mail
for internal events); a payload that is agents-only — an internal note, an SLA notice,
a rating — raises ``NotForEmail`` instead of being rendered.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from core.events import (
    Assigned,
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
from core.routing import Purpose
from core.tickets import LinkKind, Status, Visibility
from core.views import TicketView

STATUS_WORDS = {
    Status.OPEN: "open",
    Status.IN_PROGRESS: "in progress",
    Status.WAITING: "waiting for your answer",
    Status.ON_HOLD: "on hold",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
}
AUTO_CLOSED = {
    AutoClosed.NO_REPLY: "no answer came to our question, so it expired",
    AutoClosed.RESOLVED: "it was resolved and nobody wrote since",
    AutoClosed.CLOSE_REQUEST: "nobody answered our request to close it",
}
NOTE_MAX = 300  # characters of a resolution note in a receipt's "These may help"
ANSWER_MAX = 600  # characters of an FAQ answer there


class NotForEmail(Exception):
    """The event is agents-only and never goes out by e-mail."""


@dataclass(frozen=True, slots=True)
class Quote:
    """What a person wrote, shown apart from the desk's words."""

    text: str


Block = str | Quote


@dataclass(frozen=True, slots=True)
class Mail:
    """One rendered e-mail: ``subject`` (``[#N] …``), the ``text`` and ``html`` parts,
    and whether it is an automatic notice (``Auto-Submitted: auto-generated``)."""

    subject: str
    text: str
    html: str
    automatic: bool


def subject(t: TicketView) -> str:
    """``[#1042] Charged twice``: the tag replies are matched by (with the token)."""
    return f"[#{t.number}] {t.subject}"


def stamp(moment: datetime) -> str:
    """``2026-01-05 17:00 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def status(value: Status | str) -> str:
    return STATUS_WORDS[Status(value)]


def render(event: Event, t: TicketView, purpose: Purpose, *, desk_name: str,
           to_requester: bool) -> Mail:
    """The mail telling ``event`` about ticket ``t`` (as the public sees it) to one
    recipient: the requester (``to_requester``) or a watcher. Raises ``NotForEmail``
    for an agents-only payload."""
    blocks = body(event, t, purpose, desk_name=desk_name, to_requester=to_requester)
    footer = [f"Reply to this message to write to the team about #{t.number}; "
              "keep the subject as it is.", f"— {desk_name}"]
    # the desk's own words: a receipt or "copied on" notice, what the desk did by itself
    automatic = purpose is Purpose.RECEIPT or event.kind is EventKind.OPENED \
        or event.actor is None
    return Mail(subject(t), as_text(blocks, footer), as_html(blocks, footer, t), automatic)


def body(event: Event, t: TicketView, purpose: Purpose, *, desk_name: str,
         to_requester: bool) -> list[Block]:
    """The blocks that tell ``event``."""
    who = event.actor.name if event.actor else desk_name
    n = t.number
    match event.payload:
        case Opened(on_behalf=on_behalf) as opened:
            if purpose is Purpose.RECEIPT:
                return [f"We have your ticket #{n}: {t.subject}",
                        f"{t.category_name} · {t.priority} priority. The team answers "
                        "by e-mail; the first answer is due by "
                        f"{stamp(t.sla_due) if t.sla_due else 'soon'}.",
                        *([t.back_text] if t.back_text else []),
                        "What you wrote:", Quote(t.description),
                        *(helpful(opened) if to_requester else [])]
            opener = f"{who} opened #{n} for {t.requester.name}" if on_behalf \
                else f"{t.requester.name} opened #{n}"
            return [f"{opener} and copied you on it: {t.subject}", Quote(t.description)]
        case Commented(text=text, attachments=files):
            return [f"{who} wrote:", Quote(text),
                    *[f"Attachment: {f.name}" + (f" ({f.size} bytes)" if f.size is not None
                                                 else "") + (f" {f.url}" if f.url else "")
                      for f in files]]
        case Noted():
            raise NotForEmail("an internal note never goes out by e-mail")
        case Claimed(to=to):
            return [f"{who} is handling #{n}; it is {status(to)}."]
        case Assigned(assignee=assignee):
            return [f"{assignee} is now handling #{n}."]
        case Unassigned():
            return [f"#{n} is back in the team's queue; the next agent free takes it."]
        case InfoRequested(question=question):
            return [f"{who} needs more information about #{n}:", Quote(question),
                    "Reply to this message to answer; the ticket waits for your reply."
                    if to_requester else f"#{n} waits for {t.requester.name}'s answer."]
        case Held():
            return [f"#{n} is on hold while we wait on someone outside the team."]
        case Resumed(to=to):
            return [f"#{n} is {status(to)} again."]
        case Resolved(note=note):
            if not to_requester:  # a watcher's reply to a resolved ticket is refused
                return [f"{who} resolved #{n}:", Quote(note),
                        f"If it is not solved, {t.requester.name} can reply to reopen it."]
            return [f"{who} resolved #{n}:", Quote(note),
                    "If it is not solved, reply to this message and the ticket reopens.",
                    "How did we do? Reply with “good” or “bad”, and a few words if you "
                    "like: the team reads every answer."]
        case Closed(why=why) if why is not None:
            return [f"{desk_name} closed #{n}: {AUTO_CLOSED[why]}."]
        case Closed(reason=reason, by_system=by_system):
            closer = desk_name if by_system else who
            return [f"{closer} closed #{n}" + (":" if reason else "."),
                    *([Quote(reason)] if reason else [])]
        case Reopened(to=to):
            return [f"{who} reopened #{n}; it is {status(to)}."]
        case PriorityChanged(previous=previous, to=to):
            return [f"{who} changed the priority of #{n} from {previous} to {to}."]
        case Escalated(level=level):
            return [f"{who} escalated #{n} (level {level})."]
        case Linked(link=LinkKind.FOLLOWED_UP_BY, number=other):
            return [f"#{n} continues in the follow-up ticket #{other}; its mail comes "
                    f"under [#{other}]."]
        case Linked(link=link, number=other):
            return [f"{who} linked #{n} to #{other} ({link.words})."]
        case WatcherAdded(watcher=watcher, own=True):
            return [f"{watcher} follows #{n} now: {t.subject}"]
        case WatcherAdded(watcher=watcher):
            return [f"{who} added {watcher} as a watcher of #{n}: {t.subject}"]
        case WatcherRemoved(watcher=watcher):
            return [f"{watcher} no longer follows #{n}."]
        case VisibilityChanged(to=to):
            return [f"{who} shared #{n} with {t.requester.name}'s organisation: its members "
                    "can see it and write on it." if to is Visibility.SHARED
                    else f"{who} made #{n} private: only {t.requester.name}, its watchers "
                    "and the team see it."]
        case SlaWarning() | SlaBreached() | Rated():
            raise NotForEmail(f"{event.kind.value} is for the team only")
        case Reminded(closes_at=closes_at):
            whose = "your" if to_requester else f"{t.requester.name}'s"
            return [f"Reminder: #{n} is still waiting for {whose} answer. It closes on "
                    f"{stamp(closes_at)} without a reply."]
        case CloseRequested(message=message, closes_at=closes_at):
            return [f"{who} asks whether #{n} can be closed" + (":" if message else "."),
                    *([Quote(message)] if message else []),
                    f"If you still need help, reply to this message. Otherwise there is "
                    f"nothing to do: it closes on {stamp(closes_at)}."]
        case CloseDeclined():
            return [f"{who} still needs help with #{n}; it stays open."]
        case unreachable:
            assert_never(unreachable)


def _flat(text: str, limit: int) -> str:
    """``text`` on one line, cut visibly (``…``) after ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def helpful(opened: Opened) -> list[Block]:
    """The receipt's "These may help" (``core.deflection``): the requester's similar
    resolved tickets with their resolution notes and the ``[[faq]]`` entries that
    matched, each cut at ``NOTE_MAX``/``ANSWER_MAX`` characters; nothing when none did."""
    if not opened.helpful and not opened.faq:
        return []
    lines = [f"#{p.number} {p.subject} — resolved: {_flat(p.resolution, NOTE_MAX)}"
             for p in opened.helpful]
    lines += [f"FAQ: {f.title} — {_flat(f.answer, ANSWER_MAX)}" for f in opened.faq]
    return ["These may help:", Quote("\n".join(lines)),
            "If one of these answers your question, reply to say so; otherwise the team "
            "answers by e-mail."]


def as_text(blocks: list[Block], footer: list[str]) -> str:
    """The plain-text part: blocks as paragraphs, a person's words indented."""
    out = []
    for block in blocks:
        if isinstance(block, Quote):
            out.append("\n".join(f"    {line}" if line else "" for line in
                                 block.text.splitlines() or [""]))
        else:
            out.append(block)
    return "\n\n".join([*out, *footer]) + "\n"


def as_html(blocks: list[Block], footer: list[str], t: TicketView) -> str:
    """The HTML part: every block escaped; a person's words in a ``blockquote``."""
    parts = []
    for block in blocks:
        if isinstance(block, Quote):
            parts.append('<blockquote style="margin:0 0 1em;padding-left:1em;'
                         f'border-left:3px solid #ccc">{_lines(block.text)}</blockquote>')
        else:
            parts.append(f"<p>{_lines(block)}</p>")
    small = "".join(f"<p>{_lines(line)}</p>" for line in footer)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(subject(t))}</title></head>\n"
            f"<body style=\"font-family:sans-serif\">\n{''.join(parts)}\n"
            f"<div style=\"color:#666;font-size:small\">{small}</div>\n</body></html>\n")


def _lines(text: str) -> str:
    return "<br>\n".join(html.escape(line) for line in text.splitlines())
