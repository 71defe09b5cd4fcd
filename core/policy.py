"""Who may do what (PRODUCT.md §1). Every use case asks here, from the signed identity."""

from __future__ import annotations

from datetime import datetime

from core import visibility
from core.config import DeskConfig
from core.errors import NotAllowed, NotFound
from core.identity import Actor
from core.routing import Binding
from core.tickets import Ticket


def is_agent(actor: Actor, config: DeskConfig) -> bool:
    """An agent by user id or by a group/role the platform vouches for."""
    users, groups = config.agent_ids(actor.ref.platform)
    return actor.ref.user_id in users or bool(groups & actor.groups)


def is_requester(actor: Actor, ticket: Ticket) -> bool:
    return actor.ref == ticket.requester.ref


is_watcher = visibility.is_watcher
is_org_member = visibility.in_shared_org


def can_see(actor: Actor, ticket: Ticket, config: DeskConfig) -> bool:
    """The one visibility rule, ``core.visibility`` (the stores' queries compile it)."""
    return visibility.may_see(visibility.Viewer(actor.ref, is_agent(actor, config)), ticket)


def require_visible(actor: Actor, ticket: Ticket, config: DeskConfig) -> None:
    """Raises ``NotFound`` — a ticket you may not see is a ticket that does not exist for you."""
    if not can_see(actor, ticket, config):
        raise NotFound(f"there is no ticket #{ticket.number} you can see")


def require_agent(actor: Actor, config: DeskConfig, doing: str) -> None:
    if not is_agent(actor, config):
        raise NotAllowed(f"only agents can {doing}")


def require_agent_or_requester(
    actor: Actor, ticket: Ticket, config: DeskConfig, doing: str
) -> None:
    if not (is_agent(actor, config) or is_requester(actor, ticket)):
        raise NotAllowed(f"only agents or the requester of #{ticket.number} can {doing}")


def require_may_escalate(actor: Actor, ticket: Ticket, config: DeskConfig,
                         now: datetime) -> None:
    """Agents may escalate any time; the requester once the first-response target has
    passed without a first response (PRODUCT.md §7). ``now`` in UTC. Raises
    ``NotAllowed`` saying which."""
    if is_agent(actor, config):
        return
    require_agent_or_requester(actor, ticket, config, "escalate it")
    due = ticket.first_response_due
    if ticket.first_response_at is not None or due is None or now < due:
        raise NotAllowed(f"#{ticket.number} can be escalated by its requester once its "
                         "first-response target has passed")


def require_may_write_in(actor: Actor, ticket: Ticket, thread: Binding | None) -> None:
    """A ticket thread kept in the requester's direct messages (``dm``) has one writer,
    the requester: a message from anyone else there belongs to another thread (a
    platform id that repeats in another DM). Raises ``NotFound``."""
    if thread is not None and thread.in_requester_dm and not is_requester(actor, ticket):
        raise NotFound(f"this is not the thread of #{ticket.number}")
