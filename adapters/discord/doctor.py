"""What ``helpthread doctor`` checks of Discord (``core.checks``): ``DISCORD_TOKEN``
and ``[discord]`` (as ``helpthread run`` checks them, same words), then over REST
(``DISCORD_API_URL``, with discord.py's own HTTP client) the token
(``GET /users/@me``: a 401 is a refused token), the guild (``GET /guilds/{id}``) and
each configured channel (``GET /channels/{id}``: visible to the bot, in that guild).
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import discord
from discord.http import HTTPClient, Route

from adapters.discord.platform import apply_urls, config_problems
from adapters.discord.plugin import PLUGIN, DiscordCredentials, DiscordSettings
from core.checks import Check, Outcome, Probe, failed, ok, warning
from core.config import DeskConfig, TranscriptsSection
from core.platforms import SettingError

CREDENTIALS = "Discord token"
SECTION = "Discord [discord]"
API = "Discord API"
GUILD = "Discord guild"
CHANNELS = "Discord channels"
# A bot token: three base64url parts separated by dots (Discord: "Authentication").
TOKEN_SHAPE = re.compile(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}")
REFUSED = ("DISCORD_TOKEN: Discord refused it (401 Unauthorized); use the bot's token "
           "(Developer Portal → your application → Bot → Reset Token)")


def checks(settings: DiscordSettings, credentials: DiscordCredentials,
           config: DeskConfig, transcripts: TranscriptsSection) -> list[Check | Probe]:
    """Discord's checks; none when neither ``[discord]`` nor ``DISCORD_TOKEN`` is set."""
    if not (PLUGIN.configured(settings) or PLUGIN.has_credentials(credentials)):
        if "discord_channel_id" in transcripts.platform_keys:  # else copies go nowhere
            return [warning(SECTION, "transcripts.discord_channel_id is set, but Discord is "
                            "not: no transcript is posted there until [discord] is "
                            "configured")]
        return []
    token = credentials.discord_token.get_secret_value() if credentials.discord_token else ""
    if not token:
        found: list[Check | Probe] = [warning(
            CREDENTIALS, "DISCORD_TOKEN is not set: `helpthread run` here will not connect "
            "to Discord, yet [discord] is configured, so tickets get Discord threads "
            "another process must serve")]
    elif not TOKEN_SHAPE.fullmatch(token):
        found = [warning(CREDENTIALS, "DISCORD_TOKEN: is not shaped like a bot token "
                         "(three dot-separated base64 parts, the first of at least 20 characters); "
                         "Discord will likely refuse it")]
    else:
        found = [ok(CREDENTIALS, "DISCORD_TOKEN set")]
    section = _section(settings, config, transcripts, checked=bool(token))
    found.append(section)
    if token:
        channels = _channels_of(settings, config, transcripts)
        found.append(Probe(API, lambda seconds: _api(settings, credentials, channels,
                                                     seconds)))
    return found


def _section(settings: DiscordSettings, config: DeskConfig, transcripts: TranscriptsSection,
             *, checked: bool) -> Check:
    """``[discord]`` can place tickets; with the token set, also what ``run`` refuses
    before connecting (forms and menus Discord cannot show)."""
    try:
        route = PLUGIN.route(settings, config.categories)
    except SettingError as err:
        return failed(SECTION, str(err))
    problems = config_problems(config, settings) if checked else []
    if problems:
        return failed(SECTION, "invalid Discord configuration: " + "; ".join(problems))
    channels = route.channels(PLUGIN.transcripts_channel(transcripts))
    return ok(SECTION, f"guild {settings.guild_id}, "
              + ", ".join(f"{k} {v}" for k, v in channels.items()))


def _channels_of(settings: DiscordSettings, config: DeskConfig,
                 transcripts: TranscriptsSection) -> dict[str, str] | None:
    """The channels ``[discord]`` names, by what they are for; None when it cannot
    place tickets (then neither guild nor channels are asked about)."""
    try:
        route = PLUGIN.route(settings, config.categories)
    except SettingError:
        return None
    return route.channels(PLUGIN.transcripts_channel(transcripts))


async def _api(settings: DiscordSettings, credentials: DiscordCredentials,
               channels: dict[str, str] | None, seconds: float) -> list[Check]:
    apply_urls(credentials.discord_api_url, credentials.discord_gateway_url)
    base = Route.BASE
    assert credentials.discord_token is not None
    http = HTTPClient(asyncio.get_running_loop(), max_ratelimit_timeout=seconds)
    try:
        try:
            # each call within ``seconds``: discord.py retries a 5xx for longer
            me = await asyncio.wait_for(
                http.static_login(credentials.discord_token.get_secret_value()), seconds)
        except discord.LoginFailure:
            return [failed(API, REFUSED)]
        except TimeoutError:
            return [failed(API, f"no answer from Discord at {base} within {seconds:.0f} s")]
        except (discord.HTTPException, aiohttp.ClientError, OSError) as err:
            return [failed(API, f"cannot reach Discord at {base}: {_reason(err)}")]
        if not (isinstance(me, dict) and me.get("id") and me.get("username")):
            return [failed(API, f"{base} answered /users/@me with something that is not a "
                           "Discord user: is DISCORD_API_URL Discord's API?")]
        found = [ok(API, f"bot {me['username']} ({me['id']}) at {base}")]
        if channels is None or settings.guild_id is None:
            return found
        try:
            found.append(await asyncio.wait_for(_guild(http, settings.guild_id), seconds))
            if found[-1].outcome is Outcome.OK:
                found.append(await asyncio.wait_for(
                    _channels(http, settings.guild_id, channels), seconds))
        except TimeoutError:
            found.append(failed(GUILD if len(found) == 1 else CHANNELS,
                                f"no answer from Discord at {base} within {seconds:.0f} s"))
        return found
    finally:
        await http.close()


async def _guild(http: HTTPClient, guild_id: int) -> Check:
    try:
        guild = await http.get_guild(guild_id, with_counts=False)
    except discord.HTTPException as err:
        return failed(GUILD, f"discord.guild_id {guild_id}: {_refusal(err)}; add the bot "
                      "to the server with the URL `helpthread discord-invite` prints")
    if not isinstance(guild, dict) or not guild.get("name"):
        return failed(GUILD, f"discord.guild_id {guild_id}: the answer is not a Discord "
                      "server")
    return ok(GUILD, f"{guild['name']} ({guild_id}): the bot is a member")


async def _channels(http: HTTPClient, guild_id: int, channels: dict[str, str]) -> Check:
    """Each channel is one the bot can see, in the configured guild."""
    problems = []
    for what, channel_id in channels.items():
        try:
            channel = await http.get_channel(int(channel_id))
        except discord.HTTPException as err:
            problems.append(f"{what} {channel_id}: {_refusal(err)}")
            continue
        if not isinstance(channel, dict):
            problems.append(f"{what} {channel_id}: the answer is not a Discord channel")
        elif str(channel.get("guild_id")) != str(guild_id):
            problems.append(f"{what} {channel_id}: is in another server, not guild "
                            f"{guild_id}")
    if problems:
        return failed(CHANNELS, "; ".join(problems))
    return ok(CHANNELS, ", ".join(f"{what} {cid}" for what, cid in channels.items())
              + ": the bot sees each")


def _refusal(err: discord.HTTPException) -> str:
    """Discord's answer in words: 404 unknown, 403 not visible to the bot."""
    if err.status == 404:
        return f"unknown to Discord ({err.text or 'Not Found'})"
    if err.status == 403:
        return "the bot cannot see it (Missing Access: not a member, or no View Channel)"
    return f"{err.status} {err.text}".strip()


def _reason(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
