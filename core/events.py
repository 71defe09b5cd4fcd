"""What happened: events are the history and the source of every delivery (DESIGN.md).

Each event kind has one frozen payload type (``Commented(text, attachments)``,
``Escalated(level, reason)``…); the ``Payload`` union names them all, so an
adapter's ``match`` over it ending in ``assert_never`` is checked by mypy.
Which fields only agents may read is declared beside each payload
(``INTERNAL_FIELDS``); ``Event.visible_to(audience)`` removes them. Stored as
JSON with the kind (``core.codec``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from core import codec
from core.identity import Person
from core.tickets import LinkKind, Rating, Status, Visibility


class Audience(StrEnum):
    PUBLIC = "public"  # requester, watchers, org (shared), agents: the ticket thread
    INTERNAL = "internal"  # agents only: the team thread


class EventKind(StrEnum):
    OPENED = "opened"
    COMMENTED = "commented"  # public comment or reply
    NOTED = "noted"  # internal note
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    WAITING = "waiting"  # info requested from the requester
    HELD = "held"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    PRIORITY_CHANGED = "priority_changed"
    ESCALATED = "escalated"
    LINKED = "linked"
    WATCHER_ADDED = "watcher_added"
    WATCHER_REMOVED = "watcher_removed"
    VISIBILITY_CHANGED = "visibility_changed"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    REMINDED = "reminded"
    CLOSE_REQUESTED = "close_requested"
    CLOSE_DECLINED = "close_declined"
    RATED = "rated"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file posted with a message: ``size`` in bytes when the platform says, ``url``
    where it can be fetched (Slack permalink, Discord CDN URL)."""

    name: str
    size: int | None = None
    url: str = ""


class _Payload:
    """Base of every payload: ``INTERNAL_FIELDS`` are shown to agents only."""

    __slots__ = ()
    INTERNAL_FIELDS: ClassVar[frozenset[str]] = frozenset()


@dataclass(frozen=True, slots=True)
class PastTicket:
    """A resolved ticket like a new one (deflection, ``core.deflection``), as it was when
    the new ticket opened: its number, subject and resolution note."""

    number: int
    subject: str
    resolution: str


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    """A ``[[faq]]`` entry that matched a new ticket (``core.deflection``)."""

    title: str
    answer: str


@dataclass(frozen=True, slots=True)
class Opened(_Payload):
    """A new ticket. Deflection, computed once when it opened (``core.deflection``):
    ``helpful`` — resolved tickets the requester may see — and ``faq`` for the
    requester's receipt; ``similar`` — any resolved tickets, with their resolution
    notes — for the agents' card only."""

    INTERNAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"similar"})
    on_behalf: bool = False  # an agent opened it for the requester
    helpful: tuple[PastTicket, ...] = ()
    faq: tuple[FaqAnswer, ...] = ()
    similar: tuple[PastTicket, ...] | None = ()


@dataclass(frozen=True, slots=True)
class Commented(_Payload):
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Noted(_Payload):
    """An internal note; the whole event is ``Audience.INTERNAL``."""

    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Claimed(_Payload):
    to: Status


@dataclass(frozen=True, slots=True)
class Assigned(_Payload):
    assignee: str  # the agent's display name then
    to: Status


@dataclass(frozen=True, slots=True)
class Unassigned(_Payload):
    previous: str
    to: Status


@dataclass(frozen=True, slots=True)
class InfoRequested(_Payload):
    """The ticket waits on the requester's answer to ``question`` (public)."""

    question: str
    to: Status = Status.WAITING


@dataclass(frozen=True, slots=True)
class Held(_Payload):
    """Parked on a third party; the reason is the team's business."""

    INTERNAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"reason"})
    reason: str | None
    to: Status = Status.ON_HOLD


@dataclass(frozen=True, slots=True)
class Resumed(_Payload):
    to: Status
    by_reply: bool = False  # the requester's answer to a question resumed it


@dataclass(frozen=True, slots=True)
class Resolved(_Payload):
    note: str
    to: Status = Status.RESOLVED


class AutoClosed(StrEnum):
    """Why the desk closed a ticket by itself (PRODUCT.md §7)."""

    NO_REPLY = "no_reply"  # waiting past lifecycle.waiting_expires_after
    RESOLVED = "resolved"  # resolved for lifecycle.resolved_closes_after
    CLOSE_REQUEST = "close_request"  # a close request nobody answered


@dataclass(frozen=True, slots=True)
class Closed(_Payload):
    reason: str | None = None
    to: Status = Status.CLOSED
    by_system: bool = False  # expiry, auto-close, a close request nobody answered
    why: AutoClosed | None = None  # set when the desk closed it by itself


@dataclass(frozen=True, slots=True)
class Reopened(_Payload):
    to: Status
    by_reply: bool = False


@dataclass(frozen=True, slots=True)
class PriorityChanged(_Payload):
    previous: str
    to: str


@dataclass(frozen=True, slots=True)
class Escalated(_Payload):
    INTERNAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"reason"})
    level: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class Linked(_Payload):
    link: LinkKind
    number: int
    by_reply: bool = False  # a requester's message past the reopen window opened it


@dataclass(frozen=True, slots=True)
class WatcherAdded(_Payload):
    """``watcher`` (their display name or e-mail address then) follows the ticket now:
    ``own`` when they asked themselves (``/ticket watch``), else someone cc'd them;
    ``key`` is their ``UserRef.key`` (a platform adds them to a thread by it)."""

    watcher: str
    key: str = ""
    own: bool = False


