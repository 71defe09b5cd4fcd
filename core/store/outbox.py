"""The delivery queue on SQL (``core.outbound.Outbox``).

A worker claims the head of each (ticket, platform) queue with a short lease
(``leased_until``, ``leased_by``) that its heartbeat renews; on PostgreSQL
``FOR UPDATE SKIP LOCKED`` lets several workers share the queue without taking the
same row. A delivery is only due when nothing older for the same ticket and
platform is still pending, which keeps each thread in order; a parked delivery is
not pending, so it holds nothing back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from core.events import EventKind
from core.outbound import Delivered, DeliveryContext
from core.routing import Delivery, DeliveryState
from core.store.failures import unavailable
from core.store.rows import binding_from, delivery_from, event_from, ticket_from
from core.store.sql import B, D, E, T

PENDING = DeliveryState.PENDING.value
PARKED = DeliveryState.PARKED.value
CHAIN_MAX = 20  # deliveries of one (ticket, platform) queue taken in one claim
ERROR_MAX = 2000  # characters of a last error kept


class SqlOutbox:
    """``core.outbound.Outbox`` over ``engine`` (each method is one transaction; a
    failing database raises ``core.errors.Unavailable``)."""

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
                    .values(leased_until=lease_until, leased_by=owner))
        return [delivery_from(r) for r in sorted(rows, key=lambda r: r.id)]

    async def renew(self, ids: list[int], owner: str, lease_until: datetime) -> set[int]:
        if not ids:
            return set()
        async with unavailable("outbox.renew"), self.engine.begin() as conn:
            kept = await conn.execute(
                update(D).where(D.c.id.in_(ids), D.c.leased_by == owner, D.c.state == PENDING)
                .values(leased_until=lease_until).returning(D.c.id))
            return {int(i) for i in kept.scalars()}

    async def start(self, delivery: Delivery, owner: str) -> bool:
        async with unavailable("outbox.start"), self.engine.begin() as conn:
            return await self._start(conn, delivery, owner)

    @staticmethod
    async def _start(conn: AsyncConnection, delivery: Delivery, owner: str) -> bool:
        started = await conn.execute(
            update(D).where(D.c.id == delivery.id, D.c.leased_by == owner,
                            D.c.state == PENDING)
            .values(attempts=D.c.attempts + 1, maybe_sent=True))
        return bool(started.rowcount)

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
        """The events, tickets and bindings ``deliveries`` refer to, and the tickets'
        opening events (for the cards' deflection), in four queries."""
        event_ids = {d.event_id for d in deliveries} | {
            d.merged_from for d in deliveries if d.merged_from is not None}
        numbers = {d.ticket_number for d in deliveries}
        binding_ids = {d.binding_id for d in deliveries if d.binding_id is not None}
        async with unavailable("outbox.contexts"), self.engine.connect() as conn:
            events = {r.id: event_from(r) for r in await conn.execute(
                select(E).where(E.c.id.in_(event_ids)))}
            tickets = {r.number: ticket_from(r) for r in await conn.execute(
                select(T).where(T.c.number.in_(numbers)))}
            bindings = {r.id: binding_from(r) for r in await conn.execute(
                select(B).where(B.c.id.in_(binding_ids)))} if binding_ids else {}
            openings = {r.ticket_number: event_from(r) for r in await conn.execute(
                select(E).where(E.c.ticket_number.in_(numbers),
                                E.c.kind == EventKind.OPENED.value))}
            await conn.rollback()
        return DeliveryContext(events, tickets, bindings, openings)

    async def release(self, deliveries: list[Delivery], owner: str) -> None:
        if not deliveries:
            return
        async with unavailable("outbox.release"), self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id.in_([d.id for d in deliveries]),
                                               D.c.leased_by == owner)
                               .values(leased_until=None, leased_by=None))

    async def complete(self, delivery: Delivery, delivered: Delivered, now: datetime, *,
                       then_start: Delivery | None = None, owner: str = "") -> bool:
        async with unavailable("outbox.complete"), self.engine.begin() as conn:
            await conn.execute(
                update(D).where(D.c.id == delivery.id).values(
                    state=DeliveryState.DONE.value, delivered_at=now, leased_until=None,
                    leased_by=None, last_error=None))
            if delivery.binding_id is not None and (delivered.thread or delivered.card_message):
                values = {}
                if delivered.thread:
                    values["thread"] = delivered.thread
                if delivered.card_message:
                    values["card_message"] = delivered.card_message
                await conn.execute(update(B).where(
                    and_(B.c.id == delivery.binding_id)).values(values))
            return then_start is not None and await self._start(conn, then_start, owner)

    async def retry(self, delivery: Delivery, error: str, at: datetime, *,
                    maybe_sent: bool) -> None:
        async with unavailable("outbox.retry"), self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id == delivery.id).values(
                next_attempt_at=at, leased_until=None, leased_by=None,
                maybe_sent=maybe_sent, last_error=error[:ERROR_MAX]))

    async def park(self, delivery: Delivery, error: str, now: datetime) -> None:
        async with unavailable("outbox.park"), self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id == delivery.id).values(
                state=PARKED, next_attempt_at=now, leased_until=None, leased_by=None,
                last_error=error[:ERROR_MAX]))

    async def pending(self, platforms: list[str]) -> int:
        async with unavailable("outbox.pending"), self.engine.connect() as conn:
            count = (await conn.execute(select(func.count()).where(
                D.c.state == PENDING, D.c.platform.in_(platforms or [""])))).scalar_one()
            await conn.rollback()
        return int(count)

    async def listing(self, *, parked_only: bool, limit: int,
                      ids: list[int] | None = None) -> list[Delivery]:
        which = [D.c.state.in_([PARKED] if parked_only else [PENDING, PARKED])]
        if ids is not None:
            which.append(D.c.id.in_(ids))
        async with unavailable("outbox.listing"), self.engine.connect() as conn:
            rows = (await conn.execute(select(D).where(*which)
                                       .order_by(D.c.id).limit(limit))).all()
            await conn.rollback()
        return [delivery_from(r) for r in rows]

    async def requeue(self, ids: list[int] | None, now: datetime) -> list[int]:
        which = [D.c.state == PARKED]
        if ids is not None:
            which.append(D.c.id.in_(ids))
        async with unavailable("outbox.requeue"), self.engine.begin() as conn:
            done = await conn.execute(update(D).where(*which).values(
                state=PENDING, attempts=0, next_attempt_at=now, leased_until=None,
                leased_by=None).returning(D.c.id))
            return sorted(int(i) for i in done.scalars())
