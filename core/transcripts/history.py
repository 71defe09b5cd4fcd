"""What a transcript says, before it is rendered: the history as lines (``Entry``),
the header as facts (``Fact``), and the helpers both renderings share — UTC times,
file sizes, and ``safe_url``, which keeps an attachment's URL only when it is an
absolute ``http``/``https`` URL. All text here is plain; the renderers escape it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, assert_never
from urllib.parse import quote, urlsplit

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
from core.routing import Binding
from core.tickets import Status, Visibility
from core.views import TicketDetails

Style = Literal["message", "note", "system"]
TARGETS = {"first_response": "first response", "resolution": "resolution"}
AUTO_CLOSED = {
    AutoClosed.NO_REPLY: "no answer came to the question, so it expired",
    AutoClosed.RESOLVED: "it was resolved and nobody wrote since",
    AutoClosed.CLOSE_REQUEST: "nobody answered the request to close it",
}
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the history: a ``message`` (comment, the opening description), a
    ``note`` (internal), or a ``system`` line (a status change, an assignment…).
    ``summary`` is what happened, ``body`` the free text it carried, both plain text
    (renderers escape them)."""

    at: datetime
    author: str
    via: str
    style: Style
    summary: str
    body: str | None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Fact:
    """A ``label: value`` pair of the header (plain text)."""

    label: str
    value: str


def status_name(status: Status) -> str:
    """``in_progress`` → ``In progress``."""
    return status.value.replace("_", " ").capitalize()


def iso(at: datetime) -> str:
    """UTC, ISO 8601 to the second: ``2026-12-06T15:56:37Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def safe_url(url: str) -> str | None:
    """``url`` fit for a link, percent-encoding what would break out of Markdown's
    ``(…)`` or look odd in an attribute; None unless it is an absolute ``http``/``https``
    URL with a host and no whitespace or control characters (``javascript:``,
    ``data:``, ``file:`` and the rest are dropped)."""
    if not url or _UNSAFE_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe=":/?#[]@!$&'*+,;=%~")


def size_text(size: int | None) -> str:
    """A file size for people: ``812 bytes``, ``3.4 KB``, ``1.2 MB``; ``size unknown``."""
    if size is None:
        return "size unknown"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def entry(event: Event, number: int, requester: str, desk_name: str) -> Entry:
    """``event`` as one line of the transcript (its payload already cut to the viewer's
    audience: a hidden reason is None here)."""
    who = event.actor.name if event.actor else desk_name
    n = number

    def system(summary: str, body: str | None = None) -> Entry:
        return Entry(event.at, who, event.platform, "system", summary, body)

    match event.payload:
        case Opened(on_behalf=on_behalf):
            opened = f"opened #{n}" + (f" for {requester}" if on_behalf else "")
            return Entry(event.at, who, event.platform, "system", opened, None)
        case Commented(text=text, attachments=files):
            return Entry(event.at, who, event.platform, "message", "", text, files)
        case Noted(text=text, attachments=files):
            return Entry(event.at, who, event.platform, "note", "Internal note", text, files)
        case Claimed(to=to):
            return system(f"claimed #{n} · status: {status_name(to)}")
        case Assigned(assignee=assignee, to=to):
            return system(f"assigned #{n} to {assignee} · status: {status_name(to)}")
        case Unassigned(previous=previous, to=to):
            return system(f"took #{n} from {previous} back to the queue · status: "
                          f"{status_name(to)}")
        case InfoRequested(question=question, to=to):
            return system(f"asked the requester for information · status: "
                          f"{status_name(to)}", question)
        case Held(reason=reason, to=to):
            return system(f"put #{n} on hold · status: {status_name(to)}", reason)
        case Resumed(to=to, by_reply=by_reply):
            how = " (the requester answered)" if by_reply else ""
            return system(f"resumed #{n}{how} · status: {status_name(to)}")
        case Resolved(note=note, to=to):
            return system(f"resolved #{n} · status: {status_name(to)}", note)
        case Closed(reason=reason, to=to, by_system=by_system, why=why):
            because = f": {AUTO_CLOSED[why]}" if why is not None else ""
            return Entry(event.at, desk_name if by_system else who, event.platform, "system",
                         f"closed #{n}{because} · status: {status_name(to)}", reason)
        case Reopened(to=to, by_reply=by_reply):
            how = " by replying" if by_reply else ""
            return system(f"reopened #{n}{how} · status: {status_name(to)}")
        case PriorityChanged(previous=previous, to=to):
            return system(f"changed the priority from {previous} to {to}")
        case Escalated(level=level, reason=reason):
            return system(f"escalated #{n} to level {level}", reason)
        case Linked(link=link, number=other):
            return system(f"linked #{n} to #{other} ({link.words})")
        case WatcherAdded(watcher=watcher, own=True):
            return system(f"started watching #{n}")
        case WatcherAdded(watcher=watcher):
            return system(f"added {watcher} as a watcher")
        case WatcherRemoved(watcher=watcher, own=True):
            return system(f"stopped watching #{n}")
        case WatcherRemoved(watcher=watcher):
            return system(f"removed {watcher} as a watcher")
        case VisibilityChanged(to=to):
            return system(f"shared #{n} with the requester's organisation"
                          if to is Visibility.SHARED else f"made #{n} private")
        case SlaWarning(target=target, due=due):
            return system(f"SLA warning: the {TARGETS.get(target, target)} target is due "
                          f"{iso(due)}")
        case SlaBreached(target=target, due=due):
            return system(f"SLA breached: the {TARGETS.get(target, target)} target was due "
                          f"{iso(due)}")
        case Reminded(closes_at=closes_at):
            return system(f"reminded the requester; #{n} closes {iso(closes_at)} "
                          "without an answer")
        case CloseRequested(message=message, closes_at=closes_at):
            return system(f"asked whether #{n} can be closed (closes {iso(closes_at)} "
                          "without an answer)", message)
        case CloseDeclined(by_reply=by_reply):
            how = " by replying" if by_reply else ""
            return system(f"still needs help{how}; #{n} stays open")
        case Rated(rating=rating, comment=comment, previous=previous):
            was = f" (was {previous.value})" if previous else ""
            return system(f"rated #{n} {rating.value}{was}", comment)
        case unreachable:
            assert_never(unreachable)


def entries(details: TicketDetails, desk_name: str) -> list[Entry]:
    """The history as transcript lines, oldest first; the opening carries the
    description as the requester's first message."""
    t = details.ticket
    lines: list[Entry] = []
    for event in sorted(details.events, key=lambda e: (e.at, e.id or 0)):
        line = entry(event, t.number, t.requester.name, desk_name)
        lines.append(line)
        if isinstance(event.payload, Opened):
            lines.append(Entry(event.at, t.requester.name, event.platform, "message", "",
                               t.description))
    return lines


