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

from sqlalchemy import bindparam, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from core.events import EventKind
from core.outbound import DeliveryContext, Done
from core.routing import Delivery, DeliveryState
from core.store.failures import unavailable
from core.store.rows import binding_from, delivery_from, event_from, ticket_from
from core.store.sql import B, D, E, T

PENDING = DeliveryState.PENDING.value
PARKED = DeliveryState.PARKED.value
CHAIN_MAX = 20  # deliveries of one (ticket, platform) queue taken in one claim
ERROR_MAX = 2000  # characters of a last error kept


def _ids(name: str) -> Any:
    """A list parameter for ``IN``."""
    return bindparam(name, expanding=True)


def _at(name: str) -> Any:
    return bindparam(name, type_=D.c.leased_until.type)


# The statements are built once: building one per call (and its cache key) cost more
# CPU than the database's work on it. A bind parameter shares no name with a column
# an UPDATE sets.
_OLDER = aliased(D)
_EARLIER_PENDING = (
    select(_OLDER.c.id)
    .where(_OLDER.c.ticket_number == D.c.ticket_number, _OLDER.c.platform == D.c.platform,
           _OLDER.c.state == PENDING, _OLDER.c.id < D.c.id)
    .exists()
)
CLAIM_HEADS = (
    select(D)
    .where(
        D.c.state == PENDING,
        D.c.platform.in_(_ids("platforms")),
        or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= _at("now")),
        or_(D.c.leased_until.is_(None), D.c.leased_until <= _at("now")),
        ~_EARLIER_PENDING,
    )
    .order_by(D.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# The rest of the heads' queues (nobody else can claim them: they are not heads while
# their head is pending); ``_followers`` keeps the due ones.
QUEUES_BEHIND = (
    select(D)
    .where(D.c.state == PENDING,
           tuple_(D.c.ticket_number, D.c.platform).in_(_ids("chains")),
           D.c.id.not_in(_ids("heads")))
    .order_by(D.c.id)
    .with_for_update()
)
# A transaction that changes several of a worker's rows locks them first, in id order:
# the heartbeat's renewal, a release and a batch of outcomes (rows done, then the next
# ones begun: not in id order) touch the same rows at once, and PostgreSQL would take
# two such transactions locking in different orders for a deadlock and abort one.
LOCK_IN_ORDER = select(D.c.id).where(D.c.id.in_(_ids("ids"))).order_by(D.c.id).with_for_update()
LEASE = (update(D).where(D.c.id.in_(_ids("ids")))
         .values(leased_until=_at("until"), leased_by=bindparam("owner")))
RENEW = (update(D).where(D.c.id.in_(_ids("ids")), D.c.leased_by == bindparam("owner"),
                         D.c.state == PENDING)
         .values(leased_until=_at("until")).returning(D.c.id))
RELEASE = (update(D).where(D.c.id.in_(_ids("ids")), D.c.leased_by == bindparam("owner"))
           .values(leased_until=None, leased_by=None))
# Run once per delivery done (executemany): each has its own time.
MARK_DONE = update(D).where(D.c.id == bindparam("done_id")).values(
    state=DeliveryState.DONE.value, delivered_at=_at("at"), leased_until=None,
    leased_by=None, last_error=None)
# A platform id the delivery made replaces the binding's; None keeps it.
RECORD_IDS = update(B).where(B.c.id == bindparam("binding")).values(
    thread=func.coalesce(bindparam("made_thread", type_=B.c.thread.type), B.c.thread),
    card_message=func.coalesce(bindparam("made_card", type_=B.c.card_message.type),
                               B.c.card_message))
START = (update(D).where(D.c.id.in_(_ids("ids")), D.c.leased_by == bindparam("owner"),
                         D.c.state == PENDING)
         .values(attempts=D.c.attempts + 1, maybe_sent=True).returning(D.c.id))
RETRY = update(D).where(D.c.id == bindparam("delivery_id")).values(
    next_attempt_at=_at("at"), leased_until=None, leased_by=None,
    maybe_sent=bindparam("made"), last_error=bindparam("error"))
PARK = update(D).where(D.c.id == bindparam("delivery_id")).values(
    state=PARKED, next_attempt_at=_at("at"), leased_until=None, leased_by=None,
    last_error=bindparam("error"))
EVENTS = select(E).where(E.c.id.in_(_ids("ids")))
TICKETS = select(T).where(T.c.number.in_(_ids("numbers")))
BINDINGS = select(B).where(B.c.id.in_(_ids("ids")))
OPENINGS = select(E).where(E.c.ticket_number.in_(_ids("numbers")),
                           E.c.kind == EventKind.OPENED.value)


async def _lock(conn: AsyncConnection, ids: list[int]) -> None:
    """``LOCK_IN_ORDER`` where there is more than one row (one row has no order)."""
    if len(ids) > 1 and conn.dialect.name == "postgresql":  # SQLite locks the whole file
        await conn.execute(LOCK_IN_ORDER, {"ids": sorted(ids)})


class SqlOutbox:
    """``core.outbound.Outbox`` over ``engine`` (each method is one transaction; a
    failing database raises ``core.errors.Unavailable``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, platforms: list[str], now: datetime, lease_until: datetime,
                    owner: str, limit: int) -> list[Delivery]:
        if not platforms:
            return []
        async with unavailable("outbox.claim"), self.engine.begin() as conn:
            heads = list((await conn.execute(CLAIM_HEADS, {
                "platforms": platforms, "now": now, "limit": limit})).all())
            rows = list(heads)
            if heads:
                rows += await self._followers(conn, heads, now)
                await conn.execute(LEASE, {"ids": [r.id for r in rows], "until": lease_until,
                                           "owner": owner})
        return [delivery_from(r) for r in sorted(rows, key=lambda r: r.id)]

    async def renew(self, ids: list[int], owner: str, lease_until: datetime) -> set[int]:
        if not ids:
            return set()
        async with unavailable("outbox.renew"), self.engine.begin() as conn:
            await _lock(conn, ids)
            kept = await conn.execute(RENEW, {"ids": ids, "owner": owner, "until": lease_until})
            return {int(i) for i in kept.scalars()}

    @staticmethod
    async def _followers(conn: AsyncConnection, heads: list[Any], now: datetime) -> list[Any]:
        """The next pending deliveries of each claimed head's (ticket, platform) queue, in
        order, up to ``CHAIN_MAX`` each and stopping at one not yet due, so one round
        delivers a ticket's card and the messages under it."""
        chains = sorted({(h.ticket_number, h.platform) for h in heads})
        taken: list[Any] = []
        per_chain: dict[tuple[int, str], int] = {}
        stopped: set[tuple[int, str]] = set()
        behind = await conn.execute(QUEUES_BEHIND, {"chains": chains,
                                                    "heads": [h.id for h in heads]})
        for row in behind.all():
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
        numbers = sorted({d.ticket_number for d in deliveries})
        binding_ids = sorted({d.binding_id for d in deliveries if d.binding_id is not None})
        async with unavailable("outbox.contexts"), self.engine.connect() as conn:
            events = {r.id: event_from(r) for r in await conn.execute(
                EVENTS, {"ids": sorted(event_ids)})}
            tickets = {r.number: ticket_from(r) for r in await conn.execute(
                TICKETS, {"numbers": numbers})}
            bindings = {r.id: binding_from(r) for r in await conn.execute(
                BINDINGS, {"ids": binding_ids})} if binding_ids else {}
            openings = {r.ticket_number: event_from(r) for r in await conn.execute(
                OPENINGS, {"numbers": numbers})}
            await conn.rollback()
        return DeliveryContext(events, tickets, bindings, openings)

    async def release(self, deliveries: list[Delivery], owner: str) -> None:
        if not deliveries:
            return
        async with unavailable("outbox.release"), self.engine.begin() as conn:
            await _lock(conn, [d.id or 0 for d in deliveries])
            await conn.execute(RELEASE, {"ids": [d.id for d in deliveries], "owner": owner})

    async def record(self, done: list[Done], start: list[Delivery], owner: str) -> set[int]:
        if not done and not start:
            return set()
        done = sorted(done, key=lambda d: d.delivery.id or 0)  # rows locked in one order
        made = [{"binding": d.delivery.binding_id, "made_thread": d.delivered.thread or None,
                 "made_card": d.delivered.card_message or None}
                for d in done if d.delivery.binding_id is not None
                and (d.delivered.thread or d.delivered.card_message)]
        async with unavailable("outbox.record"), self.engine.begin() as conn:
            await _lock(conn, [d.delivery.id or 0 for d in done] + [d.id or 0 for d in start])
            if done:
                await conn.execute(MARK_DONE, [{"done_id": d.delivery.id, "at": d.at}
                                               for d in done])
            if made:
                await conn.execute(RECORD_IDS, made)
            if not start:
                return set()
            started = await conn.execute(START, {"ids": sorted(d.id or 0 for d in start),
                                                 "owner": owner})
            return {int(i) for i in started.scalars()}

    async def retry(self, delivery: Delivery, error: str, at: datetime, *,
                    maybe_sent: bool) -> None:
        async with unavailable("outbox.retry"), self.engine.begin() as conn:
            await conn.execute(RETRY, {"delivery_id": delivery.id, "at": at,
                                       "made": maybe_sent, "error": error[:ERROR_MAX]})

    async def park(self, delivery: Delivery, error: str, now: datetime) -> None:
        async with unavailable("outbox.park"), self.engine.begin() as conn:
            await conn.execute(PARK, {"delivery_id": delivery.id, "at": now,
                                      "error": error[:ERROR_MAX]})

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
