"""The running delivery worker on SQLite and PostgreSQL (issue 10, points 4–5): a short
lease kept alive by the heartbeat, a dead worker's rows freed within the lease and
flagged ``maybe_sent``, queues delivered side by side while one is stuck or throttled,
parking after ``delivery.max_attempts``, jittered backoff.

Time is the desk's ``FrozenClock``; waits are for conditions, bounded, never timed."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.config import DeliverySection
from core.delivery import DeliveryWorker
from core.outbound import Delivered, DeliveryJob, RetryLater
from core.routing import DeliveryState
from core.store.outbox import SqlOutbox
from core.store.sql import D
from tests.integration.conftest import Wired
from tests.support.people import agent, desk_config, form, person
from tests.support.recording import RecordingOutbound

LENA, OMAR, SAM = person("lena"), person("omar"), agent("sam")


async def until(condition: Callable[[], bool], what: str) -> None:
    """Yield to the event loop until ``condition`` holds (at most 2,000 turns)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


class Gate(RecordingOutbound):
    """A platform whose calls for ``held`` tickets hang until ``open`` is set (a call
    stuck in a slow platform, or a process frozen mid-call)."""

    def __init__(self, held: set[int]) -> None:
        super().__init__()
        self.held = held
        self.open = asyncio.Event()
        self.waiting: list[DeliveryJob] = []

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.delivery.ticket_number in self.held:
            self.waiting.append(job)
            await self.open.wait()
        return await super().deliver(job)


async def leases(wired: Wired) -> dict[int, tuple[str | None, object]]:
    async with wired.stores.engine.connect() as conn:
        rows = await conn.execute(select(D.c.id, D.c.leased_by, D.c.leased_until))
        return {r.id: (r.leased_by, r.leased_until) for r in rows}


async def test_the_heartbeat_keeps_a_long_call_leased(wired: Wired) -> None:
    gate = Gate(held={1})
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [gate], wired.desk.config,
                            clock=wired.clock, heartbeat_seconds=0.01)
    other = DeliveryWorker(SqlOutbox(wired.stores.engine), [RecordingOutbound()],
                           wired.desk.config, clock=wired.clock)
    await wired.desk.open_ticket(LENA, form())
    running = asyncio.create_task(worker.run_once())
    await until(lambda: bool(gate.waiting), "the first call began")
    for _ in range(4):  # a minute in 10 s steps: each step renewed before the next
        wired.clock.advance(10)
        deadline = wired.clock.now() + timedelta(seconds=14)
        renewed = False
        for _ in range(400):
            held = await leases(wired)
            if all(until_ is not None and until_ >= deadline for _, until_ in held.values()):
                renewed = True
                break
            await asyncio.sleep(0.005)
        assert renewed, "the heartbeat renewed every held row"
        assert await other.run_once() == 0, "still held: nobody else takes the queue"
    gate.open.set()
    assert await running == 3
    assert [j.delivery.purpose for j in gate.jobs] == ["card", "card", "receipt"]


async def test_a_dead_worker_frees_its_rows_within_the_lease_and_warns_the_next(
        wired: Wired) -> None:
    await wired.desk.open_ticket(LENA, form())
    outbox = SqlOutbox(wired.stores.engine)
    now = wired.clock.now()
    taken = await outbox.claim(["shell"], now, now + timedelta(seconds=15), "dead", 10)
    assert await outbox.record([], [taken[0]], "dead") == {taken[0].id}  # … and it dies
    assert await wired.worker.run_once() == 0
    wired.clock.advance(15)  # delivery.lease: 15 s, not two minutes
    assert await wired.worker.run_until_idle() == 0
    jobs = wired.outbound.jobs
    assert [(j.delivery.id, j.maybe_sent) for j in jobs] == [
        (taken[0].id, True), (taken[1].id, False), (taken[2].id, False)]
    assert jobs[0].delivery.attempts == 2


