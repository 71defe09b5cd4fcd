"""``StoreFactory.quick_read``: the pre-checks' read before a form opens. On a SQLite file
it is a synchronous read-only connection on the loop (never suspends, never waits for a
writer); on PostgreSQL it is ``reading()``. Either way it reads what is committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import Runtime, build
from bot.settings import Settings
from core.desk import NewTicket
from core.errors import Unavailable
from core.identity import Actor, UserRef
from core.store.engine import make_engine, quick_reader
from core.store.sql import SqlStores
from core.tickets import Ticket

ALICE = Actor(UserRef("discord", "1", "42"), "Alice")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url, port=0)
    built = await build(settings, settings.desk_config())
    try:
        yield built
    finally:
        await built.close()


async def _open_count(stores: SqlStores) -> int:
    async with stores.quick_read() as store:
        load = await store.requester_load(ALICE.ref, LONG_AGO, "", "", LONG_AGO)
    return load.open_count


async def test_a_quick_read_sees_what_is_committed(runtime: Runtime) -> None:
    stores = runtime.desk.stores
    assert isinstance(stores, SqlStores)
    assert await _open_count(stores) == 0
    await runtime.desk.open_ticket(ALICE, NewTicket(category="general", subject="One",
                                                    description="d"))
    assert await _open_count(stores) == 1


async def test_on_sqlite_it_never_suspends_nor_waits_for_a_writer(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, port=0)
    runtime = await build(settings, settings.desk_config())
    stores = runtime.desk.stores
    assert isinstance(stores, SqlStores)
    try:
        await runtime.desk.open_ticket(ALICE, NewTicket(category="general", subject="One",
                                                        description="d"))
        async with stores.transaction() as writing:  # holds the file's write lock
            await writing.add_ticket(_ticket_like(await writing.get_ticket(1)))
            # a coroutine that never suspends finishes on its first step
            step = _open_count(stores).__await__()
            with pytest.raises(StopIteration) as done:
                step.send(None)
            assert done.value.value == 1  # the uncommitted second ticket is not seen
        assert await _open_count(stores) == 2
    finally:
        await runtime.close()


def _ticket_like(ticket: Ticket | None) -> Ticket:
    """Another ticket of the same requester, number 2."""
    assert ticket is not None
    return replace(ticket, number=2, opened_at=ticket.opened_at + timedelta(seconds=1))


async def test_its_engine_is_sqlite_files_only_and_goes_with_the_engine(
        sqlite_url: str, postgres_url: str) -> None:
    sqlite = make_engine(sqlite_url)
    postgres: AsyncEngine = make_engine(postgres_url)
    memory = make_engine("sqlite+aiosqlite:///:memory:")
    try:
        quick = quick_reader(sqlite)
        assert quick is not None and quick_reader(sqlite) is quick  # made once
        assert quick_reader(postgres) is None and quick_reader(memory) is None
        with quick.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert quick.engine.pool.checkedin() == 1
    finally:
        await sqlite.dispose()
        await postgres.dispose()
        await memory.dispose()
    assert quick.engine.pool.checkedin() == 0  # disposed with the engine


async def test_one_connection_is_kept_per_thread_and_closed_with_the_engine(
        sqlite_url: str) -> None:
    """A pooled checkout per pre-check cost more than the read (``core.store.quick``):
    the loop's thread keeps one connection open; another thread gets its own."""
    engine = make_engine(sqlite_url)
    try:
        quick = quick_reader(engine)
        assert quick is not None
        first = quick.connection()
        assert quick.connection() is first
        other = await asyncio.to_thread(quick.connection)
        assert other is not first
        first.close()  # broken or closed: replaced on the next call
        again = quick.connection()
        assert again is not first and not again.closed
    finally:
        await engine.dispose()
    assert again.closed and other.closed


async def test_a_failing_file_is_unavailable_not_a_driver_error(tmp_path: Path) -> None:
    """The limits read runs on the driver's connection: its own errors are an outage
    like any other (``Unavailable``), never a raw ``sqlite3`` error."""
    never_migrated, garbage = tmp_path / "new.db", tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    for path in (never_migrated, garbage):
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            with pytest.raises(Unavailable):
                await _open_count(SqlStores(engine))
        finally:
            await engine.dispose()
