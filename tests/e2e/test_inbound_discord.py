"""Issue 10, points 2–3 on Discord, through the real ``helpthread run`` process against
the wire-level fake Discord (REST and gateway on loopback): the same message dispatched
twice is one comment; 250 messages written in a ticket thread while no process ran are
caught up on the next start — read with the channel history Discord documents, 100 a
page after the last stored message — once each, in order, and mirrored once each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord.plugin import DiscordSettings
from bot.runtime import build
from bot.settings import Settings
from core.desk import NewTicket
from core.identity import Actor, UserRef
from tests.e2e.running import HelpthreadProcess, until
from tests.platform.discord.wire import FakeDiscord, running

GUILD = 500_000_000_000_000_005
ALICE = 600_000_000_000_000_006
AGENT_ROLE = 700_000_000_000_000_042
BACKLOG = 250


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running(FakeDiscord(GUILD)) as server:
        yield server


async def test_discord_messages_written_while_down_are_caught_up_once_in_order(
        fake: FakeDiscord, tmp_path: Path) -> None:
    support, team = fake.text_channel("support"), fake.text_channel("team")
    fake.member(ALICE)
    env = {"DISCORD_TOKEN": "fake-token", "DISCORD_API_URL": fake.api_url,
           "DISCORD_GATEWAY_URL": fake.gateway_url,
           "HELPTHREAD_DISCORD__GUILD_ID": str(GUILD),
           "HELPTHREAD_DISCORD__SUPPORT_CHANNEL_ID": str(support),
           "HELPTHREAD_DISCORD__TEAM_CHANNEL_ID": str(team),
           "HELPTHREAD_DISCORD__AGENT_ROLE_ID": str(AGENT_ROLE)}
    process = HelpthreadProcess(tmp_path, env)
    await process.start()
    try:
        await asyncio.wait_for(fake.identified.wait(), 30)  # a guard, not a measurement
        # Alice's ticket, opened on the same database; the process delivers its threads.
        settings = Settings(database_url=process.env["HELPTHREAD_DATABASE_URL"],
                            discord=settings_of(support, team))
        runtime = await build(settings, settings.desk_config())
        try:
            await runtime.desk.open_ticket(
                Actor(UserRef("discord", str(GUILD), str(ALICE)), "Alice"),
                NewTicket(category="general", subject="Charged twice",
                          description="My card was charged twice."))
        finally:
            await runtime.close()

        def threads() -> dict[int, int]:
            return {int(c["parent_id"]): int(c["id"]) for c in fake.channels.values()
                    if c.get("parent_id") in (str(support), str(team))}

        await until(lambda: len(threads()) == 2, "the ticket's two threads", process)
        ticket_thread, team_thread = threads()[support], threads()[team]

        live = await fake.write(ticket_thread, ALICE, "live, dispatched twice")
        await fake.dispatch_message(live)  # the gateway sends it again (a replay)
        await until(lambda: len(process.comments()) == 1, "the live comment", process)

        process.kill()
        assert process.process is not None
        await process.process.wait()
        texts = [f"while down {i:03d}" for i in range(BACKLOG)]
        for text in texts:  # Discord keeps them; no gateway session sees them
            await fake.write(ticket_thread, ALICE, text, dispatch=False)
        await process.start()
        await until(lambda: len(process.comments()) >= BACKLOG + 1, "the backlog", process,
                    lambda: len(process.comments()))

        def mirrors() -> list[str]:
            """What the bot posted in the team thread under someone's name (not notices)."""
            return [m["embeds"][0]["description"] for m in fake.messages.get(team_thread, [])
                    if m["embeds"] and (m["embeds"][0].get("author") or {}).get("name")
                    == "user6"]

        await until(lambda: len(mirrors()) >= BACKLOG + 1, "every comment mirrored", process,
                    lambda: len(mirrors()))
    finally:
        await process.stop()
    assert process.comments() == [("user6", "live, dispatched twice")] + [
        ("user6", text) for text in texts], "stored once each, in the thread's order"
    assert mirrors() == ["live, dispatched twice", *texts], "mirrored once each, in order"
    pages = [r for r in fake.requests if r.method == "GET"
             and r.path == f"/channels/{ticket_thread}/messages"]
    assert len(pages) >= 3, "read a page of at most 100 at a time"
    assert f"discord.caught_up threads=2 messages={BACKLOG}" in process.log()


def settings_of(support: int, team: int) -> DiscordSettings:
    return DiscordSettings(guild_id=GUILD, support_channel_id=support,
                           team_channel_id=team, agent_role_id=AGENT_ROLE)
