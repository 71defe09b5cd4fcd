"""Timers on a real database (issue 11, point 9): written with the change that sets them,
fired once by the scheduler, cancelled by a later change, kept across restarts; a 0005
database's tickets get clocks and timers; on PostgreSQL one scheduler leads and
another takes over when it dies, with nothing fired twice."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.clock import FrozenClock, SystemClock
from core.events import EventKind
from core.schedule import Scheduler
from core.store.engine import make_engine
from core.store.leader import AdvisoryLeader
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from core.timers import TimerKind
from tests.integration.conftest import Wired
from tests.support.people import agent, desk_config, form, make_desk, person

LENA, SAM = person("lena"), agent("sam")
HOUR = 3600.0


async def events_of(wired: Wired, number: int) -> list[EventKind]:
    async with wired.stores.reading() as store:
        return [e.kind for e in await store.events(number)]


async def test_timers_are_stored_with_the_change_and_fire_once(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form())
    async with wired.stores.reading() as store:
        timers = await store.timers(1)
        assert await store.next_timer_due() == clock.now() + timedelta(hours=6.4)
    assert sorted(t.kind for t in timers) == [TimerKind.FIRST_RESPONSE_WARNING,
                                              TimerKind.RESOLUTION_WARNING]
    scheduler = Scheduler(desk, wired.stores, clock)
    clock.advance(7 * HOUR)
    assert await scheduler.run_once() == 1
    async with wired.stores.reading() as store:
        fired = [t for t in await store.timers(1) if t.fired_at is not None]
    assert [t.kind for t in fired] == [TimerKind.FIRST_RESPONSE_WARNING]
    assert await desk.fire(fired[0]) is False  # a second firing does nothing
    await desk.hold(SAM, 1, "bank")  # paused: the breach timer goes
    async with wired.stores.reading() as store:
        pending = [t.kind for t in await store.timers(1) if t.fired_at is None]
    assert pending == []
    clock.advance(100 * HOUR)
    assert await scheduler.run_once() == 0
    assert (await events_of(wired, 1)).count(EventKind.SLA_WARNING) == 1


async def test_timers_survive_a_restart(wired: Wired) -> None:
    await wired.desk.open_ticket(LENA, form())
    await wired.desk.request_info(SAM, 1, "Which order?")
    engine = make_engine(wired.url)  # another process, later
    try:
        stores = SqlStores(engine)
        desk = make_desk(stores, clock=wired.clock)
        scheduler = Scheduler(desk, stores, wired.clock)
        wired.clock.advance(6.5 * 24 * HOUR)
        assert await scheduler.run_once() == 1  # the reminder
        wired.clock.advance(24 * HOUR)
        assert await scheduler.run_once() == 1  # the close
        assert (await events_of(wired, 1))[-2:] == [EventKind.REMINDED, EventKind.CLOSED]
    finally:
        await engine.dispose()


async def test_a_0005_database_gets_clocks_and_its_timers_planned(database_url: str) -> None:
    await upgrade_async(database_url, "0005")
    engine = make_engine(database_url)
    at = datetime.now(UTC) - timedelta(hours=1)
    try:
        async with engine.begin() as conn:
            for number, status in ((1, "open"), (2, "on_hold"), (3, "closed")):
                await conn.execute(text(
                    "INSERT INTO tickets (number, subject, description, category, priority, "
                    "status, visibility, requester_key, requester_org, requester_name, fields, "
                    "watchers, watcher_keys, links, source, escalation_level, opened_at, "
                    "last_activity_at, first_response_due, resolution_due) VALUES "
                    "(:n, 'S', 'D', 'general', 'normal', :status, 'private', 'shell:local:lena',"
                    " 'shell:local', 'lena', '{}', '[]', '|', '[]', 'shell', 0, :at, :at, "
                    ":frd, :rd)"), {"n": number, "status": status, "at": at,
                                     "frd": at + timedelta(hours=8),
                                     "rd": at + timedelta(hours=48)})
        await upgrade_async(database_url)
        stores = SqlStores(engine)
        desk = make_desk(stores, clock=SystemClock())
        assert await Scheduler(desk, stores, SystemClock()).backfill() == 2  # not closed
        async with stores.reading() as store:
            open_ = await store.get_ticket(1)
            assert open_ is not None
            assert open_.sla.running_since is not None
            assert abs((open_.sla.running_since - at).total_seconds()) < 1
            assert {t.kind for t in await store.timers(1)} == {
                TimerKind.FIRST_RESPONSE_WARNING, TimerKind.RESOLUTION_WARNING}
            assert await store.timers(2) == []  # on hold: no clock
            assert await store.tickets_without_timers(10) == [2]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_one_scheduler_leads_and_another_takes_over_when_it_dies(
        postgres_url: str) -> None:
    """Two schedulers on one database: only the leader fires; its connection is killed
    (as a crashed process's would be); the other leads within 5 s; every timer fired
    exactly once."""
    await upgrade_async(postgres_url)
    engines = [make_engine(postgres_url) for _ in range(2)]
    clock = FrozenClock(datetime.now(UTC))
    try:
        desks = [make_desk(SqlStores(e), desk_config(), clock) for e in engines]
        leaders = [AdvisoryLeader(e) for e in engines]
        schedulers = [Scheduler(d, d.stores, clock, lead) for d, lead in zip(desks, leaders,
                                                                              strict=True)]
        for i in range(6):
            await desks[0].open_ticket(person(f"p{i}"), form(subject=f"S{i}"))
        assert await leaders[0].acquire() is True
        assert await leaders[1].acquire() is False
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run(stop)) for s in schedulers]
        clock.advance(7 * HOUR)  # six warnings come due
        for s in schedulers:
            s.notice(clock.now())
        await _until(lambda: schedulers[0].fired == 6, 10)
        assert schedulers[1].fired == 0
        async with engines[1].connect() as conn:  # the leader "dies": its session ends
            await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND objid = :key"), {"key": 0x48_54_53_43})
        tasks[0].cancel()  # and its process with it
        with contextlib.suppress(asyncio.CancelledError):
            await tasks[0]
        taken = asyncio.get_running_loop().time()
        clock.advance(2 * HOUR)  # six breaches come due
        await _until(lambda: schedulers[1].fired == 6, 10)
        assert asyncio.get_running_loop().time() - taken < 5
        stop.set()
        await tasks[1]
        async with desks[0].stores.reading() as store:
            kinds = [e.kind for n in range(1, 7) for e in await store.events(n)]
        assert kinds.count(EventKind.SLA_WARNING) == 6
        assert kinds.count(EventKind.SLA_BREACHED) == 6
    finally:
        for engine in engines:
            await engine.dispose()


async def _until(condition: object, seconds: float) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not within the time allowed")
        await asyncio.sleep(0.05)
