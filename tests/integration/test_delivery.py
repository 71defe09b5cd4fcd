"""The delivery outbox on SQLite and PostgreSQL: in order, recorded, retried, never lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.delivery import DeliveryWorker
from core.events import Audience, EventKind, Held
from core.outbound import Delivered, DeliveryJob, Undeliverable
from core.routing import DeliveryState
from core.store.outbox import SqlOutbox
from core.store.sql import D
from tests.integration.conftest import Wired
from tests.support.people import agent, form, person
from tests.support.recording import RecordingOutbound

LENA, SAM = person("lena"), agent("sam")


async def states(wired: Wired) -> list[tuple[int, str, int]]:
    async with wired.stores.engine.connect() as conn:
        rows = await conn.execute(select(D.c.id, D.c.state, D.c.attempts).order_by(D.c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_deliveries_go_out_in_order_and_record_thread_ids(wired: Wired) -> None:
    await wired.desk.open_ticket(LENA, form())
    await wired.desk.claim(SAM, 1)
    await wired.desk.reply(SAM, 1, "first")
    await wired.desk.note(SAM, 1, "second")
    assert await wired.worker.run_until_idle() == 0
    jobs = wired.outbound.jobs
    assert [(j.event.kind, j.delivery.purpose) for j in jobs] == [
        (EventKind.OPENED, "card"), (EventKind.OPENED, "card"), (EventKind.OPENED, "receipt"),
        (EventKind.CLAIMED, "thread"), (EventKind.CLAIMED, "thread"),
        (EventKind.COMMENTED, "thread"), (EventKind.COMMENTED, "thread"),
        (EventKind.NOTED, "thread"),
    ]
    assert [j.delivery.audience for j in jobs if j.event.kind is EventKind.NOTED] == [
        Audience.INTERNAL]
    # messages after the card go under it, even when card and message leave in one round
    assert all(j.binding is not None and j.binding.thread for j in jobs
               if j.delivery.purpose == "thread")
    bindings = (await wired.desk.show(SAM, 1)).bindings
    assert all(b.thread and b.card_message for b in bindings)
    found = await wired.desk.binding_at("shell", bindings[0].channel, bindings[0].thread or "")
    assert found is not None and found.id == bindings[0].id
    assert {s for _, s, _ in await states(wired)} == {"done"}


async def test_sensitive_fields_and_internal_data_never_reach_a_public_delivery(
        wired: Wired) -> None:
    await wired.desk.open_ticket(LENA, form(category="refund", fields={
        "receipt": "RC-1", "card_last4": "4242"}))
    await wired.desk.hold(SAM, 1, "bank reference 5512")
    await wired.worker.run_until_idle()
    for job in wired.outbound.jobs:
        assert "4242" not in repr(job)
        if job.delivery.audience is Audience.PUBLIC:
            assert "5512" not in repr(job.event)
    internal = [j for j in wired.outbound.jobs if j.event.kind is EventKind.HELD
                and j.delivery.audience is Audience.INTERNAL]
    assert internal[0].event.payload == Held("bank reference 5512")


async def test_429_is_retried_after_retry_after_and_nothing_is_lost(wired: Wired) -> None:
    outbound = RecordingOutbound(fail_times=1, retry_after=30)
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [outbound], wired.desk.config,
                            clock=wired.clock)
    await wired.desk.open_ticket(LENA, form())
    assert await worker.run_until_idle() == 3  # the card was refused: all three wait behind it
    assert outbound.jobs == []
    wired.clock.advance(29)
    assert await worker.run_once() == 0  # Retry-After not over yet
    wired.clock.advance(2)
    assert await worker.run_until_idle() == 0
    assert [j.delivery.purpose for j in outbound.jobs] == ["card", "card", "receipt"]
    assert [a for _, _, a in await states(wired)] == [2, 1, 1]  # one refusal, then success


async def test_a_dead_worker_lease_expires_and_another_delivers(wired: Wired) -> None:
    await wired.desk.open_ticket(LENA, form())
    outbox = SqlOutbox(wired.stores.engine)
    now = wired.clock.now()

    taken = await outbox.claim(["shell"], now, now + timedelta(seconds=120), "dead", 10)
    assert len(taken) == 3  # one queue per ticket and platform: its head and what follows
    assert await wired.worker.run_once() == 0  # leased by the dead worker
    wired.clock.advance(121)
    assert await wired.worker.run_until_idle() == 0
    assert len(wired.outbound.jobs) == 3


class Refusing(RecordingOutbound):
    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.delivery.purpose == "receipt":
            raise Undeliverable("user has left the workspace")
        return await super().deliver(job)


async def test_undeliverable_is_parked_and_the_queue_moves_on(wired: Wired) -> None:
    outbound = Refusing()
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [outbound], wired.desk.config,
                            clock=wired.clock)
    await wired.desk.open_ticket(LENA, form())
    await wired.desk.reply(SAM, 1, "hello")
    assert await worker.run_until_idle() == 0
    assert [s for _, s, _ in await states(wired)].count(DeliveryState.PARKED.value) == 1
    assert [j.event.kind for j in outbound.jobs].count(EventKind.COMMENTED) == 2


async def test_other_platforms_deliveries_wait_for_their_worker(wired: Wired) -> None:
    other = RecordingOutbound(platform="slack")
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [other], wired.desk.config,
                            clock=wired.clock)
    await wired.desk.open_ticket(LENA, form())
    assert await worker.run_until_idle() == 0 and other.jobs == []
    assert await wired.worker.run_until_idle() == 0 and len(wired.outbound.jobs) == 3


async def test_a_running_worker_delivers_on_wake_and_stops_without_waiting_for_its_poll(
        wired: Wired) -> None:
    import asyncio

    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [wired.outbound],
                            wired.desk.config, clock=wired.clock, poll_seconds=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.05)  # asleep until woken: its poll is an hour away
    await wired.desk.open_ticket(LENA, form())
    worker.wake()
    for _ in range(200):
        if len(wired.outbound.jobs) == 3:
            break
        await asyncio.sleep(0.01)
    assert len(wired.outbound.jobs) == 3
    stop.set()
    await asyncio.wait_for(running, 5)  # not an hour
