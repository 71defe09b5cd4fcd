"""``helpthread run`` with platform credentials: Slack and/or Discord (and e-mail when
``[email]`` is configured), the HTTP server
(``/slack/events``, ``/healthz``, ``/metrics``), the delivery worker, until SIGINT/SIGTERM.

The desk is built first, from the config alone (``bot.registry.routes``: every
configured platform, credentials or not); then each plug-in this process has
credentials for builds its running platform with that desk
(``bot.registry.Plugin.build``). This module only composes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog
from aiohttp import web

from bot import registry
from bot.collector import IdleCollector, freeze_startup_heap, thaw_heap
from bot.health import measure_requests, monitoring_routes
from bot.metrics import count_requests
from bot.registry import RunningPlatform
from bot.runtime import Runtime, StartupError, build
from bot.settings import ConfigError, Credentials, Settings
from core.config import DeskConfig
from core.platforms import SettingError

log = structlog.get_logger("helpthread")


STOP_GRACE_SECONDS = 5.0  # a delivery round in progress gets this long at shutdown


def check_placement(settings: Settings, config: DeskConfig, credentials: Credentials) -> None:
    """Before anything is built: each plug-in this process has credentials for has all
    it needs of them and its section can place tickets, and so can every configured
    section. ``ConfigError`` names the first key that cannot."""
    try:
        for plugin in registry.started(settings, credentials):
            plugin.check_credentials(registry.credentials_of(plugin, credentials))
            plugin.route(registry.section(settings, plugin), config.categories)
        registry.routes(settings, config.categories)
    except SettingError as err:
        raise ConfigError(str(err)) from err


async def build_platforms(settings: Settings, runtime: Runtime, credentials: Credentials,
                          ) -> list[RunningPlatform]:
    """Build every platform ``run`` starts (``bot.registry.started``: those with
    credentials, and e-mail when configured), serving ``runtime``'s desk, and hand its
    outbound port to the delivery worker. Raises ``ConfigError`` (a missing or wrong
    setting, named) or ``StartupError`` (the platform cannot be reached)."""
    platforms: list[RunningPlatform] = []
    for plugin in registry.started(settings, credentials):
        try:
            platform = await plugin.build(runtime.desk, registry.section(settings, plugin),
                                          registry.credentials_of(plugin, credentials))
        except SettingError as err:
            raise ConfigError(str(err)) from err
        except Exception as err:
            raise StartupError(f"cannot start {plugin.title}: {_reason(err)}") from err
        runtime.serve(platform.outbound)
        count_requests(platform, runtime.metrics)
        platforms.append(platform)
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


def http_app(runtime: Runtime, platforms: list[RunningPlatform]) -> web.Application:
    """The HTTP server's routes: each platform's own, ``/healthz`` and ``/metrics``
    (``bot.health``); requests to a platform's routes are counted and timed."""
    routes = [(platform, route) for platform in platforms for route in platform.http_routes()]
    paths = [(str(getattr(route, "path", "")), platform.route.platform)
             for platform, route in routes]
    http = web.Application(middlewares=[measure_requests(runtime.metrics, paths)])
    http.add_routes(monitoring_routes(
        runtime.engine, {p.route.platform: p for p in platforms}, runtime.metrics))
    http.add_routes([route for _, route in routes])
    return http


async def listen(runner: web.AppRunner, settings: Settings) -> None:
    """Serve ``runner`` on HELPTHREAD_HOST:HELPTHREAD_PORT; ``StartupError`` when the
    address cannot be bound."""
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except OSError as err:
        raise StartupError(f"HELPTHREAD_PORT {settings.port} on HELPTHREAD_HOST "
                           f"{settings.host}: cannot listen there "
                           f"({err.strerror or err})") from err
    log.info("http.listening", host=settings.host, port=settings.port)


async def run_platforms(settings: Settings, config: DeskConfig, credentials: Credentials,
                        stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    check_placement(settings, config, credentials)
    runtime = await build(settings, config)
    try:
        platforms = await build_platforms(settings, runtime, credentials)
    except BaseException:
        await runtime.close()
        raise

    runner = web.AppRunner(http_app(runtime, platforms), access_log=None)
    await runner.setup()
    worker: asyncio.Task[None] | None = None
    thresholds: tuple[int, int, int] | None = None
    collector: asyncio.Task[None] | None = None
    scheduler = asyncio.create_task(runtime.scheduler.run(stop))
    try:
        worker = asyncio.create_task(runtime.worker.run(stop))
        for platform in platforms:  # a refused token is found before anything is said
            if not await _start(platform, stop):
                return  # stopped while starting
        await listen(runner, settings)
        log.info("helpthread.running", platforms=[p.route.platform for p in platforms])
        thresholds = freeze_startup_heap()
        collector = asyncio.create_task(
            IdleCollector(lambda: runtime.metrics.last_request).run(stop))
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
        await scheduler
        if collector is not None:
            await collector
        await runner.cleanup()
        await runtime.close()
        if thresholds is not None:
            thaw_heap(thresholds)
