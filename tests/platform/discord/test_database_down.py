"""A database that cannot be reached is told like any refusal; the bot goes on."""

from __future__ import annotations

from pathlib import Path

from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.platform.discord.conftest import World, open_ticket, told
from tests.support.databases import read_only_sqlite


async def test_a_read_only_database_is_one_refusal_and_the_next_command_works(
        world: World, sqlite_url: str) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    writable = w.runtime.desk.stores
    engine = make_engine(read_only_sqlite(sqlite_url))
    w.runtime.desk.stores = SqlStores(engine)  # the same file, now read-only
    try:
        refused = await w.bob.slash(w.team_thread(n), "ticket claim")
        assert told(refused).ephemeral
        assert told(refused).content == ("Refused: the desk's database cannot be reached "
                                            "right now; nothing was changed")
        listed = await w.bob.slash(w.team, "ticket list", scope="all")
        assert f"**#{n}**" in listed.response.content  # reading still works
    finally:
        w.runtime.desk.stores = writable
        await engine.dispose()
    claimed = await w.bob.slash(w.team_thread(n), "ticket claim")
    assert told(claimed).content == f"Done: #{n} is in progress."


async def test_a_thread_message_while_the_database_is_gone_is_answered_not_dropped(
        world: World, tmp_path: Path) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    stores = w.runtime.desk.stores
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/desk.db")
    w.runtime.desk.stores = SqlStores(engine)  # no such file can be opened
    try:
        message = await w.alice.send(w.ticket_thread(n), "are you there?")
        answers = [m for m in w.ticket_thread(n).history()
                   if m.reference and m.reference.message_id == message.id]
        assert len(answers) == 1
        assert "database cannot be reached" in answers[0].content
    finally:
        w.runtime.desk.stores = stores
        await engine.dispose()