async def test_a_stuck_queue_does_not_hold_back_the_others(wired: Wired) -> None:
    """Issue 10, point 5: the worker claims new work while a queue is in flight."""
    gate = Gate(held={1})
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [gate], wired.desk.config,
                            clock=wired.clock, poll_seconds=3600)
    wired.desk._on_commit = worker.wake
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await wired.desk.open_ticket(LENA, form())
        await until(lambda: bool(gate.waiting), "ticket 1's card is in flight")
        await wired.desk.open_ticket(OMAR, form("Another"))
        await wired.desk.reply(SAM, 2, "Done already.")
        await until(lambda: len(gate.jobs) == 5, "ticket 2 delivered meanwhile")
        assert {j.delivery.ticket_number for j in gate.jobs} == {2}
        assert [j.delivery.ticket_number for j in gate.waiting] == [1], "still stuck"
        gate.open.set()
        await until(lambda: len(gate.jobs) == 8, "ticket 1 delivered once let through")
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert await worker.outbox.pending(["shell"]) == 0


class Throttled(RecordingOutbound):
    """A platform that answers 429 ``Retry-After: 30`` to ticket 1's deliveries."""

    refused = 0

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.delivery.ticket_number == 1:
            self.refused += 1
            raise RetryLater("HTTP 429", after=30)
        return await super().deliver(job)


async def test_a_rate_limited_queue_waits_alone(wired: Wired) -> None:
    throttled = Throttled()
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [throttled], wired.desk.config,
                            clock=wired.clock, poll_seconds=3600)
    wired.desk._on_commit = worker.wake
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await wired.desk.open_ticket(LENA, form())
        await until(lambda: throttled.refused == 1, "ticket 1 refused")
        await wired.desk.open_ticket(OMAR, form("Another"))
        await until(lambda: len(throttled.jobs) == 3, "ticket 2 goes out meanwhile")
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert throttled.refused == 1, "ticket 1 is not tried again before its Retry-After"
    async with wired.stores.engine.connect() as conn:
        due = (await conn.execute(select(D.c.next_attempt_at).where(
            D.c.ticket_number == 1, D.c.attempts == 1))).scalar_one()
    waited = (due - wired.clock.now()).total_seconds()
    assert 30 <= waited <= 31, "Retry-After plus at most a second of jitter"


class Failing(RecordingOutbound):
    """A platform that fails ticket 1's card to the team every time (a 5xx)."""

    refused = 0

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.delivery.purpose == "card" and job.delivery.audience.value == "internal":
            self.refused += 1
            raise RetryLater("Slack answered HTTP 503")
        return await super().deliver(job)


async def test_after_max_attempts_a_delivery_is_parked_and_its_queue_goes_on(
        wired: Wired) -> None:
    config = desk_config(delivery=DeliverySection(max_attempts=3))
    failing = Failing()
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [failing], config,
                            clock=wired.clock)
    await wired.desk.open_ticket(LENA, form())
    await wired.desk.reply(SAM, 1, "We are on it.")
    for _ in range(10):
        if await worker.run_until_idle() == 0:
            break
        wired.clock.advance(60)
    assert failing.refused == 3
    async with wired.stores.engine.connect() as conn:
        rows = (await conn.execute(select(D.c.state, D.c.attempts, D.c.last_error)
                                   .where(D.c.state != "done"))).all()
    assert [tuple(r) for r in rows] == [(DeliveryState.PARKED.value, 3,
                                         "Slack answered HTTP 503")]
    assert [j.delivery.purpose for j in failing.jobs].count("thread") == 2, \
        "the messages behind the parked card went out"


@pytest.mark.parametrize("attempts", range(1, 15))
def test_backoff_doubles_with_equal_jitter_and_retry_after_gets_a_little(
        attempts: int) -> None:
    worker = DeliveryWorker(SqlOutbox.__new__(SqlOutbox), [], desk_config(),
                            rng=random.Random(attempts))
    full = min(2.0 * 2 ** (attempts - 1), 900.0)
    waits = {worker.retry_wait(attempts, None) for _ in range(20)}
    assert all(full / 2 <= w <= full for w in waits) and len(waits) > 1
    after = {worker.retry_wait(attempts, 2.0) for _ in range(20)}
    assert all(2.0 <= w <= 2.2 for w in after) and len(after) > 1
