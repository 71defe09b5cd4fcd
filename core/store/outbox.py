"""The delivery queue on SQL (``core.delivery.Outbox``).

A worker claims the head of each (ticket, platform) queue with a lease; on
PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers share the queue
without taking the same row. A delivery is only due when nothing older for the
same ticket and platform is still pending, which keeps each thread in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from core.delivery import Delivered, DeliveryContext
from core.events import Audience
from core.routing import Delivery, DeliveryState, Purpose, Target
from core.store.failures import unavailable
from core.store.sql import B, D, E, T, binding_from, event_from, ticket_from

PENDING = DeliveryState.PENDING.value
CHAIN_MAX = 20  # deliveries of one (ticket, platform) queue taken in one claim


def _delivery_from(row: Any) -> Delivery:
    return Delivery(
        ticket_number=row.ticket_number, event_id=row.event_id, platform=row.platform,
        target=Target(row.target), audience=Audience(row.audience), created_at=row.created_at,
        binding_id=row.binding_id, address=row.address, purpose=Purpose(row.purpose),
        state=DeliveryState(row.state), attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, last_error=row.last_error, id=row.id,
    )


class SqlOutbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, platforms: list[str], now: datetime, lease_until: datetime,
                    owner: str, limit: int) -> list[Delivery]:
        if not platforms:
            return []
        older = aliased(D)
        earlier_pending = (
            select(older.c.id)
            .where(older.c.ticket_number == D.c.ticket_number,
                   older.c.platform == D.c.platform, older.c.state == PENDING,
                   older.c.id < D.c.id)
            .exists()
        )
        query = (
            select(D)
            .where(
                D.c.state == PENDING,
                D.c.platform.in_(platforms),
                or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= now),
                or_(D.c.leased_until.is_(None), D.c.leased_until <= now),
                ~earlier_pending,
            )
            .order_by(D.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with unavailable("outbox.claim"), self.engine.begin() as conn:
            heads = list((await conn.execute(query)).all())
            rows = list(heads)
            if heads:
                rows += await self._followers(conn, heads, now)
                await conn.execute(
                    update(D).where(D.c.id.in_([r.id for r in rows]))
                    .values(leased_until=lease_until))
        return [_delivery_from(r) for r in sorted(rows, key=lambda r: r.id)]

    @staticmethod
    async def _followers(conn: AsyncConnection, heads: list[Any], now: datetime) -> list[Any]:
        """The next pending deliveries of each claimed head's (ticket, platform) queue, in
        order, up to ``CHAIN_MAX`` each and stopping at one not yet due, so one round
        delivers a ticket's card and the messages under it. Nobody else can claim them:
        they are not heads while their head is pending."""
        chains = {(h.ticket_number, h.platform) for h in heads}
        query = (
            select(D)
            .where(D.c.state == PENDING, tuple_(D.c.ticket_number, D.c.platform).in_(chains),
                   D.c.id.not_in([h.id for h in heads]))
            .order_by(D.c.id)
            .with_for_update()
        )
        taken: list[Any] = []
        per_chain: dict[tuple[int, str], int] = {}
        stopped: set[tuple[int, str]] = set()
        for row in (await conn.execute(query)).all():
            chain = (row.ticket_number, row.platform)
            due = (row.next_attempt_at is None or row.next_attempt_at <= now) and (
                row.leased_until is None or row.leased_until <= now)
            if chain in stopped or not due or per_chain.get(chain, 0) >= CHAIN_MAX:
                stopped.add(chain)
                continue
            per_chain[chain] = per_chain.get(chain, 0) + 1
            taken.append(row)
        return taken

    async def contexts(self, deliveries: list[Delivery]) -> DeliveryContext:
        """The events, tickets and bindings ``deliveries`` refer to, in three queries."""
        event_ids = {d.event_id for d in deliveries}
        numbers = {d.ticket_number for d in deliveries}
        binding_ids = {d.binding_id for d in deliveries if d.binding_id is not None}
        async with unavailable("outbox.contexts"), self.engine.connect() as conn:
            events = {r.id: event_from(r) for r in await conn.execute(
                select(E).where(E.c.id.in_(event_ids)))}
            tickets = {r.number: ticket_from(r) for r in await conn.execute(
                select(T).where(T.c.number.in_(numbers)))}
            bindings = {r.id: binding_from(r) for r in await conn.execute(
                select(B).where(B.c.id.in_(binding_ids)))} if binding_ids else {}
            await conn.rollback()
        return DeliveryContext(events, tickets, bindings)

    async def release(self, deliveries: list[Delivery]) -> None:
        """Give back leased deliveries not attempted (their queue stopped at a retry)."""
        if not deliveries:
            return
        async with unavailable("outbox.release"), self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id.in_([d.id for d in deliveries]))
                               .values(leased_until=None))

    async def complete(self, delivery: Delivery, delivered: Delivered, now: datetime) -> None:
        async with unavailable("outbox.complete"), self.engine.begin() as conn:
            await conn.execute(
                update(D).where(D.c.id == delivery.id).values(
                    state=DeliveryState.DONE.value, delivered_at=now, leased_until=None,
                    attempts=D.c.attempts + 1, last_error=None))
            if delivery.binding_id is not None and (delivered.thread or delivered.card_message):
                values = {}
                if delivered.thread:
                    values["thread"] = delivered.thread
                if delivered.card_message:
                    values["card_message"] = delivered.card_message
                await conn.execute(update(B).where(
                    and_(B.c.id == delivery.binding_id)).values(values))

    async def retry(self, delivery: Delivery, error: str, at: datetime) -> None:
        async with unavailable("outbox.retry"), self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id == delivery.id).values(
                attempts=D.c.attempts + 1, next_attempt_at=at, leased_until=None,
                last_error=error[:2000]))

    async def fail(self, delivery: Delivery, error: str, now: datetime) -> None:
        async with unavailable("outbox.fail"), self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id == delivery.id).values(
                state=DeliveryState.FAILED.value, attempts=D.c.attempts + 1,
                leased_until=None, delivered_at=now, last_error=error[:2000]))

    async def pending(self, platforms: list[str]) -> int:
        async with unavailable("outbox.pending"), self.engine.connect() as conn:
            count = (await conn.execute(select(func.count()).where(
                D.c.state == PENDING, D.c.platform.in_(platforms or [""])))).scalar_one()
            await conn.rollback()
        return int(count)
