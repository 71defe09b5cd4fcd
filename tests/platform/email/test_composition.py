"""``helpthread run`` with a chat platform and ``[email]``: e-mail runs beside it (issue
13). Discord is the wire-level fake (real discord.py), e-mail a real SMTP server; the
running process's delivery worker sends a Discord ticket's news to its e-mail watcher,
and ``/healthz`` reports both platforms."""

from __future__ import annotations

import asyncio

import aiohttp

from adapters.discord.plugin import DiscordSettings
from bot import registry
from bot.platforms import run_platforms
from bot.settings import Credentials, Settings
from core.desk import Desk, NewTicket
from core.identity import Actor, Person, UserRef
from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.platform.discord.wire import FakeDiscord, running
from tests.platform.email.conftest import email_settings
from tests.support.smtp_server import free_port, smtp_server

GUILD = 500_000_000_000_000_005
ALICE = Actor(UserRef("discord", str(GUILD), "600000000000000006"), "Alice")
WATCHER = "wes@example.org"


async def test_email_runs_beside_discord_in_helpthread_run(sqlite_url: str) -> None:
    async with running(FakeDiscord(GUILD)) as fake:
        with smtp_server() as (sink, smtp_port):
            port = free_port()
            settings = Settings(
                database_url=sqlite_url, port=port, host="127.0.0.1",
                email=email_settings(smtp_port),
                discord=DiscordSettings(guild_id=GUILD,
                                        support_channel_id=fake.text_channel("support"),
                                        team_channel_id=fake.text_channel("team"),
                                        agent_role_id=42))
            credentials = Credentials(discord_token="fake-token",
                                      discord_api_url=fake.api_url,
                                      discord_gateway_url=fake.gateway_url)
            config = settings.desk_config()
            stop = asyncio.Event()
            run = asyncio.create_task(run_platforms(settings, config, credentials, stop))
            try:
                health = await _healthy(port, run)
                assert health["platforms"] == {"discord": "connected", "email": "connected"}
                # another process on the same database: Alice opens a ticket, copies Wes
                engine = make_engine(sqlite_url)
                desk = Desk(config, SqlStores(engine),
                            registry.routes(settings, config.categories))
                opened = await desk.open_ticket(ALICE, NewTicket(
                    category="general", subject="Invoice missing", description="For May."))
                await desk.add_watcher(ALICE, opened.ticket.number,
                                       Person(UserRef.email(WATCHER), WATCHER))
                await engine.dispose()
                [notice] = await asyncio.to_thread(sink.wait_for, 1, 30.0)
            finally:
                stop.set()
                await run
    assert notice["To"] == WATCHER
    assert notice["Subject"] == f"[#{opened.ticket.number}] Invoice missing"
    assert "Alice added wes@example.org as a watcher" in notice.get_body(
        ("plain",)).get_content()  # type: ignore[union-attr]


async def _healthy(port: int, run: asyncio.Task[None]) -> dict[str, object]:
    """/healthz once it answers 200 (bounded polling)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            assert not run.done(), run.exception()
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        body: dict[str, object] = await answer.json()
                        return body
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("helpthread run never became healthy")
