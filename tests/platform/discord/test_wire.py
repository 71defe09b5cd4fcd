"""Against a wire-level fake Discord: start-up, and REST 429 / 5xx / refused connections.

(Issue 10's rate-limit isolation and nonces: ``test_once_and_isolated.py``.)

SimCord raises injected errors at once, so discord.py's own retry never runs there;
here real HTTP statuses go through discord.py's HTTP client (TESTING.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import discord
import pytest

from adapters.discord.platform import build_discord
from adapters.discord.plugin import DiscordSettings
from bot.platforms import run_platforms
from bot.runtime import build
from bot.settings import Credentials, Settings
from core.clock import FrozenClock
from core.desk import NewTicket
from core.identity import Actor, UserRef
from tests.platform.discord.wire import APPLICATION_ID, FakeDiscord, running

GUILD = 500_000_000_000_000_005
ALICE = 600_000_000_000_000_006


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running(FakeDiscord(GUILD)) as server:
        yield server


def settings_for(fake: FakeDiscord, sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, port=0, discord=DiscordSettings(
        guild_id=GUILD, support_channel_id=fake.text_channel("support"),
        team_channel_id=fake.text_channel("team"), agent_role_id=42))


async def test_run_logs_in_syncs_the_group_to_the_guild_and_connects(
        fake: FakeDiscord, sqlite_url: str) -> None:
    settings = settings_for(fake, sqlite_url)
    credentials = Credentials(discord_token="fake-token", discord_api_url=fake.api_url,
                              discord_gateway_url=fake.gateway_url)
    stop = asyncio.Event()
    running = asyncio.create_task(run_platforms(settings, settings.desk_config(),
                                                credentials, stop))
    await asyncio.wait_for(fake.identified.wait(), timeout=30)  # a guard, not a measurement
    stop.set()
    await running
    synced = fake.made("PUT", "/applications/*/guilds/*/commands")
    assert [r.path for r in synced] == [f"/applications/{APPLICATION_ID}/guilds/{GUILD}/commands"]
    assert [c["name"] for c in synced[0].body] == [  # /ticket, then issue 13's top-level ones
        "ticket", "add", "remove", "watch", "unwatch", "share", "unshare"]
    subcommands = {o["name"] for o in synced[0].body[0]["options"]}
    assert {"new", "list", "show", "search", "queue", "reply", "note", "transcript", "help",
            "panel"} <= subcommands
    assert fake.identify["token"] == "fake-token"
    assert fake.identify["intents"] & discord.Intents(message_content=True).value


async def _desk_on(fake: FakeDiscord, sqlite_url: str, clock: FrozenClock):  # type: ignore[no-untyped-def]
    settings = settings_for(fake, sqlite_url)
    config = settings.desk_config()
    runtime = await build(settings, config, clock=clock)
    platform = await build_discord(runtime.desk, settings.discord, token="fake-token",
                                   api_url=fake.api_url)
    runtime.worker.serve(platform.outbound)
    await platform.bot.login("fake-token")  # REST only: deliveries need no gateway
    return settings, platform, runtime


ALICE_ACTOR = Actor(UserRef("discord", str(GUILD), str(ALICE)), "Alice")


async def _open(runtime, subject: str) -> int:  # type: ignore[no-untyped-def]
    opened = await runtime.desk.open_ticket(
        ALICE_ACTOR, NewTicket(category="general", subject=subject, description="details"))
    return int(opened.ticket.number)


async def test_a_500_is_retried_by_discord_py_a_short_429_comes_back_as_a_due_time(
        fake: FakeDiscord, sqlite_url: str) -> None:
    clock = FrozenClock()
    config, platform, runtime = await _desk_on(fake, sqlite_url, clock)
    try:
        fake.fail("POST", f"/channels/{config.discord.support_channel_id}/threads", 429,
                  retry_after=0.05)
        fake.fail("POST", "/channels/*/messages", 500)
        await _open(runtime, "Login broken")
        assert await runtime.worker.run_until_idle() > 0, "the 429 was not slept out"
        clock.advance(1)
        assert await runtime.worker.run_until_idle() == 0
        statuses = [r.status for r in fake.requests if r.method == "POST"]
        assert 429 in statuses and 500 in statuses
        private = [r for r in fake.made("POST", "/channels/*/threads")
                   if r.body.get("type") == 12]
        assert len(private) == 1  # the private ticket thread
        assert len(fake.made("POST", "/channels/*/messages/*/threads")) == 1  # the team thread
        assert len(fake.made("POST", "/users/@me/channels")) == 1  # the receipt's DM
    finally:
        await platform.stop()
        await runtime.close()


async def test_direct_messages_to_one_person_share_one_channel_and_look_nobody_up(
        fake: FakeDiscord, sqlite_url: str) -> None:
    _, platform, runtime = await _desk_on(fake, sqlite_url, FrozenClock())
    try:
        await _open(runtime, "First")
        await _open(runtime, "Second")  # Alice's second receipt
        assert await runtime.worker.run_until_idle() == 0
        dms = fake.made("POST", "/users/@me/channels")
        assert len(dms) == 1 and dms[0].body["recipient_id"] in (ALICE, str(ALICE))
        receipts = [r for r in fake.made("POST", "/channels/*/messages")
                    if "We have your ticket" in json.dumps(r.body)]
        assert len(receipts) == 2
        assert len({r.path for r in receipts}) == 1  # both in the one DM channel
        assert not fake.made("GET", f"/users/{ALICE}")  # no lookup before a DM
    finally:
        await platform.stop()
        await runtime.close()


async def test_posts_into_known_threads_look_nothing_up_and_a_deleted_thread_parks(
        fake: FakeDiscord, sqlite_url: str) -> None:
    _, platform, runtime = await _desk_on(fake, sqlite_url, FrozenClock())
    try:
        number = await _open(runtime, "Threads")
        assert await runtime.worker.run_until_idle() == 0
        assert fake.made("POST", "/channels/*/threads")  # the ticket thread
        threads = {f"/channels/{c}" for c, data in fake.channels.items()
                   if data["type"] in (11, 12)}
        assert len(threads) == 2  # the ticket's and the team's
        assert not [r for r in fake.requests if r.method == "GET" and r.path in threads]
        before = len(fake.requests)
        await runtime.desk.comment(ALICE_ACTOR, number, "Still broken.")
        assert await runtime.worker.run_until_idle() == 0
        since = fake.requests[before:]
        assert [r for r in since if r.method == "POST" and r.path.endswith("/messages")]
        assert not [r for r in since if r.method == "GET"]  # posted by id, no lookup

        ticket_thread = max(c for c, data in fake.channels.items() if data["type"] == 12)
        del fake.channels[ticket_thread]  # deleted on Discord
        await runtime.desk.comment(ALICE_ACTOR, number, "Hello?")
        await runtime.worker.run_until_idle()
        parked = await runtime.worker.outbox.listing(parked_only=True, limit=10)
        assert len(parked) == 1
        assert "10003" in (parked[0].last_error or "")  # Discord's "Unknown Channel"
    finally:
        await platform.stop()
        await runtime.close()


async def test_long_429_outage_and_refused_connections_are_retried_later_nothing_lost(
        fake: FakeDiscord, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    clock = FrozenClock()
    config, platform, runtime = await _desk_on(fake, sqlite_url, clock)
    team = config.discord.team_channel_id
    try:
        fake.fail("POST", f"/channels/{team}/messages", 429, retry_after=120)  # > 30 s
        fake.fail("POST", "/channels/*/threads", 503, times=2)
        n = await _open(runtime, "Export failing")
        assert await runtime.worker.run_until_idle() > 0  # waiting, not dropped
        await fake.down()
        await runtime.desk.comment(ALICE_ACTOR, n, "any news?")
        for _ in range(20):
            clock.advance(600)
            if await runtime.worker.run_until_idle() == 0:
                break
            await fake.up()
        assert await runtime.worker.run_until_idle() == 0
        private = [r for r in fake.made("POST", "/channels/*/threads")
                   if r.body.get("type") == 12]
        assert len(private) == 1, "one private thread, however often it was retried"
        assert len(fake.made("POST", f"/channels/{team}/messages")) == 1  # one team card
        comments = [r for r in fake.made("POST", "/channels/*/messages")
                    if r.body.get("embeds") and r.body["embeds"][0].get("description")
                    == "any news?"]
        # the comment reached both threads, once each
        assert len(comments) == 2 and len({r.path for r in comments}) == 2
        assert "cannot reach Discord" in caplog.text  # the refused connections happened
    finally:
        await platform.stop()
        await runtime.close()
