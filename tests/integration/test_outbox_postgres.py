"""Three running delivery workers, each on its own connection pool, share one PostgreSQL
outbox of 1,000 deliveries (issue 10, point 9's "deliveries are shared as today"):
``FOR UPDATE SKIP LOCKED`` and the leases give each delivery to exactly one worker,
and every (ticket, platform) queue still leaves in order."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from itertools import pairwise

from sqlalchemy import func, select

from core.delivery import DeliveryWorker
from core.desk import Desk
from core.events import PriorityChanged
from core.outbound import Delivered, DeliveryJob
from core.routing import DeliveryState
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import D, SqlStores
from tests.support.people import SHELL_ROUTE, agent, desk_config, form, person
from tests.support.recording import RecordingOutbound

TICKETS = 125  # × 8 deliveries each (open 3, reply 2, note 1, reply 2) = 1,000


class Logged(RecordingOutbound):
    """A platform that writes each delivery it gets into one log all workers share."""

    def __init__(self, name: str, log: list[tuple[str, int, int]]) -> None:
        super().__init__("shell")
        self.name = name
        self.log = log

    async def deliver(self, job: DeliveryJob) -> Delivered:
        assert job.delivery.id is not None
        self.log.append((self.name, job.delivery.ticket_number, job.delivery.id))
        await asyncio.sleep(0)  # let the other workers in between
        return await super().deliver(job)


async def test_three_workers_deliver_a_thousand_deliveries_once_each(
        postgres_url: str) -> None:
    await upgrade_async(postgres_url)
    config = desk_config()
    engines = [make_engine(postgres_url) for _ in range(3)]
    try:
        desk = Desk(config, SqlStores(engines[0]), [SHELL_ROUTE])
        sam = agent("sam")
        for i in range(TICKETS):
            number = (await desk.open_ticket(person(f"user{i}"), form(f"Report {i}"))
                      ).ticket.number
            await desk.reply(sam, number, "Looking.")
            await desk.note(sam, number, "Tracking domain?")
            await desk.reply(sam, number, "Fixed.")
        async with engines[0].connect() as conn:
            queued = (await conn.execute(select(func.count()).select_from(D))).scalar_one()
        assert queued == 1000

        log: list[tuple[str, int, int]] = []
        workers = [DeliveryWorker(SqlOutbox(engine), [Logged(f"w{i}", log)], config,
                                  poll_seconds=0.05, max_queues=8)
                   for i, engine in enumerate(engines)]
        stop = asyncio.Event()
        running = [asyncio.create_task(w.run(stop)) for w in workers]
        for _ in range(6000):  # a bound, not a timing: done as soon as all arrived
            if len(log) >= 1000 or any(t.done() for t in running):
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running), 30)

        ids = [delivery_id for _, _, delivery_id in log]
        assert len(ids) == 1000 and len(set(ids)) == 1000, "each delivered exactly once"
        by_worker = Counter(name for name, _, _ in log)
        assert len(by_worker) == 3, f"all three took a share: {by_worker}"
        queues: dict[int, list[int]] = defaultdict(list)
        for _, number, delivery_id in log:
            queues[number].append(delivery_id)
        assert all(q == sorted(q) for q in queues.values()), "each queue in order"
        async with engines[0].connect() as conn:
            states = dict((await conn.execute(
                select(D.c.state, func.count()).group_by(D.c.state))).all())
            attempts = (await conn.execute(select(func.max(D.c.attempts)))).scalar_one()
        assert states == {DeliveryState.DONE.value: 1000} and attempts == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_priority_changes_racing_a_running_worker_tell_a_continuous_story(
        postgres_url: str) -> None:
    """Changes committed while workers claim (``SKIP LOCKED`` on both sides, no
    deadlock): every target's notices chain old → new without a gap and end on the
    final priority, however many of them merged."""
    await upgrade_async(postgres_url)
    config = desk_config()
    engines = [make_engine(postgres_url) for _ in range(3)]
    try:
        log: list[tuple[str, int, int]] = []
        outbounds = [Logged(f"w{i}", log) for i in range(2)]
        workers = [DeliveryWorker(SqlOutbox(engine), [o], config, poll_seconds=0.01)
                   for engine, o in zip(engines[1:], outbounds, strict=True)]
        desk = Desk(config, SqlStores(engines[0]), [SHELL_ROUTE],
                    on_commit=lambda: [w.wake() for w in workers] and None)
        await desk.open_ticket(person("lena"), form())
        stop = asyncio.Event()
        running = [asyncio.create_task(w.run(stop)) for w in workers]
        levels = ["high", "urgent", "low", "normal"] * 4 + ["high", "urgent", "low", "urgent"]
        for level in levels:
            await desk.set_priority(agent("sam"), 1, level)
            await asyncio.sleep(0)
        for _ in range(3000):  # a bound: done when nothing is pending
            if await SqlOutbox(engines[0]).pending(["shell"]) == 0:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running), 30)

        notices: dict[int | None, list[PriorityChanged]] = defaultdict(list)
        for job in sorted((j for o in outbounds for j in o.jobs),
                          key=lambda j: j.delivery.id or 0):
            if isinstance(job.event.payload, PriorityChanged):
                notices[job.delivery.binding_id].append(job.event.payload)
        assert len(notices) == 2
        for told in notices.values():
            assert 1 <= len(told) <= len(levels)
            assert told[0].previous == "normal" and told[-1].to == "urgent"
            for before, after in pairwise(told):
                assert after.previous == before.to, told
    finally:
        for engine in engines:
            await engine.dispose()
