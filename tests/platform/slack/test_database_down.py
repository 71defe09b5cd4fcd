"""A database that cannot be reached is told like any refusal; the app goes on."""

from __future__ import annotations

from pathlib import Path

from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.platform.slack.harness import AGENT, ALICE, SUPPORT, TEAM_CHANNEL, Harness
from tests.support.databases import read_only_sqlite
from tests.support.slack_requests import event_body


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


async def test_a_thread_message_while_the_database_is_gone_is_answered_not_dropped(
        h: Harness, tmp_path: Path) -> None:
    """Not acknowledged (503: Slack sends it again) and the author is told, once; Slack's
    retry once the database is back stores it, once."""
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    stores = h.runtime.desk.stores
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/desk.db")
    h.runtime.desk.stores = SqlStores(engine)  # no such file can be opened
    event = event_body(h.fake.write(ALICE, SUPPORT, card["ts"], "are you there?"))
    try:
        status, _ = await h.slack.event(event)
        await h.settle()
        assert status == 503
        status, _ = await h.slack.event(event, retry=1)  # Slack's retry: still down
        await h.settle()
        assert status == 503
        [whisper] = h.fake.of("chat.postEphemeral")  # told once, not at every retry
        assert whisper["user"] == ALICE and whisper["thread_ts"] == card["ts"]
        assert "database cannot be reached" in whisper["text"]
    finally:
        h.runtime.desk.stores = stores
        await engine.dispose()
    for retry in (2, 3):
        status, _ = await h.slack.event(event, retry=retry)
        assert status == 200
    await h.settle()
    [mirrored] = h.thread(h.cards(TEAM_CHANNEL)[0])
    assert mirrored["text"] == "are you there?"
