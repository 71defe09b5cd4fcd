"""``SqlStore``'s timers (``core.timers``): stored with the change that sets them, read
by the scheduler, fired once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, exists, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core import commands
from core.store.tables import TicketRow, TimerRow
from core.tickets import Status
from core.timers import Timer, TimerKind, TimerSpec

TIMERS_CHANNEL = "helpthread_timers"  # PostgreSQL NOTIFY: a commit set a timer


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


TM = _table(TimerRow)
T = _table(TicketRow)
PENDING = TM.c.fired_at.is_(None)


def timer_from(row: Any) -> Timer:
    return Timer(id=row.id, ticket_number=row.ticket_number, kind=TimerKind(row.kind),
                 due_at=row.due_at, command=_ticket_command(row.command),
                 fingerprint=row.fingerprint, fired_at=row.fired_at)


def _ticket_command(data: dict[str, Any]) -> commands.TicketCommand:
    command = commands.from_json(data)
    assert not isinstance(command, commands.OpenTicket)
    return command


class TimersSql:
    conn: AsyncConnection
    dialect: str

    async def replace_timers(self, number: int, specs: list[TimerSpec],
                             now: datetime | None = None) -> datetime | None:
        """See ``core.store.port.Store.replace_timers``."""
        rows = (await self.conn.execute(
            select(TM.c.id, TM.c.kind, TM.c.fingerprint, TM.c.due_at, TM.c.fired_at)
            .where(TM.c.ticket_number == number))).all()
        wanted = {(spec.kind.value, spec.fingerprint): spec for spec in specs}
        stale = [row.id for row in rows if row.fired_at is None and (
            (spec := wanted.get((row.kind, row.fingerprint))) is None
            or spec.due_at != row.due_at)]
        if stale:
            await self.conn.execute(delete(TM).where(TM.c.id.in_(stale)))
        known = {(row.kind, row.fingerprint) for row in rows if row.id not in stale}
        new = [spec for key, spec in wanted.items() if key not in known]
        if not new:
            return None
        set_at = now or min(spec.due_at for spec in new)
        values = [{"ticket_number": number, "kind": spec.kind.value, "due_at": spec.due_at,
                   "command": commands.to_json(spec.command), "fingerprint": spec.fingerprint,
                   "set_at": set_at} for spec in new]
        insert_ = (postgresql.insert(TM) if self.dialect == "postgresql"
                   else sqlite.insert(TM)).on_conflict_do_nothing()
        await self.conn.execute(insert_, values)
        earliest = min(spec.due_at for spec in new)
        if self.dialect == "postgresql":  # delivered at commit, to the leading scheduler
            await self.conn.execute(text("SELECT pg_notify(:channel, :due)"),
                                    {"channel": TIMERS_CHANNEL, "due": earliest.isoformat()})
        return earliest

    async def lock_pending_timer(self, timer_id: int) -> bool:
        query = select(TM.c.id).where(TM.c.id == timer_id, PENDING)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return (await self.conn.execute(query)).first() is not None

    async def fire_timer(self, timer_id: int, now: datetime) -> None:
        await self.conn.execute(update(TM).where(TM.c.id == timer_id, PENDING)
                                .values(fired_at=now))

    async def drop_timer(self, timer_id: int) -> None:
        await self.conn.execute(delete(TM).where(TM.c.id == timer_id, PENDING))

    async def due_timers(self, now: datetime, limit: int) -> list[Timer]:
        rows = (await self.conn.execute(
            select(TM).where(PENDING, TM.c.due_at <= now)
            .order_by(TM.c.due_at, TM.c.id).limit(limit))).all()
        return [timer_from(row) for row in rows]

    async def next_timer_due(self) -> datetime | None:
        due: datetime | None = (await self.conn.execute(
            select(TM.c.due_at).where(PENDING).order_by(TM.c.due_at).limit(1))).scalar()
        return due

    async def tickets_without_timers(self, limit: int, after: int = 0) -> list[int]:
        rows = (await self.conn.execute(
            select(T.c.number).where(
                T.c.number > after, T.c.status != Status.CLOSED.value,
                ~exists().where(and_(TM.c.ticket_number == T.c.number)))
            .order_by(T.c.number).limit(limit))).all()
        return [row.number for row in rows]

    async def timers(self, number: int) -> list[Timer]:
        rows = (await self.conn.execute(
            select(TM).where(TM.c.ticket_number == number).order_by(TM.c.id))).all()
        return [timer_from(row) for row in rows]
