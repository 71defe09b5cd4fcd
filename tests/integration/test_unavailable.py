"""A database that fails mid-session reaches front ends as ``Unavailable`` (a DeskError):
SQLite read-only (as a read-only file or a full disk would make it), PostgreSQL's
server ending the session. Nothing is changed and the next request is served."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select

from adapters.shell.outbound import Printer, ShellOutbound
from adapters.shell.repl import ShellSession
from core.clock import FrozenClock
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.errors import Unavailable
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import D, SqlStores, T
from core.tickets import Status
from tests.support.databases import PG_ADMIN_DSN, read_only_sqlite
from tests.support.people import SHELL_ROUTE, agent, form, make_desk, person

LENA, SAM = person("lena"), agent("sam")


async def lines(*texts: str) -> AsyncIterator[str]:
    for text in texts:
        yield text + "\n"


async def test_a_read_only_sqlite_file_is_unavailable_and_reads_still_work(
        sqlite_url: str) -> None:
    await upgrade_async(sqlite_url)
    writable = make_engine(sqlite_url)
    await make_desk(SqlStores(writable)).open_ticket(LENA, form())
    await writable.dispose()
    engine = make_engine(read_only_sqlite(sqlite_url))
    try:
        desk = make_desk(SqlStores(engine))
        with pytest.raises(Unavailable) as refused:
            await desk.claim(SAM, 1)
        assert "nothing was changed" in str(refused.value)
        assert [i.ticket.status for i in await desk.list_tickets(SAM, "all")] == [Status.OPEN]
        with pytest.raises(Unavailable):  # the delivery queue too
            await SqlOutbox(engine).claim(["shell"], FrozenClock().now(),
                                          FrozenClock().now(), "w", 10)
    finally:
        await engine.dispose()


async def test_a_shell_session_survives_a_read_only_database(sqlite_url: str) -> None:
    """One line says so, the command is not applied, the next command is handled."""
    await upgrade_async(sqlite_url)
    writable = make_engine(sqlite_url)
    opened = make_desk(SqlStores(writable))
    await opened.open_ticket(LENA, form(subject="Pixel not firing"))
    async with writable.begin() as conn:  # delivered already: nothing pending
        await conn.execute(D.update().values(state="done"))
    await writable.dispose()

    engine = make_engine(read_only_sqlite(sqlite_url))
    out = io.StringIO()
    printer = Printer(out)
    desk = Desk(opened.config, SqlStores(engine), [SHELL_ROUTE], clock=FrozenClock())
    worker = DeliveryWorker(SqlOutbox(engine), [ShellOutbound(printer)], desk.config)
    session = ShellSession(desk, worker, printer, persona="sam", agent=True)
    try:
        await session.run(lines("/ticket claim 1", "/ticket list all"))
    finally:
        await engine.dispose()
    said = out.getvalue().splitlines()
    assert said[0] == ("(to sam) Refused: the desk's database cannot be reached right now; "
                       "nothing was changed")
    assert "#1" in said[1] and "Pixel not firing" in out.getvalue()
    assert "claimed" not in out.getvalue() and "in progress" not in out.getvalue().lower()

    engine = make_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            status = (await conn.execute(select(T.c.status))).scalar_one()
        assert status == "open"
    finally:
        await engine.dispose()


async def test_postgres_ending_the_session_is_unavailable_then_it_recovers(
        postgres_url: str) -> None:
    await upgrade_async(postgres_url)
    engine = make_engine(postgres_url)
    try:
        desk = make_desk(SqlStores(engine))
        await desk.open_ticket(LENA, form())
        name = postgres_url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:  # the server drops every session of the database (a restart, a failover)
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1", name)
        finally:
            await admin.close()
        with pytest.raises(Unavailable):
            await desk.claim(SAM, 1)
        assert (await desk.claim(SAM, 1)).status is Status.IN_PROGRESS  # a new connection
    finally:
        await engine.dispose()
