"""Who may do what (PRODUCT.md §1): one permission table, asked by every command.

``PERMISSIONS`` maps each ``Action`` to the roles that may take it and, for some
roles, a condition (a requester reopens only within the reopen window, escalates
only after a breached first-response target). An actor's roles on a ticket come
from the identity the platform signed (``roles``); ``System`` — the scheduler,
e-mail intake — is a role of its own. ``authorize`` raises the typed refusal;
``core.capabilities`` asks the same table which actions a card may offer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import humanize

from core import visibility
from core.config import DeskConfig
from core.errors import DeskError, InvalidTransition, NotAllowed, NotFound, no_ticket
from core.identity import Actor
from core.routing import Binding
from core.tickets import DONE, Ticket, within_reopen_window


class Role(StrEnum):
    PERSON = "person"  # anyone the platform signed: may open tickets
    REQUESTER = "requester"
    WATCHER = "watcher"
    ORG_MEMBER = "org_member"  # same workspace as the requester, on a shared ticket
    AGENT = "agent"
    SYSTEM = "system"  # the desk itself: scheduler, e-mail intake


class Action(StrEnum):
    OPEN = "open"
    OPEN_FOR_OTHERS = "open_for_others"
    SEE = "see"
    SEE_INTERNAL = "see_internal"  # internal notes, the team thread, sensitive fields
    QUEUE = "queue"
    POST_PANEL = "post_panel"
    STATS = "stats"
    COMMENT = "comment"
    COMMENT_BY_MAIL = "comment_by_mail"  # an e-mail reply: requester and watchers only
    REPLY = "reply"
    NOTE = "note"
    CLAIM = "claim"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    REQUEST_INFO = "request_info"
    HOLD = "hold"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    SET_PRIORITY = "set_priority"
    ESCALATE = "escalate"
    LINK = "link"
    ADD_WATCHER = "add_watcher"  # cc
    REMOVE_WATCHER = "remove_watcher"  # uncc
    WATCH = "watch"  # follow it oneself
    UNWATCH = "unwatch"
    SET_VISIBILITY = "set_visibility"  # share / unshare
    ASK_CLOSE = "ask_close"
    KEEP_OPEN = "keep_open"
    RATE = "rate"
    SLA_ALERT = "sla_alert"  # the desk's own: warnings, breaches, reminders, auto-close
    REMIND = "remind"
    AUTO_CLOSE = "auto_close"


TICKET_ROLES = frozenset({Role.REQUESTER, Role.WATCHER, Role.ORG_MEMBER})  # held on one ticket

# A condition on a role's right: None when allowed, else the refusal it gives now.
Condition = Callable[[Ticket, DeskConfig, datetime], DeskError | None]


def _within_reopen_window(ticket: Ticket, config: DeskConfig,
                          now: datetime) -> DeskError | None:
    window = config.lifecycle.reopen_window
    if ticket.status not in DONE or within_reopen_window(ticket, now, window):
        return None
    return InvalidTransition(f"#{ticket.number} ended more than "
                             f"{humanize.precisedelta(window)} ago and "
                             "can no longer be reopened; reply to it to open a follow-up "
                             "ticket")


def _breaches(ticket: Ticket, now: datetime) -> int:
    """Breaches so far: those recorded, plus a first response past due that the scheduler
    has not recorded yet."""
    due = ticket.first_response_due
    unrecorded = (ticket.first_response_at is None and due is not None and now >= due
                  and "first_response" not in ticket.sla.breached)
    return ticket.sla.breaches + unrecorded


def _once_per_breach(ticket: Ticket, config: DeskConfig, now: datetime) -> DeskError | None:
    """A requester escalates once its first-response target is breached, once per breach
    (PRODUCT.md §7): a later resolution breach allows one more."""
    breaches = _breaches(ticket, now)
    first_breached = "first_response" in ticket.sla.breached or (
        breaches > ticket.sla.breaches)
    if not first_breached:
        return NotAllowed(f"#{ticket.number} can be escalated by its requester once its "
                          "first-response target has passed")
    if ticket.sla.requester_escalations >= breaches:
        return NotAllowed(f"you have already escalated #{ticket.number} for its missed "
                          "target; an agent will answer")
    return None


_ALWAYS = None
Rights = dict[Role, Condition | None]
# Who sees a ticket is written once, in ``core.visibility`` (the stores compile it too);
# the desk itself sees everything.
ROLE_OF_GRANT = {visibility.Grant.AGENT: Role.AGENT, visibility.Grant.REQUESTER: Role.REQUESTER,
                 visibility.Grant.WATCHER: Role.WATCHER,
                 visibility.Grant.ORG_SHARED: Role.ORG_MEMBER}
_READERS: Rights = {**{ROLE_OF_GRANT[g]: _ALWAYS for g in visibility.VISIBLE_TO},
                    Role.SYSTEM: _ALWAYS}
_AGENTS: Rights = {Role.AGENT: _ALWAYS}
_DESK: Rights = {Role.SYSTEM: _ALWAYS}

PERMISSIONS: dict[Action, Rights] = {
    Action.OPEN: {Role.PERSON: _ALWAYS},
    Action.OPEN_FOR_OTHERS: _AGENTS,
    Action.SEE: _READERS,
    Action.SEE_INTERNAL: {Role.AGENT: _ALWAYS, Role.SYSTEM: _ALWAYS},
    Action.QUEUE: _AGENTS,
    Action.POST_PANEL: _AGENTS,
    Action.STATS: _AGENTS,
    Action.COMMENT: {Role.AGENT: _ALWAYS, Role.REQUESTER: _ALWAYS, Role.WATCHER: _ALWAYS,
                     Role.ORG_MEMBER: _ALWAYS},
    # A mail's From names its sender, and every e-mail address shares one "org": only
    # the people the ticket was sent to may answer it by mail (PRODUCT.md §6).
    Action.COMMENT_BY_MAIL: {Role.REQUESTER: _ALWAYS, Role.WATCHER: _ALWAYS},
    Action.REPLY: _AGENTS,
    Action.NOTE: {Role.AGENT: _ALWAYS, Role.SYSTEM: _ALWAYS},
    Action.CLAIM: _AGENTS,
    Action.ASSIGN: _AGENTS,
    Action.UNASSIGN: _AGENTS,
    Action.REQUEST_INFO: _AGENTS,
    Action.HOLD: _AGENTS,
    Action.RESUME: {Role.AGENT: _ALWAYS, Role.SYSTEM: _ALWAYS},
    Action.RESOLVE: _AGENTS,
    Action.CLOSE: {Role.AGENT: _ALWAYS, Role.REQUESTER: _ALWAYS, Role.SYSTEM: _ALWAYS},
    Action.REOPEN: {Role.AGENT: _ALWAYS, Role.REQUESTER: _within_reopen_window},
    Action.SET_PRIORITY: _AGENTS,
    Action.ESCALATE: {Role.AGENT: _ALWAYS, Role.SYSTEM: _ALWAYS,
                      Role.REQUESTER: _once_per_breach},
    Action.LINK: _AGENTS,
    Action.ADD_WATCHER: {Role.AGENT: _ALWAYS, Role.REQUESTER: _ALWAYS},
    Action.REMOVE_WATCHER: {Role.AGENT: _ALWAYS, Role.REQUESTER: _ALWAYS},
    Action.WATCH: {role: _ALWAYS for role in _READERS if role is not Role.SYSTEM},
    Action.UNWATCH: {role: _ALWAYS for role in _READERS if role is not Role.SYSTEM},
    Action.SET_VISIBILITY: {Role.AGENT: _ALWAYS, Role.REQUESTER: _ALWAYS},
    Action.ASK_CLOSE: _AGENTS,
    Action.KEEP_OPEN: {Role.REQUESTER: _ALWAYS},
    Action.RATE: {Role.REQUESTER: _ALWAYS},
    Action.SLA_ALERT: _DESK,
    Action.REMIND: _DESK,
    Action.AUTO_CLOSE: _DESK,
}
# The roles each action names, as a set: judged on every card for every action.
_GRANTED: dict[Action, frozenset[Role]] = {a: frozenset(r) for a, r in PERMISSIONS.items()}

# How a refusal names the action ("only agents can claim tickets").
DOING: dict[Action, str] = {
    Action.OPEN: "open tickets", Action.OPEN_FOR_OTHERS: "open a ticket on someone's behalf",
    Action.SEE: "see it", Action.SEE_INTERNAL: "enter a team thread",
    Action.QUEUE: "see the queue", Action.POST_PANEL: "post a ticket panel",
    Action.STATS: "see stats", Action.COMMENT: "comment on it",
    Action.COMMENT_BY_MAIL: "comment on it by e-mail",
    Action.REPLY: "reply from the team side", Action.NOTE: "write internal notes",
    Action.CLAIM: "claim tickets", Action.ASSIGN: "assign tickets",
    Action.UNASSIGN: "unassign tickets", Action.REQUEST_INFO: "ask for information",
    Action.HOLD: "put tickets on hold", Action.RESUME: "resume tickets",
    Action.RESOLVE: "resolve tickets", Action.CLOSE: "close it", Action.REOPEN: "reopen it",
    Action.SET_PRIORITY: "change priority", Action.ESCALATE: "escalate it",
    Action.LINK: "link tickets", Action.ADD_WATCHER: "add watchers",
    Action.REMOVE_WATCHER: "remove watchers", Action.WATCH: "watch it",
    Action.UNWATCH: "stop watching it", Action.SET_VISIBILITY: "share it or make it private",
    Action.ASK_CLOSE: "ask to close tickets", Action.KEEP_OPEN: "keep it open",
    Action.RATE: "rate it", Action.SLA_ALERT: "send SLA notices",
    Action.REMIND: "send reminders", Action.AUTO_CLOSE: "close tickets automatically",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the table says for one actor, action and ticket: allowed when ``refusal`` is
    None, else the typed error to raise (``NotFound`` for a ticket hidden from them)."""

    refusal: DeskError | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def is_agent(actor: Actor, config: DeskConfig) -> bool:
    """An agent by the rule of the actor's platform (``DeskConfig.agents``): a user id
    or a group/role the platform vouches for, within the rule's workspace."""
    rule = config.agents.get(actor.ref.platform)
    return rule is not None and rule.admits(actor)


