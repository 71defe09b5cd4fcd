"""The worker's writes, several queues' at a time (``core.recorder``), on SQLite and
PostgreSQL: one transaction per round of outcomes, not one per delivery; nothing goes
out before its start is on record; a write that fails fails every queue in it, and
those deliveries go out again, flagged ``maybe_sent``, and are done once."""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.delivery import DeliveryWorker
from core.outbound import Delivered, DeliveryJob, Done
from core.routing import Delivery, DeliveryState
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import D, SqlStores
from tests.integration.conftest import Wired
from tests.support.databases import PG_ADMIN_DSN
from tests.support.people import form, make_desk, person
from tests.support.recording import RecordingOutbound

PEOPLE = [person(name) for name in ("lena", "omar", "mia")]


class Written(SqlOutbox):
    """The SQL outbox, keeping what each ``record`` was asked: (done ids, start ids)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.writes: list[tuple[list[int], list[int]]] = []

    async def record(self, done: list[Done], start: list[Delivery], owner: str) -> set[int]:
        self.writes.append((sorted(d.delivery.id or 0 for d in done),
                            sorted(d.id or 0 for d in start)))
        return await super().record(done, start, owner)


class Checking(RecordingOutbound):
    """A platform that, at each call, reads whether the database already shows the
    delivery begun (what a process dying now would leave behind)."""

    def __init__(self, outbox: SqlOutbox) -> None:
        super().__init__()
        self.outbox = outbox
        self.begun_before_call: list[bool] = []

    async def deliver(self, job: DeliveryJob) -> Delivered:
        async with self.outbox.engine.connect() as conn:
            row = (await conn.execute(select(D.c.attempts, D.c.maybe_sent)
                                      .where(D.c.id == job.delivery.id))).one()
        self.begun_before_call.append(row.attempts == 1 and row.maybe_sent)
        return await super().deliver(job)


async def test_the_queues_in_flight_share_one_transaction_per_round(wired: Wired) -> None:
    for who in PEOPLE:  # three queues: two cards and a receipt each
        await wired.desk.open_ticket(who, form(f"From {who.name}"))
    outbox = Written(wired.stores.engine)
    platform = RecordingOutbound()  # answers at once: the queues keep in step
    worker = DeliveryWorker(outbox, [platform], wired.desk.config, clock=wired.clock)
    assert await worker.run_once() == 9
    queues = [[j.delivery.id or 0 for j in platform.jobs if j.delivery.ticket_number == n]
              for n in (1, 2, 3)]
    assert [[j.delivery.purpose for j in platform.jobs if j.delivery.ticket_number == n]
            for n in (1, 2, 3)] == [["card", "card", "receipt"]] * 3
    rounds = [sorted(q[i] for q in queues) for i in range(3)]
    assert outbox.writes == [([], rounds[0]), (rounds[0], rounds[1]),
                             (rounds[1], rounds[2]), (rounds[2], [])], \
        "the heads begun together; then each round's three done and the next three begun"
    async with wired.stores.engine.connect() as conn:
        states = (await conn.execute(select(D.c.state, D.c.delivered_at))).all()
    assert {s for s, _ in states} == {DeliveryState.DONE.value}
    assert all(isinstance(at, datetime) for _, at in states)
    async with wired.stores.reading() as store:
        threads = [b.thread for n in (1, 2, 3) for b in await store.bindings(n)]
    assert threads and all(threads), "each card's thread kept on its binding"


async def test_each_delivery_is_on_record_as_begun_before_its_call(wired: Wired) -> None:
    for who in PEOPLE:
        await wired.desk.open_ticket(who, form(f"From {who.name}"))
    outbox = SqlOutbox(wired.stores.engine)
    platform = Checking(outbox)  # its reads let the queues drift apart
    worker = DeliveryWorker(outbox, [platform], wired.desk.config, clock=wired.clock)
    assert await worker.run_until_idle() == 0
    assert platform.begun_before_call == [True] * 9


class Restarting(RecordingOutbound):
    """A platform whose first three calls wait for each other, then PostgreSQL drops every
    session of the database (a restart, a failover) before they answer."""

    def __init__(self, database: str) -> None:
        super().__init__()
        self.database = database
        self.waiting = 0
        self.all_in = asyncio.Event()

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if not self.all_in.is_set():
            self.waiting += 1
            if self.waiting < 3:
                await self.all_in.wait()
            else:
                admin = await asyncpg.connect(PG_ADMIN_DSN)
                try:
                    await admin.execute("SELECT pg_terminate_backend(pid) FROM "
                                        "pg_stat_activity WHERE datname = $1", self.database)
                finally:
                    await admin.close()
                self.all_in.set()
        return await super().deliver(job)


async def test_a_failed_write_fails_its_queues_and_they_go_out_again_flagged(
        postgres_url: str) -> None:
    await upgrade_async(postgres_url)
    engine = make_engine(postgres_url)
    try:
        desk = make_desk(SqlStores(engine))
        for who in PEOPLE:
            await desk.open_ticket(who, form(f"From {who.name}"))
        platform = Restarting(postgres_url.rsplit("/", 1)[1])
        worker = DeliveryWorker(SqlOutbox(engine), [platform], desk.config)
        assert await worker.run_once() == 9, "claimed; the three done were not recorded"
        assert await worker.run_until_idle() == 0
    finally:
        await engine.dispose()
    calls = [(j.delivery.ticket_number, j.delivery.id, j.maybe_sent) for j in platform.jobs]
    first, again = calls[:3], calls[3:]
    assert [maybe for *_, maybe in first] == [False] * 3
    assert sorted(again[:3]) == sorted((n, i, True) for n, i, _ in first), \
        "the three calls whose outcome was lost go out again, flagged"
    assert len(again) == 9 and [m for *_, m in again[3:]] == [False] * 6
    for number in (1, 2, 3):
        ids = [i for n, i, _ in again if n == number]
        assert ids == sorted(ids), "each ticket's deliveries in order"
