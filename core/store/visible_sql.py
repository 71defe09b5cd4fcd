"""Who may see a ticket (``core.visibility``) as SQL conditions on ``tickets``; what is
news to them (unread) and their newest activity."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from sqlalchemy import Column, Table, and_, exists, false, literal, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from core.events import Audience
from core.identity import UserRef
from core.store.tables import EventRow, ReadMarkRow, TicketRow, WatcherRow
from core.tickets import Visibility
from core.visibility import VISIBLE_TO, Grant, Viewer

_tickets, _watchers = TicketRow.__table__, WatcherRow.__table__
_events, _marks = EventRow.__table__, ReadMarkRow.__table__
assert isinstance(_tickets, Table) and isinstance(_watchers, Table)
assert isinstance(_events, Table) and isinstance(_marks, Table)
T: Table = _tickets
W: Table = _watchers
E: Table = _events
R: Table = _marks


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
    if viewer.is_agent:  # every ticket: the other grants' conditions need not be built
        return true()
    return or_(*(grant_condition(grant, viewer) for grant in VISIBLE_TO))


def activity(sees_internal: bool) -> Column[datetime]:
    """The newest activity a viewer may see: an internal note is activity for agents
    only (``tickets.public_activity_at`` for everyone else)."""
    return T.c.last_activity_at if sees_internal else T.c.public_activity_at


def unread_by(reader: UserRef, internal: bool) -> ColumnElement[bool]:
    """``Store.unread`` as a condition on ``tickets``: an event ``reader`` may see
    (public unless ``internal``), made by someone else or the desk, later than every
    look of theirs — or, for a non-agent on a shared ticket of their org, of anyone of
    that org (PRODUCT.md §2)."""
    seen_by = R.c.reader_key == reader.key
    if not internal:
        seen_by = or_(seen_by, and_(T.c.visibility == Visibility.SHARED.value,
                                    R.c.reader_org == T.c.requester_org,
                                    literal(reader.org) == T.c.requester_org))
    seen_after = and_(R.c.ticket_number == E.c.ticket_number, R.c.seen_at >= E.c.at,
                      seen_by)
    news = [E.c.ticket_number == T.c.number,
            or_(E.c.actor_key.is_(None), E.c.actor_key != reader.key),
            # the ticket is the outer query's (not a second ``tickets`` in this FROM)
            ~exists().where(seen_after).correlate_except(R)]
    if not internal:
        news.append(E.c.audience == Audience.PUBLIC.value)
    return exists().where(*news).correlate_except(E)
