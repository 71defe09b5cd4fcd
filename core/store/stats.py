"""What the desk's health and metrics read from the database (issue 10, point 11): tickets
by status, the outbox's depth per platform, its oldest pending delivery, parked ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.routing import DeliveryState
from core.store.failures import unavailable
from core.store.sql import D, T
from core.store.timers_sql import PENDING as TIMER_PENDING
from core.store.timers_sql import TM

# Parked (dead-letter) deliveries: the outbox's ``parked`` state where it has one, else
# those failed for good; the one line to change when parking lands.
PARKED = DeliveryState.PARKED.value
PENDING = DeliveryState.PENDING.value

TICKETS_BY_STATUS = select(T.c.status, func.count()).group_by(T.c.status)
TIMERS = select(func.count(), func.min(TM.c.due_at)).where(TIMER_PENDING)
OUTBOX = (select(D.c.platform, D.c.state, func.count(), func.min(D.c.created_at))
          .where(D.c.state.in_([PENDING, PARKED])).group_by(D.c.platform, D.c.state))


@dataclass(frozen=True)
class DeskStats:
    """``pending`` and ``parked``: deliveries by platform; ``oldest_pending_at``: when the
    oldest pending delivery was committed (UTC), None when none is pending."""

    tickets_by_status: dict[str, int]
    pending: dict[str, int]
    parked: dict[str, int]
    oldest_pending_at: datetime | None
    timers_pending: int = 0  # SLA notices, reminders, auto-closes still to fire
    next_timer_at: datetime | None = None  # the earliest of them (UTC)


async def desk_stats(engine: AsyncEngine) -> DeskStats:
    """Two grouped counts in one read-only transaction. Raises
    ``core.errors.Unavailable`` when the database fails."""
    async with unavailable("desk statistics"), engine.connect() as conn:
        statuses = {str(s): int(n) for s, n in await conn.execute(TICKETS_BY_STATUS)}
        pending: dict[str, int] = {}
        parked: dict[str, int] = {}
        oldest: datetime | None = None
        for platform, state, count, first in await conn.execute(OUTBOX):
            if state == PENDING:
                pending[platform] = int(count)
                oldest = first if oldest is None or first < oldest else oldest
            else:
                parked[platform] = int(count)
        timers, next_timer = (await conn.execute(TIMERS)).one()
        await conn.rollback()
    return DeskStats(statuses, pending, parked, oldest, int(timers), next_timer)
