"""The ticket entity, its statuses and its life cycle — pure, no I/O (PRODUCT.md §2–3).

Every transition function checks the current state, changes the ticket in place
and returns nothing; an illegal change raises ``InvalidTransition`` saying why.
Who may do it is ``core.policy``'s business, checked before these run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from operator import attrgetter

from core.characters import trim
from core.errors import InvalidTransition, Unchanged
from core.identity import Person

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
RESOLUTION_NOTE_MIN = 6  # PRODUCT.md §3: "resolution note ≥ 6 characters"


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


# A ticket "counts as open" in these four (issue 2, point 9; `/ticket list open`).
ACTIVE = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.WAITING, Status.ON_HOLD})
DONE = frozenset({Status.RESOLVED, Status.CLOSED})


class Visibility(StrEnum):
    PRIVATE = "private"
    SHARED = "shared"


class LinkKind(StrEnum):
    RELATED = "related"
    DUPLICATE_OF = "duplicate_of"
    FOLLOW_UP_OF = "follow_up_of"
    FOLLOWED_UP_BY = "followed_up_by"

    @property
    def words(self) -> str:
        """The kind as people read it ("duplicate of", "follow-up of"): what notices,
        refusals and views show, never the stored key (``duplicate_of``)."""
        return _LINK_WORDS[self]


_LINK_WORDS = {LinkKind.RELATED: "related", LinkKind.DUPLICATE_OF: "duplicate of",
               LinkKind.FOLLOW_UP_OF: "follow-up of", LinkKind.FOLLOWED_UP_BY: "followed up by"}


@dataclass(frozen=True, slots=True)
class Link:
    kind: LinkKind
    number: int


class Rating(StrEnum):
    GOOD = "good"
    BAD = "bad"


@dataclass(slots=True)
class SlaClock:
    """Where a ticket's service-level clocks stand (PRODUCT.md §7), kept by ``core.sla``.

    Both clocks run while the ticket is ``open`` or ``in_progress``: ``running_since``
    (UTC) is when they last started, None while paused or stopped; ``*_used`` is the
    business time in seconds counted before that. ``cycle`` counts resolution cycles (a
    reopen starts the next; the first-response clock does not restart). ``warned`` and
    ``breached`` name the targets (``first_response``, ``resolution``) warned of or
    breached in this cycle (a first-response breach stays); ``breaches`` counts every
    breach ever recorded and ``requester_escalations`` the requester's escalations, one
    allowed per breach. ``status_since`` is when the ticket entered its status (UTC);
    ``*_deadline`` the instant a target's time ran out, once it has."""

    running_since: datetime | None = None
    first_response_used: float = 0.0
    resolution_used: float = 0.0
    cycle: int = 1
    warned: tuple[str, ...] = ()
    breached: tuple[str, ...] = ()
    breaches: int = 0
    requester_escalations: int = 0
    status_since: datetime | None = None
    # When a target was missed (UTC), kept once its time is used up: what "was due" shows.
    first_response_deadline: datetime | None = None
    resolution_deadline: datetime | None = None


@dataclass(slots=True)
class Ticket:
    """One ticket. Times are timezone-aware UTC; ``fields`` holds the category's extra
    fields by key, sensitive ones included (views strip them, see ``core.views``)."""

    number: int
    subject: str
    description: str
    category: str
    priority: str
    requester: Person
    opened_at: datetime
    source: str
    status: Status = Status.OPEN
    fields: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    visibility: Visibility = Visibility.PRIVATE
    assignee: Person | None = None
    watchers: list[Person] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    locale: str | None = None
    escalation_level: int = 0
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    last_activity_at: datetime | None = None
    public_activity_at: datetime | None = None  # the newest public event (not notes)
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    resolution: str | None = None
    sla: SlaClock = field(default_factory=SlaClock)
    close_requested_at: datetime | None = None  # an agent asked the requester (§7)
    rating: Rating | None = None  # the requester's satisfaction with this resolution
    rating_comment: str | None = None

    def ended_at(self) -> datetime | None:
        """When it stopped being worked on: resolved, or closed without a resolution."""
        return self.resolved_at or self.closed_at

    def copy(self) -> Ticket:
        """A copy a transition may change without touching this ticket: its containers
        (``fields``, ``watchers``, ``links``, ``sla``) are new, their items — frozen
        values — shared. What ``copy.deepcopy`` gives, at a hundredth of the cost (a card's
        actions try a dozen transitions, each on a copy: ``core.capabilities``)."""
        new = Ticket(*_TICKET_VALUES(self))
        new.fields, new.watchers, new.links = (
            dict(self.fields), list(self.watchers), list(self.links))
        new.sla = SlaClock(*_SLA_VALUES(self.sla))
        return new


