"""Who may see a ticket (PRODUCT.md §1), written once.

``VISIBLE_TO`` lists the grants: a viewer sees a ticket if any of them holds. The
Python check (``may_see``, used by ``core.policy.can_see`` and the in-memory store)
evaluates each grant with ``holds``; the SQL store compiles the same grants into its
WHERE clause (``core.store.sql.visible_to``), one SQL condition per grant, and fails
loudly if a grant has no compilation. A new grant is added here and in both places
the type checker walks (``match`` with ``assert_never``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from core.identity import UserRef
from core.tickets import Ticket, Visibility


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks: their identity and whether the desk counts them as an agent."""

    ref: UserRef
    is_agent: bool


class Grant(StrEnum):
    AGENT = "agent"  # agents see every ticket
    REQUESTER = "requester"  # who the ticket is for
    WATCHER = "watcher"  # a user added to it (cc)
    ORG_SHARED = "org_shared"  # same org as the requester, on a ticket marked shared


VISIBLE_TO: tuple[Grant, ...] = (Grant.AGENT, Grant.REQUESTER, Grant.WATCHER,
                                 Grant.ORG_SHARED)


def is_watcher(ref: UserRef, ticket: Ticket) -> bool:
    return any(w.ref == ref for w in ticket.watchers)


def in_shared_org(ref: UserRef, ticket: Ticket) -> bool:
    """Same platform and workspace as the requester, on a ticket marked shared. An
    identity without a workspace (an e-mail address) belongs to no org: two addresses
    share nothing but the platform."""
    return (ticket.visibility is Visibility.SHARED and bool(ref.workspace)
            and ref.org == ticket.requester.ref.org)


def holds(grant: Grant, viewer: Viewer, ticket: Ticket) -> bool:
    match grant:
        case Grant.AGENT:
            return viewer.is_agent
        case Grant.REQUESTER:
            return viewer.ref == ticket.requester.ref
        case Grant.WATCHER:
            return is_watcher(viewer.ref, ticket)
        case Grant.ORG_SHARED:
            return in_shared_org(viewer.ref, ticket)
        case _:
            assert_never(grant)


def may_see(viewer: Viewer, ticket: Ticket) -> bool:
    return any(holds(grant, viewer, ticket) for grant in VISIBLE_TO)
