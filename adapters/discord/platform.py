"""Discord as a running platform: config checks, URLs, start and stop (issue 4).

``plugin.DiscordPlugin.build`` calls ``build_discord(desk, settings, token=…,
api_url=…, gateway_url=…)`` and gets a ``DiscordPlatform`` with ``route``,
``outbound``, ``http_routes()``, ``start()`` and ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
import yarl

from adapters.discord.bot import HelpthreadBot
from adapters.discord.outbound import DiscordOutbound
from adapters.discord.plugin import PLUGIN, DiscordSettings
from adapters.discord.views import MODAL_MAX_COMPONENTS, SELECT_MAX_OPTIONS
from core.config import DeskConfig
from core.desk import Desk
from core.lanes import answer_lane
from core.platforms import SettingError

log = logging.getLogger("helpthread.discord")

EMBED_FIELD_MAX = 1024  # Discord: an embed field value holds at most 1024 characters
FIXED_MODAL_INPUTS = 2  # subject and description


class DiscordConfigError(SettingError):
    """The config cannot work on Discord (the message names the key or category)."""


def config_problems(config: DeskConfig, settings: DiscordSettings) -> list[str]:
    """Everything in ``config`` Discord cannot do, one sentence each (empty: fine).

    - ``discord.guild_id``, ``support_channel_id`` and ``team_channel_id`` are needed;
    - a category's form is one modal: subject, description and its own fields must fit
      Discord's 5 components per modal, so at most 3 fields;
    - a field is shown on the card in an embed field (at most 1024 characters);
    - the panel offers the categories in one select menu (at most 25 options).
    """
    problems = []
    for key in ("guild_id", "support_channel_id", "team_channel_id"):
        if getattr(settings, key) is None:
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


def check_config(config: DeskConfig, settings: DiscordSettings) -> None:
    """Raise ``DiscordConfigError`` naming every problem of ``config_problems``."""
    problems = config_problems(config, settings)
    if problems:
        raise DiscordConfigError("invalid Discord configuration: "
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


class DiscordPlatform:
    """The running Discord front end: one bot, its outbound port and route."""

    def __init__(self, bot: HelpthreadBot, token: str) -> None:
        self.config = bot.config
        self.bot = bot
        self.route = PLUGIN.route(bot.settings, bot.config.categories)
        self.outbound = DiscordOutbound(bot)
        self._token = token
        self._connection: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """The gateway session is up (READY received) and the client not closed."""
        return self.bot.is_ready() and not self.bot.is_closed()

    def http_routes(self) -> list[object]:
        return []  # Discord reaches us over the gateway, not HTTP

    async def start(self) -> None:
        """Log in (REST: the token's user and application), sync the /ticket group to
        the guild (``setup_hook``) and keep the gateway connected in the background."""
        await self.bot.login(self._token)
        # the gateway's task and the interactions it reads run in the event loop's
        # answer lane (``core.lanes``) until they are answered
        self._connection = asyncio.create_task(self.bot.connect(reconnect=True),
                                               name="discord-gateway",
                                               context=answer_lane())
        log.info("discord.started application_id=%s", self.bot.application_id)

    async def stop(self) -> None:
        await self.bot.close()
        if self._connection is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connection


async def build_discord(desk: Desk, settings: DiscordSettings, *, token: str,
                        api_url: str | None = None,
                        gateway_url: str | None = None) -> DiscordPlatform:
    """Check the config for Discord (``DiscordConfigError`` names what is wrong), apply
    the URLs and build the platform serving ``desk``; nothing connects before
    ``start()``."""
    check_config(desk.config, settings)
    apply_urls(api_url, gateway_url)
    return DiscordPlatform(HelpthreadBot(desk.config, settings, desk), token)