# Every field's value, in the order the constructors take them.
_TICKET_VALUES = attrgetter(*(f.name for f in fields(Ticket)))
_SLA_VALUES = attrgetter(*(f.name for f in fields(SlaClock)))


def require_status(ticket: Ticket, allowed: frozenset[Status], doing: str) -> None:
    """Raises ``InvalidTransition`` unless the ticket is in one of ``allowed``."""
    if ticket.status not in allowed:
        raise InvalidTransition(
            f"#{ticket.number} is {ticket.status.value.replace('_', ' ')}; it cannot be {doing}"
        )


def require_not_closed(ticket: Ticket) -> None:
    """A closed ticket is the record of a finished conversation (Zendesk refuses updates
    to closed tickets): no public reply, no watcher added or removed, no change of who
    sees it, until it is reopened. Internal notes stay allowed; a requester's message
    reopens it or opens a follow-up instead. Raises ``InvalidTransition``."""
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"#{ticket.number} is closed; reopen it first: "
                                f"/ticket reopen {ticket.number}")


def claim(ticket: Ticket, agent: Person) -> None:
    """Take an unassigned active ticket; ``open`` becomes ``in_progress``."""
    require_status(ticket, ACTIVE, "claimed")
    if ticket.assignee is not None:
        if ticket.assignee.ref == agent.ref:
            raise InvalidTransition(f"#{ticket.number} is already yours")
        raise InvalidTransition(f"#{ticket.number} is already claimed by {ticket.assignee.name}")
    assign(ticket, agent)


def assign(ticket: Ticket, agent: Person) -> None:
    """Give the ticket to ``agent``; ``open`` becomes ``in_progress``."""
    require_status(ticket, ACTIVE, "assigned")
    if ticket.assignee is not None and ticket.assignee.ref == agent.ref:
        raise InvalidTransition(f"#{ticket.number} is already assigned to {agent.name}")
    ticket.assignee = agent
    if ticket.status is Status.OPEN:
        ticket.status = Status.IN_PROGRESS


def unassign(ticket: Ticket) -> Person:
    """Hand the ticket back to the queue; ``in_progress`` becomes ``open``."""
    require_status(ticket, ACTIVE, "unassigned")
    if ticket.assignee is None:
        raise InvalidTransition(f"#{ticket.number} is not assigned to anyone")
    previous = ticket.assignee
    ticket.assignee = None
    if ticket.status is Status.IN_PROGRESS:
        ticket.status = Status.OPEN
    return previous


def _take_if_unassigned(ticket: Ticket, agent: Person) -> None:
    if ticket.assignee is None:
        ticket.assignee = agent


def request_info(ticket: Ticket, agent: Person) -> None:
    """Ask the requester something: the ticket waits on them (SLA clock paused)."""
    require_status(ticket, frozenset({Status.OPEN, Status.IN_PROGRESS, Status.ON_HOLD}),
                   "set waiting")
    _take_if_unassigned(ticket, agent)
    ticket.status = Status.WAITING


def hold(ticket: Ticket, agent: Person) -> None:
    """Park the ticket on a third party: no SLA clock, no expiry."""
    require_status(ticket, frozenset({Status.OPEN, Status.IN_PROGRESS, Status.WAITING}),
                   "put on hold")
    _take_if_unassigned(ticket, agent)
    ticket.status = Status.ON_HOLD


def resume(ticket: Ticket) -> None:
    """Back to work from ``waiting`` or ``on_hold``."""
    require_status(ticket, frozenset({Status.WAITING, Status.ON_HOLD}), "resumed")
    ticket.status = Status.IN_PROGRESS if ticket.assignee else Status.OPEN