def is_requester(actor: Actor, ticket: Ticket) -> bool:
    return not actor.system and actor.ref == ticket.requester.ref


is_watcher = visibility.is_watcher
is_org_member = visibility.in_shared_org  # same workspace as the requester, ticket shared


def roles(actor: Actor, config: DeskConfig, ticket: Ticket | None = None) -> frozenset[Role]:
    """Every role ``actor`` holds — on ``ticket`` when given."""
    if actor.system:
        return frozenset({Role.SYSTEM})
    held = {Role.PERSON}
    if is_agent(actor, config):
        held.add(Role.AGENT)
    if ticket is not None:
        if is_requester(actor, ticket):
            held.add(Role.REQUESTER)
        if is_watcher(actor.ref, ticket):
            held.add(Role.WATCHER)
        if is_org_member(actor.ref, ticket):
            held.add(Role.ORG_MEMBER)
    return frozenset(held)


def judge(held: frozenset[Role], action: Action, config: DeskConfig,
          ticket: Ticket | None = None, now: datetime | None = None) -> Verdict:
    """The table's answer for roles ``held``. A ticket they may not see is hidden — unless
    the action is one no role on a ticket could give them (``only agents can claim``
    says no more about a ticket than that)."""
    rights, granted = PERMISSIONS[action], _GRANTED[action]
    if not granted & TICKET_ROLES and not held & granted:
        return Verdict(NotAllowed(_only(set(granted), action, ticket)))
    if ticket is not None and not held & _GRANTED[Action.SEE]:
        return Verdict(no_ticket(ticket.number))
    refusals: list[DeskError] = []
    for role in sorted(held & granted):
        condition = rights[role]
        if condition is None:
            return Verdict()
        if ticket is not None and now is not None:
            refusal = condition(ticket, config, now)
            if refusal is None:
                return Verdict()
            refusals.append(refusal)
    return Verdict(refusals[0] if refusals else NotAllowed(_only(set(granted), action, ticket)))


