"""The delivery queue (``core.outbound.Outbox``) over the in-memory store's state.

The same contract as ``core.store.outbox.SqlOutbox`` (tests/contract checks both):
heads of (ticket, platform) queues that are due and held by nobody, the due
deliveries behind them, leases with an owner, parking and re-queueing. Every call
works on ``stores.state`` as it is now (a committed transaction replaces it).
"""

from __future__ import annotations

import copy
from datetime import datetime

from core.events import EventKind
from core.outbound import DeliveryContext, Done
from core.routing import Delivery, DeliveryState
from core.store.outbox import CHAIN_MAX, ERROR_MAX
from tests.support.memory import MemoryState, MemoryStores

PENDING, PARKED, DONE = DeliveryState.PENDING, DeliveryState.PARKED, DeliveryState.DONE


class MemoryOutbox:
    def __init__(self, stores: MemoryStores) -> None:
        self.stores = stores

    @property
    def s(self) -> MemoryState:
        return self.stores.state

    def _row(self, delivery: Delivery) -> Delivery | None:
        return next((d for d in self.s.deliveries if d.id == delivery.id), None)

    def _free(self, d: Delivery, now: datetime) -> bool:
        lease = self.s.leases.get(d.id or 0)
        due = d.next_attempt_at is None or d.next_attempt_at <= now
        return due and (lease is None or lease[1] <= now)

    async def claim(self, platforms: list[str], now: datetime, lease_until: datetime,
                    owner: str, limit: int) -> list[Delivery]:
        queues: dict[tuple[int, str], list[Delivery]] = {}
        for d in sorted(self.s.deliveries, key=lambda d: d.id or 0):
            if d.state is PENDING and d.platform in platforms:
                queues.setdefault((d.ticket_number, d.platform), []).append(d)
        taken: list[Delivery] = []
        heads = 0
        for queue in sorted(queues.values(), key=lambda q: q[0].id or 0):
            if heads == limit or not self._free(queue[0], now):
                continue
            heads += 1
            taken.append(queue[0])
            for follower in queue[1:CHAIN_MAX + 1]:
                if not self._free(follower, now):
                    break
                taken.append(follower)
        for d in taken:
            self.s.leases[d.id or 0] = (owner, lease_until)
        return [copy.deepcopy(d) for d in sorted(taken, key=lambda d: d.id or 0)]

    async def renew(self, ids: list[int], owner: str, lease_until: datetime) -> set[int]:
        kept = set()
        for d in self.s.deliveries:
            lease = self.s.leases.get(d.id or 0)
            if d.id in ids and d.state is PENDING and lease is not None and lease[0] == owner:
                self.s.leases[d.id] = (owner, lease_until)
                kept.add(d.id)
        return kept

    async def contexts(self, deliveries: list[Delivery]) -> DeliveryContext:
        wanted = {d.event_id for d in deliveries} | {
            d.merged_from for d in deliveries if d.merged_from is not None}
        numbers = {d.ticket_number for d in deliveries}
        binding_ids = {d.binding_id for d in deliveries}
        return DeliveryContext(
            {e.id: copy.deepcopy(e) for e in self.s.events if e.id in wanted},
            {n: copy.deepcopy(t) for n, t in self.s.tickets.items() if n in numbers},
            {b.id: copy.deepcopy(b) for b in self.s.bindings if b.id in binding_ids},
            {e.ticket_number: copy.deepcopy(e) for e in self.s.events
             if e.ticket_number in numbers and e.kind is EventKind.OPENED},
        )

    async def release(self, deliveries: list[Delivery], owner: str) -> None:
        for d in deliveries:
            lease = self.s.leases.get(d.id or 0)
            if lease is not None and lease[0] == owner:
                del self.s.leases[d.id or 0]

    async def record(self, done: list[Done], start: list[Delivery], owner: str) -> set[int]:
        for made in done:
            row = self._row(made.delivery)
            if row is not None:
                row.state, row.last_error = DONE, None
            self.s.leases.pop(made.delivery.id or 0, None)
            for binding in self.s.bindings:
                if binding.id == made.delivery.binding_id:
                    binding.thread = made.delivered.thread or binding.thread
                    binding.card_message = made.delivered.card_message or binding.card_message
        return {d.id or 0 for d in start if self._start(d, owner)}

    def _start(self, delivery: Delivery, owner: str) -> bool:
        row = self._row(delivery)
        lease = self.s.leases.get(delivery.id or 0)
        if row is None or row.state is not PENDING or lease is None or lease[0] != owner:
            return False
        row.attempts += 1
        row.maybe_sent = True
        return True

    async def retry(self, delivery: Delivery, error: str, at: datetime, *,
                    maybe_sent: bool) -> None:
        row = self._row(delivery)
        if row is not None:
            row.next_attempt_at, row.maybe_sent = at, maybe_sent
            row.last_error = error[:ERROR_MAX]
        self.s.leases.pop(delivery.id or 0, None)

    async def park(self, delivery: Delivery, error: str, now: datetime) -> None:
        row = self._row(delivery)
        if row is not None:
            row.state, row.next_attempt_at, row.last_error = PARKED, now, error[:ERROR_MAX]
        self.s.leases.pop(delivery.id or 0, None)

    async def pending(self, platforms: list[str]) -> int:
        return sum(d.state is PENDING and d.platform in platforms for d in self.s.deliveries)

    async def listing(self, *, parked_only: bool, limit: int,
                      ids: list[int] | None = None) -> list[Delivery]:
        states = {PARKED} if parked_only else {PENDING, PARKED}
        rows = sorted((d for d in self.s.deliveries
                       if d.state in states and (ids is None or d.id in ids)),
                      key=lambda d: d.id or 0)
        return [copy.deepcopy(d) for d in rows[:limit]]

    async def requeue(self, ids: list[int] | None, now: datetime) -> list[int]:
        done = []
        for d in self.s.deliveries:
            if d.state is PARKED and (ids is None or d.id in ids):
                d.state, d.attempts, d.next_attempt_at = PENDING, 0, now
                self.s.leases.pop(d.id or 0, None)
                done.append(d.id or 0)
        return sorted(done)