def requester_replied(ticket: Ticket) -> bool:
    """A requester's comment on a ``waiting`` ticket puts it back to work. True if it did."""
    if ticket.status is Status.WAITING:
        resume(ticket)
        return True
    return False


def resolve(ticket: Ticket, agent: Person, note: str, now: datetime) -> None:
    """Resolve with a resolution note of at least ``RESOLUTION_NOTE_MIN`` characters."""
    require_status(ticket, ACTIVE, "resolved")
    if len(trim(note)) < RESOLUTION_NOTE_MIN:
        raise InvalidTransition(
            f"a resolution note needs at least {RESOLUTION_NOTE_MIN} characters"
        )
    _take_if_unassigned(ticket, agent)
    ticket.status = Status.RESOLVED
    ticket.resolution = trim(note)
    ticket.resolved_at = now
    ticket.close_requested_at = None  # answered by the resolution


def close(ticket: Ticket, now: datetime) -> None:
    """Close from any status but ``closed``."""
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"#{ticket.number} is already closed")
    ticket.status = Status.CLOSED
    ticket.closed_at = now
    ticket.close_requested_at = None


def within_reopen_window(ticket: Ticket, now: datetime, window: timedelta) -> bool:
    ended = ticket.ended_at()
    return ended is not None and now - ended <= window


def ask_close(ticket: Ticket) -> None:
    """An agent asks the requester to confirm closing an active ticket (PRODUCT.md §7)."""
    require_status(ticket, ACTIVE, "asked to close")
    if ticket.close_requested_at is not None:
        raise InvalidTransition(f"the requester of #{ticket.number} has already been asked "
                                "to confirm closing it")


def keep_open(ticket: Ticket) -> None:
    """The requester declines a close request."""
    if ticket.close_requested_at is None or ticket.status not in ACTIVE:
        raise InvalidTransition(f"nobody asked to close #{ticket.number}; there is nothing "
                                "to keep open")
    ticket.close_requested_at = None


def rate(ticket: Ticket, rating: Rating, comment: str | None) -> Rating | None:
    """The requester's rating of this resolution, with an optional comment; a second one
    changes it (returns the rating it replaced). Only a ticket that was resolved — and
    not reopened since — can be rated, closed afterwards included. Raises
    ``InvalidTransition`` when it cannot be rated, ``Unchanged`` (one of those) when it is
    already rated so with this comment (or none given)."""
    if ticket.resolved_at is None or ticket.status not in DONE:
        raise InvalidTransition(f"#{ticket.number} is {ticket.status.value.replace('_', ' ')}"
                                "; it can be rated once it is resolved")
    if ticket.rating is rating and (comment is None or comment == ticket.rating_comment):
        raise Unchanged(f"you already rated #{ticket.number} {rating.value}")
    previous, ticket.rating = ticket.rating, rating
    if comment is not None or previous is not rating:  # a comment belongs to its rating
        ticket.rating_comment = comment
    return previous


def reopen(ticket: Ticket) -> None:
    """``resolved``/``closed`` back to ``in_progress`` (assigned) or ``open``.

    The reopen window is the caller's check: agents may reopen any time, requesters
    only within ``lifecycle.reopen_window`` (PRODUCT.md §3).
    """
    require_status(ticket, DONE, "reopened")
    ticket.status = Status.IN_PROGRESS if ticket.assignee else Status.OPEN
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.resolution = None
    ticket.rating = None  # a new resolution cycle is rated afresh
    ticket.rating_comment = None


def set_priority(ticket: Ticket, priority: str) -> str:
    """Change the priority of an active ticket; returns the old one."""
    require_status(ticket, ACTIVE, "re-prioritised")
    if priority == ticket.priority:
        raise InvalidTransition(f"#{ticket.number} is already {priority}")
    old, ticket.priority = ticket.priority, priority
    return old


def escalate(ticket: Ticket) -> int:
    """Raise the escalation level of an active ticket; returns the new level."""
    require_status(ticket, ACTIVE, "escalated")
    ticket.escalation_level += 1
    return ticket.escalation_level
