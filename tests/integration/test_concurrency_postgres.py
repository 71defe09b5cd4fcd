"""Concurrent writers on one database (issue 2, "Tests": concurrency on PostgreSQL).

- 50 agents claim one ticket at the same moment: one wins, 49 are told who has it.
- 4 OS processes open 500 tickets together: numbers 1..500, each once, no gaps
  (on PostgreSQL, and on a SQLite file in WAL mode with ``BEGIN IMMEDIATE``).
- Several delivery workers share one queue: each delivery goes out once, to the thread
  it was planned for, and per ticket and platform in the order it was committed (on
  PostgreSQL, and on SQLite).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.delivery import DeliveryWorker
from core.desk import Desk, NewTicket
from core.errors import InvalidTransition
from core.events import EventKind
from core.identity import Actor, UserRef
from core.outbound import Delivered, DeliveryJob
from core.routing import DeliveryState, PlatformRoute
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import C, D, E, SqlStores, T
from tests.support.people import desk_config
from tests.support.recording import RecordingOutbound

ROOT = Path(__file__).resolve().parents[2]
ROUTE = PlatformRoute(platform="shell", workspace="local", support_channel="ticket",
                      default_team_channel="team")
PROCESSES = 4
TICKETS_EACH = 125
HANG_GUARD_SECONDS = 300  # only stops a hung run; nothing here asserts on time


def agent(name: str) -> Actor:
    return Actor(UserRef("shell", "local", name), name.title(), groups=frozenset({"agents"}))


def user(name: str) -> Actor:
    return Actor(UserRef("shell", "local", name), name.title())


def form(subject: str) -> NewTicket:
    return NewTicket(category="general", subject=subject,
                     description=f"{subject}: the dashboard shows no conversions.")


async def test_fifty_simultaneous_claims_have_one_winner(postgres_url: str) -> None:
    await upgrade_async(postgres_url)
    engine = make_engine(postgres_url, pool_size=60, max_overflow=0)
    try:
        desk = Desk(desk_config(), SqlStores(engine), [ROUTE])
        opened = await desk.open_ticket(user("ana"), form("Postback not firing"))
        number = opened.ticket.number
        agents = [agent(f"agent{i:02d}") for i in range(50)]

        results = await asyncio.gather(*(desk.claim(a, number) for a in agents),
                                       return_exceptions=True)

        winners = [r for r in results if not isinstance(r, BaseException)]
        refusals = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1
        winner = winners[0].assignee
        assert winner is not None
        assert len(refusals) == 49
        for refusal in refusals:
            assert isinstance(refusal, InvalidTransition), repr(refusal)
            assert str(refusal) == f"#{number} is already claimed by {winner.name}"
        async with SqlStores(engine).transaction() as store:
            events = await store.events(number)
            stored = await store.get_ticket(number)
        claims = [e for e in events if e.kind is EventKind.CLAIMED]
        assert len(claims) == 1
        assert claims[0].actor == winner
        assert stored is not None and stored.assignee == winner
        assert stored.status.value == "in_progress"
    finally:
        await engine.dispose()


async def _open_in_processes(url: str) -> list[int]:
    """PROCESSES workers open TICKETS_EACH tickets each, all starting together."""
    await upgrade_async(url)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.integration.open_tickets_worker",
            url, str(worker), str(TICKETS_EACH),
            cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        for worker in range(PROCESSES)
    ]
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            for proc in procs:  # every process is connected and waiting
                assert proc.stdout is not None
                line = await proc.stdout.readline()
                if line.strip() != b"ready":
                    _, err = await proc.communicate()
                    pytest.fail(f"worker did not start: {line!r} {err.decode()}")
            for proc in procs:  # go
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
            outputs = await asyncio.gather(*(proc.communicate() for proc in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    numbers: list[int] = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        got = json.loads(out.decode().strip().splitlines()[-1])["numbers"]
        assert len(got) == TICKETS_EACH
        assert got == sorted(got)  # one process's numbers only increase
        numbers += got
    return numbers


async def _check_numbers(url: str, numbers: list[int]) -> None:
    total = PROCESSES * TICKETS_EACH
    assert len(numbers) == total
    assert sorted(numbers) == list(range(1, total + 1))  # distinct, no gaps
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(select(T.c.number).order_by(T.c.number))).scalars()
            assert list(stored) == list(range(1, total + 1))
            opened = (await conn.execute(
                select(E.c.ticket_number).where(E.c.kind == EventKind.OPENED.value))).scalars()
            assert sorted(opened) == list(range(1, total + 1))
            if conn.dialect.name == "postgresql":  # a sequence there (migration 0004)
                counter = (await conn.execute(
                    text("SELECT last_value FROM ticket_numbers"))).scalar_one()
            else:
                counter = (await conn.execute(
                    select(C.c.value).where(C.c.name == "ticket"))).scalar_one()
            assert counter == total
    finally:
        await engine.dispose()


async def test_four_processes_open_500_tickets_on_postgres(postgres_url: str) -> None:
    numbers = await _open_in_processes(postgres_url)
    await _check_numbers(postgres_url, numbers)


async def test_four_processes_open_500_tickets_on_sqlite(sqlite_url: str) -> None:
    numbers = await _open_in_processes(sqlite_url)
    await _check_numbers(sqlite_url, numbers)


class SharedLogOutbound(RecordingOutbound):
    """A recording platform that also writes what it got, in order, into a log shared
    by every worker (the order the platform saw, across workers)."""

    def __init__(self, name: str, log: list[tuple[str, int, int, str]]) -> None:
        super().__init__("shell")
        self.name = name
        self.log = log

    async def deliver(self, job: DeliveryJob) -> Delivered:
        d = job.delivery
        assert d.id is not None
        self.log.append((self.name, d.ticket_number, d.id, d.platform))
        await asyncio.sleep(0)  # let the other workers in between
        return await super().deliver(job)


async def test_delivery_workers_share_one_queue(database_url: str) -> None:
    """On PostgreSQL the workers skip each other's locked rows; on SQLite they take turns."""
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    config = desk_config()
    try:
        desk = Desk(config, SqlStores(engine), [ROUTE])
        sam = agent("sam")
        for i in range(20):
            requester = user(f"user{i}")
            number = (await desk.open_ticket(requester, form(f"Report {i} is empty"))).ticket.number
            await desk.claim(sam, number)
            await desk.comment(requester, number, f"Still empty today ({i}).")
            await desk.note(sam, number, "Looks like the tracking domain.")
            await desk.reply(sam, number, "We are on it.")
            await desk.resolve(sam, number, "Tracking domain fixed.")
        async with engine.connect() as conn:
            queued = list((await conn.execute(
                select(D.c.id, D.c.ticket_number, D.c.platform).order_by(D.c.id))).all())

        log: list[tuple[str, int, int, str]] = []
        outbounds = [SharedLogOutbound(f"w{i}", log) for i in range(3)]
        workers = [DeliveryWorker(SqlOutbox(engine), [o], config, batch=4) for o in outbounds]
        await asyncio.gather(*(w.run_until_idle() for w in workers))

        # (each worker's own return value also counts rows other workers still held)
        assert await SqlOutbox(engine).pending(["shell"]) == 0
        delivered_ids = [entry[2] for entry in log]
        assert sorted(delivered_ids) == [row.id for row in queued]  # each exactly once
        jobs = [job for o in outbounds for job in o.jobs]
        assert len(jobs) == len(queued)
        for job in jobs:  # each thread delivery reached the thread it was planned for
            if job.binding is not None:
                assert job.binding.id == job.delivery.binding_id
                assert job.binding.audience is job.delivery.audience
        chains: dict[tuple[int, str], list[int]] = defaultdict(list)
        for _, ticket_number, delivery_id, platform in log:
            chains[(ticket_number, platform)].append(delivery_id)
        for chain in chains.values():
            assert chain == sorted(chain)
        async with engine.connect() as conn:
            states = (await conn.execute(
                select(D.c.state, func.count()).group_by(D.c.state))).all()
        assert dict(states) == {DeliveryState.DONE.value: len(queued)}
    finally:
        await engine.dispose()
