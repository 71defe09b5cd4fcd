"""A database that cannot be reached is told like any refusal; the app goes on."""

from __future__ import annotations

from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.platform.slack.harness import AGENT, Harness
from tests.support.databases import read_only_sqlite


async def test_a_read_only_database_is_one_refusal_and_the_next_command_works(
        h: Harness, sqlite_url: str) -> None:
    await h.open_ticket()
    writable = h.runtime.desk.stores
    engine = make_engine(read_only_sqlite(sqlite_url))
    h.runtime.desk.stores = SqlStores(engine)  # the same file, now read-only
    try:
        status, _ = await h.command(AGENT, "claim 1")
        assert status == 200
        assert h.told()[-1] == (":no_entry: The desk's database cannot be reached right now; "
                                "nothing was changed.")
        await h.command(AGENT, "list all")  # reading still works
        assert "#1" in h.told()[-1]
    finally:
        h.runtime.desk.stores = writable
        await engine.dispose()
    await h.command(AGENT, "claim 1")
    assert "in progress" in h.told()[-1].lower()
