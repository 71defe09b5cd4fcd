"""``SqlStore``'s timers (``core.timers``): stored with the change that sets them, read
by the scheduler, fired once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, exists, func, or_, select, update
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
        """See ``core.store.port.Store.replace_timers``.

        No read first: the pending timers no spec names are deleted, and the specs
        upserted on the (ticket, kind, fingerprint) key — a pending one whose due time
        moved is updated in place (keeping its id), a fired one is left alone, so it is
        never set again. ``RETURNING`` says which rows were written. On PostgreSQL all
        of it, and the NOTIFY, is one statement: every change sets timers, so each round
        trip here is paid by every command (bench/schedule.py)."""
        keys = [and_(TM.c.kind == spec.kind.value, TM.c.fingerprint == spec.fingerprint)
                for spec in specs]
        gone = delete(TM).where(TM.c.ticket_number == number, PENDING)
        if keys:
            gone = gone.where(~or_(*keys))
        if not specs:
            await self.conn.execute(gone)
            return None
        set_at = now or min(spec.due_at for spec in specs)
        postgres = self.dialect == "postgresql"
        insert_ = (postgresql.insert(TM) if postgres else sqlite.insert(TM)).values([
            {"ticket_number": number, "kind": spec.kind.value, "due_at": spec.due_at,
             "command": commands.to_json(spec.command), "fingerprint": spec.fingerprint,
             "set_at": set_at} for spec in specs])
        upsert = insert_.on_conflict_do_update(
            index_elements=[TM.c.ticket_number, TM.c.kind, TM.c.fingerprint],
            set_={"due_at": insert_.excluded.due_at, "command": insert_.excluded.command,
                  "set_at": insert_.excluded.set_at},
            where=and_(PENDING, TM.c.due_at != insert_.excluded.due_at),
        ).returning(TM.c.due_at)
        if not postgres:
            await self.conn.execute(gone)
            due = [row.due_at for row in await self.conn.execute(upsert)]
            return min(due, default=None)
        # The DELETE and the upsert touch different keys, so running them as sibling
        # CTEs (one snapshot) is safe; the NOTIFY, delivered at commit to the leading
        # scheduler, only when something was written (HAVING on no rows: no row).
        written = upsert.cte("written")
        earliest = func.min(written.c.due_at, type_=TM.c.due_at.type)
        query = select(earliest, func.pg_notify(TIMERS_CHANNEL, func.to_char(
            func.timezone("UTC", earliest), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
        ).select_from(written).having(func.count() > 0).add_cte(gone.cte("gone"))
        row = (await self.conn.execute(query)).first()
        return None if row is None else row[0]

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