@dataclass(frozen=True, slots=True)
class WatcherRemoved(_Payload):
    """``watcher`` no longer follows the ticket (``own``: ``/ticket unwatch``)."""

    watcher: str
    key: str = ""
    own: bool = False


@dataclass(frozen=True, slots=True)
class VisibilityChanged(_Payload):
    """Shared with the requester's organisation, or private again (PRODUCT.md §2)."""

    to: Visibility


@dataclass(frozen=True, slots=True)
class SlaWarning(_Payload):
    """80% of ``target`` (``first_response``/``resolution``) is used; ``due`` (UTC) is
    when it breaches. Agents only (``Audience.INTERNAL``)."""

    target: str
    due: datetime


@dataclass(frozen=True, slots=True)
class SlaBreached(_Payload):
    """``target`` passed its due time ``due`` (UTC) unmet. Agents only."""

    target: str
    due: datetime


@dataclass(frozen=True, slots=True)
class Reminded(_Payload):
    """A ``waiting`` ticket closes at ``closes_at`` (UTC) unless the requester replies."""

    closes_at: datetime


@dataclass(frozen=True, slots=True)
class CloseRequested(_Payload):
    """An agent asks the requester to confirm closing; it closes at ``closes_at`` (UTC)
    without an answer."""

    message: str | None
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class CloseDeclined(_Payload):
    """The requester still needs help: by the button / ``keep-open``, or by replying."""

    by_reply: bool = False


@dataclass(frozen=True, slots=True)
class Rated(_Payload):
    """The requester's satisfaction rating (``previous``: the one it replaced). Agents
    only: never shown in the requester's organisation (PRODUCT.md §7)."""

    rating: Rating
    comment: str | None = None
    previous: Rating | None = None


Payload = (Opened | Commented | Noted | Claimed | Assigned | Unassigned | InfoRequested
           | Held | Resumed | Resolved | Closed | Reopened | PriorityChanged | Escalated
           | Linked | WatcherAdded | WatcherRemoved | VisibilityChanged | SlaWarning
           | SlaBreached | Reminded | CloseRequested | CloseDeclined | Rated)

KIND_OF: dict[type[Any], EventKind] = {
    Opened: EventKind.OPENED, Commented: EventKind.COMMENTED, Noted: EventKind.NOTED,
    Claimed: EventKind.CLAIMED, Assigned: EventKind.ASSIGNED,
    Unassigned: EventKind.UNASSIGNED, InfoRequested: EventKind.WAITING,
    Held: EventKind.HELD, Resumed: EventKind.RESUMED, Resolved: EventKind.RESOLVED,
    Closed: EventKind.CLOSED, Reopened: EventKind.REOPENED,
    PriorityChanged: EventKind.PRIORITY_CHANGED, Escalated: EventKind.ESCALATED,
    Linked: EventKind.LINKED, WatcherAdded: EventKind.WATCHER_ADDED,
    WatcherRemoved: EventKind.WATCHER_REMOVED, VisibilityChanged: EventKind.VISIBILITY_CHANGED,
    SlaWarning: EventKind.SLA_WARNING, SlaBreached: EventKind.SLA_BREACHED,
    Reminded: EventKind.REMINDED, CloseRequested: EventKind.CLOSE_REQUESTED,
    CloseDeclined: EventKind.CLOSE_DECLINED, Rated: EventKind.RATED,
}
PAYLOAD_OF: dict[EventKind, type[Any]] = {kind: cls for cls, kind in KIND_OF.items()}

# Kinds that change what a card shows: cards are updated in place (PRODUCT.md §5);
# cards list the watchers and say whether the ticket is shared.
CARD_CHANGES = frozenset(set(EventKind) - {EventKind.COMMENTED, EventKind.NOTED,
                                           EventKind.LINKED, EventKind.REMINDED})


def payload_text(payload: Payload) -> str | None:
    """The free text a payload carries (comment, question, note, reason), for search."""
    for name in ("text", "question", "note", "reason", "message", "comment"):
        value = getattr(payload, name, None)
        if isinstance(value, str):
            return value
    return None


def payload_to_json(payload: Payload) -> dict[str, Any]:
    data: dict[str, Any] = codec.encode(payload)
    return data


def payload_from_json(kind: EventKind, data: dict[str, Any]) -> Payload:
    """Raises ``TypeError`` for data this version does not understand."""
    payload: Payload = codec.decode(PAYLOAD_OF[kind], data)
    return payload


@dataclass(slots=True)
class Event:
    """One change to one ticket. ``actor`` is None for the desk's own changes (expiry…).
    ``platform`` is where it came from; ``request_key`` makes platform retries idempotent;
    ``origin_binding_id`` is the thread it was typed in (not echoed back there)."""

    ticket_number: int
    payload: Payload
    actor: Person | None
    at: datetime
    platform: str
    audience: Audience = Audience.PUBLIC
    request_key: str | None = None
    origin_binding_id: int | None = None
    id: int | None = None
    kind: EventKind = field(init=False)

    def __post_init__(self) -> None:
        self.kind = KIND_OF[type(self.payload)]

    @property
    def text(self) -> str | None:
        return payload_text(self.payload)

    def visible_to(self, audience: Audience) -> Event:
        """This event as ``audience`` may read it: internal fields of the payload are
        ``None`` for the public."""
        hidden = type(self.payload).INTERNAL_FIELDS
        if audience is Audience.INTERNAL or not hidden:
            return self
        payload = dataclasses.replace(self.payload, **dict.fromkeys(hidden))  # type: ignore[arg-type]
        return dataclasses.replace(self, payload=payload)
