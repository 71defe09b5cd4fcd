"""Config checks for Discord (issue 4, point 3) and ``helpthread discord-invite`` (point 9)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from adapters.discord.invite import BOT_PERMISSIONS, SCOPES, WHY, invite_url
from adapters.discord.platform import DiscordConfigError, build_discord, config_problems
from adapters.discord.plugin import DiscordSettings
from core.config import Category, CategoryField, DeskConfig
from core.desk import Desk
from tests.platform.discord.wire import APPLICATION_ID, FakeDiscord
from tests.support.memory import MemoryStores

HELPTHREAD = str(Path(sys.executable).with_name("helpthread"))
IDS = DiscordSettings(guild_id=1, support_channel_id=2, team_channel_id=3, agent_role_id=4)


def _fields(n: int) -> tuple[CategoryField, ...]:
    return tuple(CategoryField(key=f"f{i}", label=f"Field {i}") for i in range(n))


def test_the_default_categories_fit_a_discord_form() -> None:
    config = DeskConfig()
    assert config_problems(config, IDS) == []
    refund = config.category("refund")
    assert refund is not None and len(refund.fields) == 3  # + subject + description = 5


async def test_a_category_with_too_many_fields_is_refused_naming_it() -> None:
    config = DeskConfig(categories=(
        Category(key="general", name="General"),
        Category(key="warranty", name="Warranty claim", fields=_fields(4))))
    with pytest.raises(DiscordConfigError) as refused:
        await build_discord(Desk(config, MemoryStores(), []), IDS, token="t")
    assert "category 'warranty' declares 4 fields" in str(refused.value)
    assert "at most 5 inputs" in str(refused.value)


def test_missing_discord_ids_are_named() -> None:
    problems = config_problems(DeskConfig(), DiscordSettings())
    assert "discord.guild_id is required when DISCORD_TOKEN is set" in problems
    assert "discord.support_channel_id is required when DISCORD_TOKEN is set" in problems


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "HELPTHREAD_"))}
    env["HELPTHREAD_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    env.update(extra)
    return env


async def _helpthread(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        HELPTHREAD, *args, cwd=tmp_path, env=_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_helpthread_run_stops_with_a_message_naming_the_category(tmp_path: Path) -> None:
    (tmp_path / "helpthread.toml").write_text(
        "[discord]\nguild_id = 1\nsupport_channel_id = 2\nteam_channel_id = 3\n\n"
        "[[categories]]\nkey = \"warranty\"\nname = \"Warranty\"\nfields = [\n"
        + "".join(f'  {{ key = "f{i}", label = "Field {i}" }},\n' for i in range(4)) + "]\n")
    code, _, err = await _helpthread(tmp_path, "run", DISCORD_TOKEN="t",
                                     DISCORD_API_URL="http://127.0.0.1:9/api/v10")
    assert code == 2  # an invalid config: exit status 2, one line (issue 2, point 7)
    assert "category 'warranty' declares 4 fields" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_invite_url_has_the_scopes_and_exactly_the_needed_permissions() -> None:
    url = urlsplit(invite_url(APPLICATION_ID, 1234))
    query = parse_qs(url.query)
    assert query["client_id"] == [str(APPLICATION_ID)]
    assert query["scope"] == [" ".join(SCOPES)] == ["bot applications.commands"]
    assert query["guild_id"] == ["1234"]
    granted = discord.Permissions(int(query["permissions"][0]))
    assert granted == BOT_PERMISSIONS
    assert bin(granted.value).count("1") == len(WHY)  # one bit per explained permission
    assert not granted.administrator and not granted.mention_everyone


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(1)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_discord_invite_command_reads_the_tokens_application(
        fake: FakeDiscord, tmp_path: Path) -> None:
    (tmp_path / "helpthread.toml").write_text("[discord]\nguild_id = 1234\n")
    code, out, err = await _helpthread(tmp_path, "discord-invite", DISCORD_TOKEN="bot-token",
                                       DISCORD_API_URL=fake.api_url)
    assert code == 0, err
    first = out.splitlines()[0]
    assert first == invite_url(APPLICATION_ID, 1234)
    assert "Message Content intent" in out
    for name in WHY:
        assert name.replace("_", " ").title() in out
    assert [r.path for r in fake.requests] == ["/users/@me", "/oauth2/applications/@me"]
