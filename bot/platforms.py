"""``helpthread run`` with platform credentials: Slack and/or Discord, the HTTP server
(``/slack/events``, ``/healthz``), the delivery worker, until SIGINT/SIGTERM.

Each adapter package offers a ``build_<platform>(config, **credentials)`` returning an
object with ``route`` (a ``PlatformRoute``), ``outbound`` (an ``Outbound``),
``attach(desk)``, ``http_routes()`` (aiohttp route definitions, may be empty),
``start()`` and ``stop()``. This module only composes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from typing import Any, Protocol

import structlog
from aiohttp import web
from pydantic import SecretStr

from bot.runtime import StartupError, build, migrate_database
from bot.settings import ConfigError, Credentials, Settings
from core.config import DeskConfig
from core.delivery import Outbound
from core.desk import Desk
from core.routing import PlatformRoute

log = structlog.get_logger("helpthread")


class RunningPlatform(Protocol):
    route: PlatformRoute
    outbound: Outbound

    def attach(self, desk: Desk) -> None: ...

    def http_routes(self) -> list[web.AbstractRouteDef]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


STOP_GRACE_SECONDS = 5.0  # a delivery round in progress gets this long at shutdown


async def build_platforms(config: DeskConfig, credentials: Credentials) -> list[Any]:
    """Build every platform with credentials. Raises ``ConfigError`` (a missing or wrong
    setting, named) or ``StartupError`` (the platform cannot be reached)."""
    platforms: list[Any] = []
    if credentials.slack:
        from adapters.slack.platform import SlackConfigError, build_slack, route_for

        if credentials.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN: needed to use Slack (SLACK_SIGNING_SECRET "
                              "or SLACK_APP_TOKEN is set); it is the app's xoxb- token")
        if not credentials.slack_app_token and not credentials.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET: needed to verify Slack's requests in "
                              "HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")
        try:
            route_for(config, "")  # checks the [slack] keys before any network call
            platforms.append(await build_slack(
                config,
                bot_token=_secret(credentials.slack_bot_token),
                signing_secret=_secret(credentials.slack_signing_secret),
                app_token=_secret(credentials.slack_app_token) or None,
                api_url=credentials.slack_api_url,
            ))
        except SlackConfigError as err:
            raise ConfigError(str(err)) from err
        except Exception as err:
            raise StartupError(f"cannot start Slack: {_reason(err)}") from err
    if credentials.discord:
        from adapters.discord.platform import DiscordConfigError, build_discord

        try:
            platforms.append(await build_discord(
                config,
                token=_secret(credentials.discord_token),
                api_url=credentials.discord_api_url,
                gateway_url=credentials.discord_gateway_url,
            ))
        except DiscordConfigError as err:
            raise ConfigError(str(err.code).removeprefix("helpthread: ")) from err
    return platforms


async def _start(platform: RunningPlatform, stop: asyncio.Event) -> bool:
    """``platform.start()``, given up when ``stop`` is set first (SIGTERM while Slack is
    slow to answer). Its ``ValueError`` (a setting Slack or Discord refused) becomes
    ``ConfigError``, anything else ``StartupError``; False when stopped."""
    starting = asyncio.ensure_future(platform.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starting
        return False
    try:
        starting.result()
    except ValueError as err:
        raise ConfigError(str(err)) from err
    except Exception as err:
        raise StartupError(f"cannot start {platform.route.platform}: {_reason(err)}") from err
    return True


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def freeze_startup_heap() -> None:
    """Move every object alive once start-up is done — modules, the SDKs, SQLAlchemy's
    tables and mappers: a few hundred thousand — out of the garbage collector's reach
    (``gc.freeze``). Otherwise each full collection walks all of them on the event loop
    that acknowledges requests: under load (``bench/slack.py``, 32 in flight) pauses of
    up to 170 ms were measured, against Slack's 3-second window and a 1.3x target over
    a bare Bolt app. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


async def run_platforms(settings: Settings, config: DeskConfig, credentials: Credentials,
                        stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await migrate_database(settings.database_url)  # a bad database before any platform call
    platforms: list[RunningPlatform] = await build_platforms(config, credentials)
    runtime = await build(settings, config, [p.route for p in platforms],
                          [p.outbound for p in platforms], migrate=False)
    for platform in platforms:
        platform.attach(runtime.desk)

    http = web.Application()
    http.router.add_get("/healthz", healthz)
    for platform in platforms:
        http.add_routes(platform.http_routes())
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    worker: asyncio.Task[None] | None = None
    try:
        worker = asyncio.create_task(runtime.worker.run(stop))
        for platform in platforms:  # a refused token is found before anything is said
            if not await _start(platform, stop):
                return  # stopped while starting
        try:
            await web.TCPSite(runner, "0.0.0.0", settings.port).start()
        except OSError as err:
            raise StartupError(f"HELPTHREAD_PORT {settings.port}: cannot listen there "
                               f"({err.strerror or err})") from err
        log.info("http.listening", port=settings.port)
        log.info("helpthread.running", platforms=[p.route.platform for p in platforms])
        freeze_startup_heap()
        await stop.wait()
    finally:
        stop.set()
        if worker is not None:  # let a delivery round end before the platforms close
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(worker), STOP_GRACE_SECONDS)
        for platform in platforms:
            with contextlib.suppress(Exception):
                await platform.stop()
        if worker is not None:
            await worker
        await runner.cleanup()
        await runtime.close()
        gc.unfreeze()
