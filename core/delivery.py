"""The delivery worker: hands committed deliveries to the platforms (DESIGN.md, "Out").

Per ticket and platform, deliveries go out in the order they were committed (a
card before the thread messages under it): each (ticket, platform) queue is one
task, and the worker keeps claiming the due heads of other queues while some are
in flight (at most ``max_queues`` at once), so one slow or throttled queue never
holds up another. Each platform's adapter implements ``Outbound``; it returns the
platform ids it made, which the worker records on the binding.

- **Lease and heartbeat.** A claim holds its rows for ``delivery.lease`` (15 s); a
  heartbeat renews it every third of that while the worker holds them, so a process
  that dies frees its rows within seconds.
- **Maybe sent.** Before calling the platform the worker records that an attempt
  began (``Outbox.record``). A delivery whose earlier attempt began and was neither
  recorded as done nor refused outright reaches the adapter with
  ``DeliveryJob.maybe_sent``: the platform may already show it, so the adapter should
  make the post idempotent (Discord: a ``nonce`` derived from ``delivery.id`` with
  ``enforce_nonce``) or look for it first (Slack: the id in message ``metadata``).
- **Retries.** ``RetryLater`` puts the delivery — and its queue behind it — back with
  a due time for that queue alone: the platform's ``Retry-After`` plus a little
  jitter, else exponential backoff with jitter. After ``delivery.max_attempts``
  attempts, or at once on ``Undeliverable``, it is **parked** (a dead letter, kept
  with its last error; ``helpthread deliveries retry`` re-queues it). A parked
  delivery leaves its queue: what follows it goes out, so a card edit that cannot be
  made never holds back the comments after it.
- **Recording.** Starts and completions go through a ``core.recorder.Recorder``: what
  the queues in flight ask while one write runs goes in the next, one transaction.
- **Giving way.** A port may have ``async give_way()``: the worker awaits it before each
  claim, each delivery and the recording of its outcome, so a platform whose people
  are waiting for an answer (Discord: interactions not answered yet) has them
  answered first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.capabilities import reader_roles
from core.clock import Clock, SystemClock
from core.coalesce import notice_of
from core.config import DeskConfig
from core.errors import Unavailable
from core.events import Audience, Opened
from core.identity import UserRef
from core.outbound import (
    DeliveryContext,
    DeliveryJob,
    Done,
    Outbound,
    Outbox,
    RetryLater,
    Undeliverable,
)
from core.recorder import Recorder
from core.routing import Binding, Delivery, Target
from core.views import ticket_view

log = logging.getLogger("helpthread.delivery")

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0  # a platform outage is retried at least every 15 minutes
RETRY_AFTER_JITTER_SECONDS = 1.0  # at most this much (or a tenth of it) on a Retry-After
MAX_QUEUES = 32  # (ticket, platform) queues one worker delivers at once
STOP_GRACE_SECONDS = 5.0  # on stop, queues in flight get this long to finish


def _reader(delivery: Delivery, binding: Binding | None) -> UserRef | None:
    """The one person a public delivery speaks to — a DM's or mail's addressee, a
    watcher's own DM thread's owner — or None for a thread several people read."""
    if delivery.target in (Target.DM, Target.EMAIL) and delivery.address:
        return UserRef.parse(delivery.address)
    return binding.watcher if binding is not None else None


class DeliveryWorker:
    """Runs deliveries for the platforms in ``outbounds`` until stopped.

    ``batch`` bounds the queues ``run_once`` claims; ``max_queues`` the queues ``run``
    delivers at once; ``heartbeat_seconds`` (default a third of ``delivery.lease``) how
    often held leases are renewed; ``rng`` draws the jitter."""

    def __init__(self, outbox: Outbox, outbounds: list[Outbound], config: DeskConfig,
                 clock: Clock | None = None, batch: int = 50, poll_seconds: float = 1.0, *,
                 max_queues: int = MAX_QUEUES, heartbeat_seconds: float | None = None,
                 rng: random.Random | None = None) -> None:
        self.outbox = outbox
        self.outbounds: dict[str, Outbound] = {}
        self._give_way: dict[str, Callable[[], Awaitable[None]]] = {}  # by platform
        for outbound in outbounds:
            self.serve(outbound)
        self.config = config
        self.clock = clock or SystemClock()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.max_queues = max_queues
        self.lease_seconds = config.delivery.lease.total_seconds()
        self.heartbeat_seconds = heartbeat_seconds or self.lease_seconds / 3
        self.max_attempts = config.delivery.max_attempts
        self.owner = uuid.uuid4().hex[:12]
        self._recorder = Recorder(outbox, self.owner)  # starts and completions, batched
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._held: dict[int, Delivery] = {}  # leased to this worker, by id
        self._running: set[asyncio.Task[None]] = set()
        # Told of each delivery parked and why (``core.undelivered.note_parked``).
        self.on_parked: Callable[[Delivery, str], Awaitable[None]] = _nothing

    def serve(self, outbound: Outbound) -> None:
        """Deliver ``outbound.platform``'s deliveries too (a platform built after the desk)."""
        self.outbounds[outbound.platform] = outbound
        self._give_way.pop(outbound.platform, None)
        hook = getattr(outbound, "give_way", None)
        if hook is not None:
            self._give_way[outbound.platform] = hook

    async def give_way(self) -> None:
        """Before a step of work: each port's ``give_way`` (see the module's notes)."""
        for hook in self._give_way.values():
            await hook()

    def wake(self) -> None:
        """Called after a commit that queued deliveries: no need to wait for the poll."""
        self._wake.set()

    @property
    def queues_in_flight(self) -> int:
        """(ticket, platform) queues ``run`` is delivering now."""
        return len(self._running)

    async def run_once(self) -> int:
        """Claim one batch — the due head of each (ticket, platform) queue and the
        deliveries behind it — and deliver each queue in order, the queues side by side;
        returns when all are done, with how many deliveries were claimed."""
        await self.give_way()
        queues, context = await self._claim(self.batch)
        if not queues:
            return 0
        beat = asyncio.create_task(self._heartbeat())
        try:
            await asyncio.gather(*(self._deliver_queue(q, context) for q in queues))
        finally:
            await _stopped(beat)
        return sum(len(q) for q in queues)

    async def run_until_idle(self, max_rounds: int = 10_000) -> int:
        """Deliver until nothing is due now; returns the deliveries still pending (due
        later after a failure, or held by another worker)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                break
        return await self.outbox.pending(list(self.outbounds))

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: claim due queues while fewer than
        ``max_queues`` are in flight, each delivered by its own task; sleep until
        ``wake()``, a queue finishing, ``stop`` or ``poll_seconds``. On stop, queues in
        flight get ``STOP_GRACE_SECONDS`` to finish; what is still held is given back."""
        beat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                self._wake.clear()  # before claiming: a commit during the claim still wakes
                free = self.max_queues - len(self._running)
                if free > 0:
                    try:
                        await self.give_way()
                        queues, context = await self._claim(free)
                    except Unavailable:  # the store logged why, in one line; wait a poll
                        queues = []
                    except Exception:  # a database hiccup must not end the worker
                        log.exception("delivery claim failed")
                        queues = []
                    for queue in queues:
                        self._spawn(queue, context)
                    if queues and len(queues) == free:
                        continue  # full: the next round waits for a queue to finish
                await self._sleep(stop)
        finally:
            await _stopped(beat)
            await self._finish()

    def _spawn(self, queue: list[Delivery], context: DeliveryContext) -> None:
        task = asyncio.create_task(self._deliver_queue(queue, context))
        self._running.add(task)
        task.add_done_callback(self._queue_done)

    def _queue_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # room for another queue; this one's next rows may be due

    async def _finish(self) -> None:
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._recorder.idle()
        held = list(self._held.values())
        self._held.clear()
        if held:
            await _quietly(self.outbox.release(held, self.owner), "giving back deliveries at stop")

    async def _sleep(self, stop: asyncio.Event) -> None:
        """Until ``wake()``, ``stop`` or ``poll_seconds`` (a stop is not kept waiting)."""
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=self.poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _claim(self, limit: int) -> tuple[list[list[Delivery]], DeliveryContext]:
        """Up to ``limit`` due queues, leased to this worker, and what they refer to."""
        now = self.clock.now()
        claimed = await self.outbox.claim(
            list(self.outbounds), now, now + timedelta(seconds=self.lease_seconds),
            self.owner, limit)
        if not claimed:
            return [], DeliveryContext({}, {}, {})
        for delivery in claimed:
            self._held[_id(delivery)] = delivery
        try:
            context = await self.outbox.contexts(claimed)
        except Exception:
            await self._give_back(claimed)
            raise
        queues: dict[tuple[int, str], list[Delivery]] = {}
        for delivery in claimed:
            queues.setdefault((delivery.ticket_number, delivery.platform), []).append(delivery)
        return list(queues.values()), context

    async def _give_back(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._held.pop(_id(delivery), None)
        if deliveries:
            await _quietly(self.outbox.release(deliveries, self.owner), "giving back deliveries")

    async def _heartbeat(self) -> None:
        """Renew the lease on every held delivery, every ``heartbeat_seconds``."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            ids = list(self._held)
            if not ids:
                continue
            until = self.clock.now() + timedelta(seconds=self.lease_seconds)
            try:
                kept = await self.outbox.renew(ids, self.owner, until)
            except Exception:  # the next beat tries again; the lease still has 2/3 left
                log.warning("delivery lease renewal failed", exc_info=True)
                continue
            lost = [i for i in ids if i not in kept and i in self._held]
            if lost:
                log.warning("delivery leases lost (another worker may hold them): %s", lost)

    async def _deliver_queue(self, queue: list[Delivery], context: DeliveryContext) -> None:
        """One queue's claimed deliveries, in order; a retry stops it there (nothing
        overtakes a retry) and gives back the rest. Recording one delivery done also
        marks the next one started, in the same transaction."""
        started = False
        for i, delivery in enumerate(queue):
            following = queue[i + 1] if i + 1 < len(queue) else None
            try:
                await self.give_way()
                if not started and not await self._recorder.start(delivery):
                    raise _LeaseLost
                went_on, started = await self._deliver(delivery, context, following)
            except _LeaseLost:  # another worker may hold the rest now: leave them be
                log.warning("delivery %s: lease ran out before its attempt; left to its "
                            "new holder", delivery.id)
                for lost in queue[i:]:
                    self._held.pop(_id(lost), None)
                return
            except Exception:  # the database failed around the call: the lease runs out
                log.exception("delivery %s: could not record its outcome", delivery.id)
                await self._give_back(queue[i:])
                return
            self._held.pop(_id(delivery), None)
            if not went_on:
                await self._give_back(queue[i + 1:])
                return

    async def _deliver(self, delivery: Delivery, context: DeliveryContext,
                       following: Delivery | None) -> tuple[bool, bool]:
        """One delivery, already marked started: whether its queue goes on (False: retried
        later), and whether ``following`` was marked started with its completion."""
        outbound = self.outbounds[delivery.platform]
        binding = context.bindings.get(delivery.binding_id or 0)
        maybe_sent = delivery.maybe_sent  # as claimed: before this attempt began
        delivery.attempts += 1
        try:
            try:
                job = self._job(delivery, context, binding, maybe_sent)
                delivered = await outbound.deliver(job)
            finally:  # its outcome is recorded next: no heartbeat renews it meanwhile
                self._held.pop(_id(delivery), None)
        except RetryLater as err:
            # Even a 429 may come after part of the delivery was made (a new card, then
            # the message under it throttled), so the next attempt looks before posting.
            await self._failed(delivery, str(err), err.after, maybe_sent=True)
            return False, False
        except Undeliverable as err:
            await self.outbox.park(delivery, str(err), self.clock.now())
            log.error("delivery %s parked, refused for good: %s", delivery.id, err)
            await self._parked(delivery, str(err))
            return True, False
        except Exception as err:  # an adapter bug or outage: keep it and retry later
            log.exception("delivery %s raised", delivery.id)
            await self._failed(delivery, f"{type(err).__name__}: {err}", None, maybe_sent=True)
            return False, False
        await self.give_way()  # recording it can wait too (the lease has seconds left)
        started = await self._recorder.complete(Done(delivery, delivered, self.clock.now()),
                                                following)
        if binding is not None:  # the next message in this queue goes under the new card
            binding.thread = binding.thread or delivered.thread
            binding.card_message = binding.card_message or delivered.card_message
        return True, started

    def _job(self, delivery: Delivery, context: DeliveryContext, binding: Binding | None,
             maybe_sent: bool) -> DeliveryJob:
        event = context.events[delivery.event_id]
        start = context.events.get(delivery.merged_from) if delivery.merged_from else None
        event = notice_of(event, start).visible_to(delivery.audience)
        internal = delivery.audience is Audience.INTERNAL
        ticket = context.tickets[delivery.ticket_number]
        viewer = reader_roles(ticket, self.config, internal=internal,
                              reader=_reader(delivery, binding))
        view = ticket_view(ticket, self.config, internal=internal, now=self.clock.now(),
                           viewer=viewer)
        opening = context.openings.get(delivery.ticket_number)
        opened = opening.visible_to(delivery.audience).payload if opening else None
        if isinstance(event.payload, Opened):
            opened = event.payload
        return DeliveryJob(delivery, event, view, binding, self.config.desk.name, maybe_sent,
                           opened if isinstance(opened, Opened) else None)

    async def _failed(self, delivery: Delivery, error: str, after: float | None, *,
                      maybe_sent: bool) -> None:
        """Retry later, or park it once it has had ``delivery.max_attempts`` attempts."""
        if delivery.attempts >= self.max_attempts:
            await self.outbox.park(delivery, error, self.clock.now())
            log.error("delivery %s parked after %d attempts: %s", delivery.id,
                      delivery.attempts, error)
            await self._parked(delivery, error)
            return
        wait = self.retry_wait(delivery.attempts, after)
        await self.outbox.retry(delivery, error, self.clock.now() + timedelta(seconds=wait),
                                maybe_sent=maybe_sent)
        log.warning("delivery %s retried in %.1fs: %s", delivery.id, wait, error)

    async def _parked(self, delivery: Delivery, error: str) -> None:
        try:
            await self.on_parked(delivery, error)
        except Exception:  # telling of it must never stop the deliveries
            log.exception("delivery %s parked; telling of it failed", delivery.id)

    def retry_wait(self, attempts: int, after: float | None) -> float:
        """Seconds until the next attempt after ``attempts`` attempts: the platform's
        ``after`` plus up to a tenth of it (at most ``RETRY_AFTER_JITTER_SECONDS``) of
        jitter, else exponential backoff (2 s doubling, capped at 15 minutes) with
        "equal jitter": between half of it and all of it."""
        if after is not None:
            return after + self._rng.uniform(0, min(RETRY_AFTER_JITTER_SECONDS, after / 10))
        full = min(BACKOFF_BASE_SECONDS * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
        return full / 2 + self._rng.uniform(0, full / 2)


class _LeaseLost(Exception):
    """This worker's lease on a delivery ran out (a stall longer than the lease)."""


def _id(delivery: Delivery) -> int:
    assert delivery.id is not None
    return delivery.id


async def _stopped(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has ended: a heartbeat cancelled mid-renewal
    still closes its database connection, which must happen before the engine goes."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _quietly(work: Awaitable[None], what: str) -> None:
    """``work``; a failure is logged (the leases run out by themselves)."""
    try:
        await work
    except Exception:
        log.warning("%s failed; their leases run out by themselves", what, exc_info=True)


async def _nothing(_delivery: Delivery, _error: str) -> None:
    return None
