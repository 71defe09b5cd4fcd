"""Who may see a ticket (``core.visibility``) as SQL conditions on ``tickets``."""

from __future__ import annotations

from typing import assert_never

from sqlalchemy import Table, and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from core.store.tables import TicketRow, WatcherRow
from core.tickets import Visibility
from core.visibility import VISIBLE_TO, Grant, Viewer

_tickets, _watchers = TicketRow.__table__, WatcherRow.__table__
assert isinstance(_tickets, Table) and isinstance(_watchers, Table)
T: Table = _tickets
W: Table = _watchers


def grant_condition(grant: Grant, viewer: Viewer) -> ColumnElement[bool]:
    """``core.visibility.holds(grant, viewer, ticket)`` as a condition on ``tickets``."""
    match grant:
        case Grant.AGENT:
            return true() if viewer.is_agent else false()
        case Grant.REQUESTER:
            return T.c.requester_key == viewer.ref.key
        case Grant.WATCHER:
            return T.c.number.in_(select(W.c.ticket_number)
                                  .where(W.c.watcher_key == viewer.ref.key))
        case Grant.ORG_SHARED:
            if not viewer.ref.workspace:  # an e-mail address belongs to no org
                return false()
            return and_(T.c.visibility == Visibility.SHARED.value,
                        T.c.requester_org == viewer.ref.org)
        case _:
            assert_never(grant)


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """``core.visibility.may_see`` compiled: the tickets ``viewer`` may see."""
    return or_(*(grant_condition(grant, viewer) for grant in VISIBLE_TO))
