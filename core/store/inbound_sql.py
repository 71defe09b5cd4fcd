"""``SqlStore``'s inbound part (``core.inbound``): keys of received messages, thread
cursors for catch-up, pruning, and names filled in after the fact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import Conflict
from core.events import Event
from core.identity import UserRef
from core.inbound import Receipt, ThreadCursor
from core.store.rows import binding_from, event_from
from core.store.tables import (
    BindingRow,
    EventRow,
    InboundKeyRow,
    ThreadCursorRow,
    TicketRow,
    UtcDateTime,
)
from core.tickets import Status


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


K = _table(InboundKeyRow)
TC = _table(ThreadCursorRow)
B = _table(BindingRow)
E = _table(EventRow)
T = _table(TicketRow)


class InboundSql:
    """Mixed into ``core.store.sql.SqlStore`` (one connection, one transaction)."""

    conn: AsyncConnection
    dialect: str

    async def inbound_event(self, keys: tuple[str, ...]) -> Event | None:
        row = (await self.conn.execute(
            select(E).join(K, K.c.event_id == E.c.id).where(K.c.key.in_(keys)).limit(1)
        )).first()
        return event_from(row) if row else None

    async def record_inbound(self, receipt: Receipt, event_id: int | None,
                             binding_id: int | None, at: datetime) -> None:
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(insert(K), [
                    {"key": key, "event_id": event_id, "seen_at": at}
                    for key in dict.fromkeys(receipt.keys)])
        except IntegrityError as err:  # the same message stored by another request now
            raise Conflict("this message was already stored") from err
        if binding_id is None or receipt.order is None or receipt.message is None:
            return
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        upsert = dialect.insert(TC).values(binding_id=binding_id, position=receipt.order,
                                           message=receipt.message, updated_at=at)
        excluded = upsert.excluded
        await self.conn.execute(upsert.on_conflict_do_update(
            index_elements=[TC.c.binding_id],
            set_={"position": excluded.position, "message": excluded.message,
                  "updated_at": excluded.updated_at},
            where=TC.c.position < excluded.position))

    async def thread_cursors(self, platform: str, closed_since: datetime
                             ) -> list[ThreadCursor]:
        typed_there = (select(func.max(E.c.at)).where(E.c.origin_binding_id == B.c.id)
                       .scalar_subquery())
        rows = await self.conn.execute(
            select(B, TC.c.message.label("cursor"), T.c.requester_key,
                   func.coalesce(typed_there, T.c.opened_at, type_=UtcDateTime())
                   .label("since"))
            .join(T, T.c.number == B.c.ticket_number)
            .outerjoin(TC, TC.c.binding_id == B.c.id)
            .where(B.c.platform == platform, B.c.thread.is_not(None),
                   or_(T.c.status != Status.CLOSED.value,
                       and_(T.c.closed_at.is_not(None), T.c.closed_at >= closed_since)))
            .order_by(B.c.ticket_number, B.c.id))
        return [ThreadCursor(binding_from(r), r.cursor, r.since,
                             UserRef.parse(r.requester_key)) for r in rows]

    async def prune_inbound(self, before: datetime) -> int:
        result = await self.conn.execute(delete(K).where(K.c.seen_at < before))
        return int(result.rowcount or 0)

    async def rename(self, person: UserRef, placeholder: str, name: str) -> int:
        key = person.key
        changed = 0
        for table, key_column, name_column in (
                (E, E.c.actor_key, E.c.actor_name),
                (T, T.c.requester_key, T.c.requester_name),
                (T, T.c.assignee_key, T.c.assignee_name)):
            result = await self.conn.execute(
                update(table).where(key_column == key, name_column == placeholder)
                .values({name_column.name: name}))
            changed += int(result.rowcount or 0)
        return changed