def _threads(bindings: tuple[Binding, ...]) -> str:
    names = sorted({f"{b.platform.capitalize()} "
                    f"{'team' if b.audience.value == 'internal' else 'ticket'} thread"
                    for b in bindings if b.thread})
    return ", ".join(names)


def facts(details: TicketDetails, generated_at: datetime) -> list[Fact]:
    """The header: status, priority, people, times (UTC), fields a viewer may read
    (never sensitive ones), links, watchers, where it lives."""
    t = details.ticket
    found: list[Fact] = [
        Fact("Status", status_name(t.status)),
        Fact("Priority", t.priority),
        Fact("Category", t.category_name),
        Fact("Requester", t.requester.name),
        Fact("Assignee", t.assignee.name if t.assignee else "unassigned"),
        Fact("Opened", iso(t.opened_at)),
    ]
    for kind, label in ((Resolved, "Resolved"), (Closed, "Closed")):
        last = [e.at for e in details.events if isinstance(e.payload, kind)]
        if last and (t.status in (Status.RESOLVED, Status.CLOSED)):
            found.append(Fact(label, iso(max(last))))
    found.append(Fact("Visibility", t.visibility.value))
    if t.account:
        found.append(Fact("Account", t.account))
    found += [Fact(f.label, f.value) for f in t.fields]
    if t.escalation_level:
        found.append(Fact("Escalation level", str(t.escalation_level)))
    if t.watchers:
        found.append(Fact("Watchers", ", ".join(w.name for w in t.watchers)))
    if t.links:
        found.append(Fact("Links", ", ".join(f"{link.kind.words} "
                                             f"#{link.number}" for link in t.links)))
    if t.resolution:
        found.append(Fact("Resolution", t.resolution))
    if t.rating is not None:  # agents only (the view leaves it out for others)
        found.append(Fact("Rating", t.rating.value + (f": {t.rating_comment}"
                                                      if t.rating_comment else "")))
    threads = _threads(details.bindings)
    if threads:
        found.append(Fact("Threads", threads))
    found.append(Fact("Source", t.source))
    found.append(Fact("Transcript made", iso(generated_at)))
    return found
