"""Discord as a running platform: config checks, URLs, route, start and stop (issue 4).

``bot.platforms`` calls ``build_discord(config, token=…, api_url=…, gateway_url=…)``
and gets a ``DiscordPlatform`` with ``route``, ``outbound``, ``attach(desk)``,
``http_routes()``, ``start()`` and ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
import yarl

from adapters.discord.bot import HelpthreadBot
from adapters.discord.outbound import DiscordOutbound
from adapters.discord.views import MODAL_MAX_COMPONENTS, SELECT_MAX_OPTIONS
from core.config import DeskConfig
from core.desk import Desk
from core.routing import PlatformRoute

log = logging.getLogger("helpthread.discord")

PLATFORM = "discord"
EMBED_FIELD_MAX = 1024  # Discord: an embed field value holds at most 1024 characters
FIXED_MODAL_INPUTS = 2  # subject and description


class DiscordConfigError(SystemExit):
    """The config cannot work on Discord. A ``SystemExit``: the process stops with the
    message (naming the key or category), without a traceback."""


def config_problems(config: DeskConfig) -> list[str]:
    """Everything in ``config`` Discord cannot do, one sentence each (empty: fine).

    - ``discord.guild_id``, ``support_channel_id`` and ``team_channel_id`` are needed;
    - a category's form is one modal: subject, description and its own fields must fit
      Discord's 5 components per modal, so at most 3 fields;
    - a field is shown on the card in an embed field (at most 1024 characters);
    - the panel offers the categories in one select menu (at most 25 options).
    """
    problems = []
    d = config.discord
    for key in ("guild_id", "support_channel_id", "team_channel_id"):
        if getattr(d, key) is None:
            problems.append(f"discord.{key} is required when DISCORD_TOKEN is set")
    room = MODAL_MAX_COMPONENTS - FIXED_MODAL_INPUTS
    for category in config.categories:
        if len(category.fields) > room:
            problems.append(
                f"category {category.key!r} declares {len(category.fields)} fields, but a "
                f"Discord form (modal) holds at most {MODAL_MAX_COMPONENTS} inputs: subject, "
                f"description and {room} fields; move some fields to another category")
        for spec in category.fields:
            if spec.max_length > EMBED_FIELD_MAX:
                problems.append(
                    f"category {category.key!r}: field {spec.key!r} allows {spec.max_length} "
                    f"characters; Discord shows at most {EMBED_FIELD_MAX} in a card field")
    if len(config.categories) > SELECT_MAX_OPTIONS:
        problems.append(f"categories: {len(config.categories)} categories do not fit the "
                        f"panel's menu (Discord allows {SELECT_MAX_OPTIONS} options)")
    return problems


def check_config(config: DeskConfig) -> None:
    """Raise ``DiscordConfigError`` naming every problem of ``config_problems``."""
    problems = config_problems(config)
    if problems:
        raise DiscordConfigError("helpthread: invalid Discord configuration: "
                                 + "; ".join(problems))


def apply_urls(api_url: str | None, gateway_url: str | None) -> None:
    """Point discord.py at a REST proxy / fake (``DISCORD_API_URL``, the full base such as
    ``http://127.0.0.1:8080/api/v10``) and gateway (``DISCORD_GATEWAY_URL``). discord.py
    keeps these as class attributes; this is the one place that sets them, at start-up.
    Interaction responses and webhooks use the same REST base."""
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def route_for(config: DeskConfig) -> PlatformRoute:
    """Where Discord tickets live: private threads under the support channel, team
    threads under cards in each category's team channel."""
    d = config.discord
    return PlatformRoute(
        platform=PLATFORM,
        workspace=str(d.guild_id),
        support_channel=str(d.support_channel_id),
        default_team_channel=str(d.team_channel_id),
        team_channels={c.key: str(c.discord_team_channel_id) for c in config.categories
                       if c.discord_team_channel_id},
        escalation_channel=str(d.escalation_channel_id) if d.escalation_channel_id else None,
        private_in_dm=False,
        thread_reaches_requester=True,
    )


class DiscordPlatform:
    """The running Discord front end: one bot, its outbound port and route."""

    def __init__(self, config: DeskConfig, bot: HelpthreadBot, token: str) -> None:
        self.config = config
        self.bot = bot
        self.route = route_for(config)
        self.outbound = DiscordOutbound(bot)
        self._token = token
        self._connection: asyncio.Task[None] | None = None

    def attach(self, desk: Desk) -> None:
        self.bot.desk = desk

    def http_routes(self) -> list[object]:
        return []  # Discord reaches us over the gateway, not HTTP

    async def start(self) -> None:
        """Log in (REST: the token's user and application), sync the /ticket group to
        the guild (``setup_hook``) and keep the gateway connected in the background."""
        await self.bot.login(self._token)
        self._connection = asyncio.create_task(self.bot.connect(reconnect=True),
                                               name="discord-gateway")
        log.info("discord.started application_id=%s", self.bot.application_id)

    async def stop(self) -> None:
        await self.bot.close()
        if self._connection is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connection


async def build_discord(config: DeskConfig, *, token: str, api_url: str | None = None,
                        gateway_url: str | None = None) -> DiscordPlatform:
    """Check the config for Discord (``DiscordConfigError`` names what is wrong), apply
    the URLs and build the platform; nothing connects before ``start()``."""
    check_config(config)
    apply_urls(api_url, gateway_url)
    return DiscordPlatform(config, HelpthreadBot(config), token)
