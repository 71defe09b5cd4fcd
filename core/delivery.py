"""The delivery worker: hands committed deliveries to the platforms (DESIGN.md, "Out").

Per ticket and platform, deliveries go out in the order they were committed (a
card before the thread messages under it). Each platform's adapter implements
``Outbound``; it returns the platform ids it made, which the worker records on
the binding. Failures retry with exponential backoff (``RetryLater`` carries a
platform's ``Retry-After``); ``Undeliverable`` marks a delivery failed for good.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.clock import Clock, SystemClock
from core.config import DeskConfig
from core.events import Audience, Event
from core.routing import Binding, Delivery
from core.tickets import Ticket
from core.views import TicketView, ticket_view

log = logging.getLogger("helpthread.delivery")

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0  # a platform outage is retried at least every 15 minutes
LEASE_SECONDS = 120.0  # a worker that dies mid-delivery frees its rows after this


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """What an adapter needs to render one delivery. ``event`` is already as
    ``delivery.audience`` may read it (``Event.visible_to``); ``ticket`` is the ticket
    now, without sensitive fields; ``binding`` is set for thread deliveries."""

    delivery: Delivery
    event: Event
    ticket: TicketView
    binding: Binding | None
    desk_name: str = "Helpthread"  # desk.name: how the desk signs what it says
    maybe_sent: bool = False


@dataclass(frozen=True, slots=True)
class Delivered:
    """Platform ids the delivery made: ``thread`` (Slack ``thread_ts``, Discord thread id)
    and ``card_message`` when a card was posted; recorded on the binding."""

    thread: str | None = None
    card_message: str | None = None


class RetryLater(Exception):
    """The platform asked us to wait ``after`` seconds (HTTP 429 ``Retry-After``) or failed
    for now (5xx, connection refused)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """The platform refused the delivery for good (channel gone, user unknown)."""


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What a batch of deliveries refers to, by id: events, tickets (by number), bindings."""

    events: dict[int, Event]
    tickets: dict[int, Ticket]
    bindings: dict[int, Binding]


class Outbound(Protocol):
    """A platform's outbound port. ``platform`` names which deliveries it takes."""

    platform: str

    async def deliver(self, job: DeliveryJob) -> Delivered: ...


class Outbox(Protocol):
    """The delivery queue in storage (``core.store.outbox.SqlOutbox``)."""

    async def claim(self, platforms: list[str], now: datetime, lease_until: datetime,
                    owner: str, limit: int) -> list[Delivery]: ...

    async def contexts(self, deliveries: list[Delivery]) -> DeliveryContext: ...

    async def release(self, deliveries: list[Delivery]) -> None: ...

    async def complete(self, delivery: Delivery, delivered: Delivered, now: datetime) -> None: ...

    async def retry(self, delivery: Delivery, error: str, at: datetime) -> None: ...

    async def fail(self, delivery: Delivery, error: str, now: datetime) -> None: ...

    async def pending(self, platforms: list[str]) -> int: ...


class DeliveryWorker:
    """Runs deliveries for the platforms in ``outbounds`` until stopped."""

    def __init__(self, outbox: Outbox, outbounds: list[Outbound], config: DeskConfig,
                 clock: Clock | None = None, batch: int = 50, poll_seconds: float = 1.0) -> None:
        self.outbox = outbox
        self.outbounds = {o.platform: o for o in outbounds}
        self.config = config
        self.clock = clock or SystemClock()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.owner = uuid.uuid4().hex[:12]
        self._wake = asyncio.Event()

    def serve(self, outbound: Outbound) -> None:
        """Deliver ``outbound.platform``'s deliveries too (a platform built after the desk)."""
        self.outbounds[outbound.platform] = outbound

    def wake(self) -> None:
        """Called after a commit that queued deliveries: no need to wait for the poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch — the due head of each (ticket, platform) queue and the
        deliveries behind it — and deliver each queue in order, the queues side by side.
        Returns how many deliveries were claimed."""
        now = self.clock.now()
        claimed = await self.outbox.claim(
            list(self.outbounds), now, now + timedelta(seconds=LEASE_SECONDS), self.owner,
            self.batch)
        if not claimed:
            return 0
        context = await self.outbox.contexts(claimed)
        queues: dict[tuple[int, str], list[Delivery]] = {}
        for delivery in claimed:
            queues.setdefault((delivery.ticket_number, delivery.platform), []).append(delivery)
        await asyncio.gather(*(self._deliver_queue(q, context) for q in queues.values()))
        return len(claimed)

    async def _deliver_queue(self, queue: list[Delivery], context: DeliveryContext) -> None:
        for i, delivery in enumerate(queue):
            if not await self._deliver(delivery, context):
                await self.outbox.release(queue[i + 1:])  # order: nothing overtakes a retry
                return

    async def run_until_idle(self, max_rounds: int = 10_000) -> int:
        """Deliver until nothing is due now; returns the deliveries still pending (due
        later after a failure)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                break
        return await self.outbox.pending(list(self.outbounds))

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, waking on ``wake()`` or every ``poll_seconds``."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:  # a database hiccup must not end the worker
                log.exception("delivery round failed")
                handled = 0
            if handled:
                continue
            self._wake.clear()
            await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        """Until ``wake()``, ``stop`` or ``poll_seconds`` (a stop is not kept waiting)."""
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=self.poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _deliver(self, delivery: Delivery, context: DeliveryContext) -> bool:
        """One delivery; False when it must be retried later (its queue stops there)."""
        outbound = self.outbounds[delivery.platform]
        binding = context.bindings.get(delivery.binding_id or 0)
        try:
            event = context.events[delivery.event_id]
            event = event.visible_to(delivery.audience)
            internal = delivery.audience is Audience.INTERNAL
            view = ticket_view(context.tickets[delivery.ticket_number], self.config,
                               internal=internal, now=self.clock.now())
            delivered = await outbound.deliver(DeliveryJob(delivery, event, view, binding,
                                                           self.config.desk.name))
        except RetryLater as err:
            wait = err.after if err.after is not None else self._backoff(delivery.attempts)
            await self.outbox.retry(delivery, str(err), self.clock.now() + timedelta(seconds=wait))
            log.warning("delivery %s retried in %.1fs: %s", delivery.id, wait, err)
            return False
        except Undeliverable as err:
            await self.outbox.fail(delivery, str(err), self.clock.now())
            log.error("delivery %s failed for good: %s", delivery.id, err)
            return True
        except Exception as err:  # an adapter bug or outage: keep it and retry later
            wait = self._backoff(delivery.attempts)
            await self.outbox.retry(delivery, f"{type(err).__name__}: {err}",
                                    self.clock.now() + timedelta(seconds=wait))
            log.exception("delivery %s raised; retried in %.1fs", delivery.id, wait)
            return False
        await self.outbox.complete(delivery, delivered, self.clock.now())
        if binding is not None:  # the next message in this queue goes under the new card
            binding.thread = binding.thread or delivered.thread
            binding.card_message = binding.card_message or delivered.card_message
        return True

    @staticmethod
    def _backoff(attempts: int) -> float:
        return float(min(BACKOFF_BASE_SECONDS * 2 ** attempts, BACKOFF_CAP_SECONDS))
