"""Which actions a viewer may take on a ticket now (DESIGN.md, "Capabilities").

An action is available when the permission table allows it for the viewer's roles
(``core.policy``) and the life cycle allows it from the ticket's status
(``core.tickets``, tried on a copy). Cards show exactly these; the command path
checks the same two things again when the action arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core import tickets as lifecycle
from core.config import DeskConfig
from core.errors import InvalidTransition
from core.identity import Actor, Person, UserRef
from core.policy import Action, Role, judge, roles
from core.tickets import ACTIVE, DONE, Ticket
from core.watching import watch_refusal

# The actions a ticket's card or thread can offer, in the order cards show them.
TICKET_ACTIONS: tuple[Action, ...] = (
    Action.CLAIM, Action.ASSIGN, Action.UNASSIGN, Action.REPLY, Action.COMMENT, Action.NOTE,
    Action.REQUEST_INFO, Action.HOLD, Action.RESUME, Action.RESOLVE, Action.CLOSE,
    Action.REOPEN, Action.SET_PRIORITY, Action.ESCALATE, Action.LINK, Action.ADD_WATCHER,
    Action.REMOVE_WATCHER, Action.WATCH, Action.UNWATCH, Action.SET_VISIBILITY,
    Action.ASK_CLOSE, Action.KEEP_OPEN, Action.RATE,
)

ANY_AGENT = Person(UserRef("desk", "", "any-agent"), "an agent")  # a card's generic viewer
_NOTE = "x" * lifecycle.RESOLUTION_NOTE_MIN


def _legal(statuses: frozenset[lifecycle.Status],
           doing: str) -> Callable[[Ticket, Person, datetime], None]:
    def check(ticket: Ticket, _who: Person, _now: datetime) -> None:
        lifecycle.require_status(ticket, statuses, doing)
    return check


def _unassign(ticket: Ticket, _who: Person, _now: datetime) -> None:
    lifecycle.unassign(ticket)


TRANSITIONS: dict[Action, Callable[[Ticket, Person, datetime], None]] = {
    Action.CLAIM: lambda t, who, now: lifecycle.claim(t, who),
    Action.ASSIGN: _legal(ACTIVE, "assigned"),
    Action.UNASSIGN: _unassign,
    Action.REQUEST_INFO: lambda t, who, now: lifecycle.request_info(t, who),
    Action.HOLD: lambda t, who, now: lifecycle.hold(t, who),
    Action.RESUME: lambda t, who, now: lifecycle.resume(t),
    Action.RESOLVE: lambda t, who, now: lifecycle.resolve(t, who, _NOTE, now),
    Action.CLOSE: lambda t, who, now: lifecycle.close(t, now),
    Action.REOPEN: _legal(DONE, "reopened"),
    Action.SET_PRIORITY: _legal(ACTIVE, "re-prioritised"),
    Action.ESCALATE: _legal(ACTIVE, "escalated"),
    Action.ASK_CLOSE: lambda t, who, now: lifecycle.ask_close(t),
    Action.KEEP_OPEN: lambda t, who, now: lifecycle.keep_open(t),
    Action.RATE: lambda t, who, now: _may_rate(t),
    # What would tell people outside the team something new: not on a closed ticket.
    Action.REPLY: lambda t, who, now: lifecycle.require_not_closed(t),
    Action.ADD_WATCHER: lambda t, who, now: lifecycle.require_not_closed(t),
    Action.REMOVE_WATCHER: lambda t, who, now: lifecycle.require_not_closed(t),
    Action.SET_VISIBILITY: lambda t, who, now: lifecycle.require_not_closed(t),
}


# Checks that only read the ticket (a status, not closed): tried on the ticket itself,
# not on a copy (``transition_refusal``; a card's actions are tried on every delivery).
READS_ONLY = frozenset({
    Action.ASSIGN, Action.REOPEN, Action.SET_PRIORITY, Action.ESCALATE, Action.REPLY,
    Action.ADD_WATCHER, Action.REMOVE_WATCHER, Action.SET_VISIBILITY,
})


def _may_rate(ticket: Ticket) -> None:
    """Offered while a rating can be given; a second click changes it (a comment too)."""
    lifecycle.rate(ticket, lifecycle.Rating.GOOD, "\0")


def transition_refusal(action: Action, ticket: Ticket, who: Person,
                       now: datetime) -> InvalidTransition | None:
    """The life cycle's refusal of ``action`` by ``who`` from the ticket's status now, or
    None when it is allowed."""
    if action in (Action.WATCH, Action.UNWATCH):
        return watch_refusal(action, ticket, who)
    check = TRANSITIONS.get(action)
    if check is None:  # comments (a requester's reopens), notes, links: any status
        return None
    try:
        check(ticket if action in READS_ONLY else ticket.copy(), who, now)
    except InvalidTransition as refusal:
        return refusal
    return None


def transition_allows(action: Action, ticket: Ticket, who: Person, now: datetime) -> bool:
    return transition_refusal(action, ticket, who, now) is None


def available(held: frozenset[Role], ticket: Ticket, config: DeskConfig, now: datetime,
              who: Person = ANY_AGENT) -> frozenset[Action]:
    """The actions of ``TICKET_ACTIONS`` that roles ``held`` may take on ``ticket`` at
    ``now`` (UTC); ``who`` is the person acting (a claim of one's own ticket is not
    offered again)."""
    return frozenset(
        action for action in TICKET_ACTIONS
        if judge(held, action, config, ticket, now).allowed
        and transition_allows(action, ticket, who, now)
    )


def audience_roles(internal: bool) -> frozenset[Role]:
    """Who a card speaks to: the team card any agent, the ticket-thread card the
    requester."""
    return frozenset({Role.PERSON, Role.AGENT if internal else Role.REQUESTER})


def reader_roles(ticket: Ticket, config: DeskConfig, *, internal: bool,
                 reader: UserRef | None = None) -> frozenset[Role]:
    """Whose actions a delivery offers (PRODUCT.md §4). A team thread or channel: any
    agent; a ticket thread and its card: the requester (``audience_roles``); one named
    ``reader`` — a DM, a mail, a watcher's own DM thread — only what that person may do
    on ``ticket`` (a watcher is never offered the requester's rating or close
    answers)."""
    if internal or reader is None:
        return audience_roles(internal)
    return roles(Actor(reader, reader.user_id), config, ticket)