def _only(allowed: set[Role], action: Action, ticket: Ticket | None) -> str:
    if Role.AGENT not in allowed and Role.REQUESTER in allowed and ticket is not None:
        return f"only the requester of #{ticket.number} can {DOING[action]}"
    if allowed == {Role.SYSTEM}:
        return f"only the desk itself can {DOING[action]}"
    if Role.REQUESTER in allowed and ticket is not None:
        return f"only agents or the requester of #{ticket.number} can {DOING[action]}"
    return f"only agents can {DOING[action]}"


def authorize(actor: Actor, action: Action, config: DeskConfig,
              ticket: Ticket | None = None, now: datetime | None = None) -> None:
    """Raises ``NotFound`` (a ticket ``actor`` may not see does not exist for them) or
    ``NotAllowed`` naming who may. ``now`` (UTC) is needed for conditional rights."""
    refusal = judge(roles(actor, config, ticket), action, config, ticket, now).refusal
    if refusal is not None:
        raise refusal


def can(actor: Actor, action: Action, config: DeskConfig, ticket: Ticket | None = None,
        now: datetime | None = None) -> bool:
    return judge(roles(actor, config, ticket), action, config, ticket, now).allowed


def can_see(actor: Actor, ticket: Ticket, config: DeskConfig) -> bool:
    return can(actor, Action.SEE, config, ticket)


def require_visible(actor: Actor, ticket: Ticket, config: DeskConfig) -> None:
    """Raises ``NotFound`` — a ticket you may not see is a ticket that does not exist for you."""
    authorize(actor, Action.SEE, config, ticket)


def require_may_write_in(actor: Actor, ticket: Ticket, thread: Binding | None) -> None:
    """A ticket thread kept in someone's direct messages has one writer: the requester
    (``dm``), or the watcher whose own thread it is (``dm:<user id>``) while they
    watch. A message from anyone else there belongs to another thread (a platform id
    that repeats in another DM): ``NotFound``. Its watcher's, once they no longer
    watch: ``NotAllowed``."""
    if thread is None:
        return
    if thread.in_requester_dm and not is_requester(actor, ticket):
        raise NotFound(f"this is not the thread of #{ticket.number}")
    owner = thread.watcher
    if owner is None:
        return
    if actor.ref != owner:
        raise NotFound(f"this is not the thread of #{ticket.number}")
    if not is_watcher(actor.ref, ticket):
        raise NotAllowed(f"you no longer watch #{ticket.number}, so this thread no longer "
                         "reaches it; `/ticket watch` it again to comment here")
