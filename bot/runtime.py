"""Building and running everything: engine, desk, delivery worker, platforms (PRODUCT.md §9)."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.shell.plugin import PLUGIN as SHELL
from adapters.shell.plugin import ShellCredentials
from adapters.shell.repl import ShellSession
from bot import registry
from bot.metrics import Metrics
from bot.registry import RunningPlatform
from bot.settings import ConfigError, Credentials, Settings
from core.clock import Clock
from core.config import DeskConfig
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.outbound import Outbound
from core.platforms import SettingError
from core.routing import PlatformRoute
from core.schedule import Scheduler
from core.store.engine import make_engine
from core.store.leader import AdvisoryLeader
from core.store.migrate import CannotOpenDatabase, Upgrade, sqlite_file, upgrade_async
from core.store.outbox import SqlOutbox
from core.store.search_language import SearchLanguageUnavailable, use_search_language
from core.store.sql import SqlStores
from core.undelivered import note_parked

log = logging.getLogger(__name__)

# The serving desk's SQLite connection threads run this much nicer than its event loop,
# which answers platforms first: as nice as Linux allows (measured in ``core.store.engine``).
# A thread is never starved: the loop awaits its work and leaves the CPU to it meanwhile.
DB_THREAD_NICE = 19


class StartupError(Exception):
    """Something the desk needs could not be reached at start (a platform, the database
    server, the port); one line for the operator, exit status 1."""


async def migrate_database(url: str) -> Upgrade:
    """Open the database and apply pending migrations. A database that cannot be opened
    raises ``StartupError`` (no server answers) or ``ConfigError`` (the URL names
    something that is not there), one line naming ``HELPTHREAD_DATABASE_URL``."""
    try:
        return await upgrade_async(url)
    except CannotOpenDatabase as err:
        problem = f"HELPTHREAD_DATABASE_URL: {err}"
        raise (StartupError(problem) if err.unreachable else ConfigError(problem)) from err


async def migrate_existing(url: str, command: str) -> Upgrade:
    """``migrate_database`` for a command that works on the desk already there (``export``,
    ``report``, ``deliveries``…): it creates no database. A SQLite file that does not
    exist — a typo in HELPTHREAD_DATABASE_URL, or run from another directory than the
    desk's — raises ``ConfigError`` naming its path; nothing is made. A PostgreSQL
    database that does not exist is refused when opened (``migrate_database``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if not path.exists():
            where = "" if path.is_absolute() else (
                " and the directory helpthread runs in (the path is relative to it: "
                f"{Path.cwd()})")
            raise ConfigError(
                f"HELPTHREAD_DATABASE_URL: the SQLite file {path.absolute()} does not "
                f"exist; `helpthread {command}` works on an existing desk and creates no "
                f"database: check HELPTHREAD_DATABASE_URL{where}; `helpthread run` "
                "creates the database")
    return await migrate_database(url)


async def embed_tickets(url: str, config: DeskConfig) -> int:
    """``helpthread db embed``: every ticket's embedding that is missing, stored
    (``core.deflection.embed_missing``); returns how many."""
    from core.deflection import embed_missing
    from core.semantic import embedder_for

    await migrate_existing(url, "db embed")
    embedder = embedder_for(config)
    assert embedder is not None, "db embed needs [deflection] ranking = semantic"
    engine = make_engine(url)
    try:
        return await embed_missing(SqlStores(engine), embedder)
    finally:
        await engine.dispose()


@dataclass
class Runtime:
    """The wired desk: one engine, one desk, one delivery worker, its own metrics."""

    settings: Settings
    config: DeskConfig
    engine: AsyncEngine
    desk: Desk
    worker: DeliveryWorker
    metrics: Metrics
    scheduler: Scheduler

    def serve(self, outbound: Outbound) -> None:
        """Hand ``outbound`` to the delivery worker, measured (``bot.metrics``)."""
        self.worker.serve(self.metrics.measured_outbound(outbound))

    async def close(self) -> None:
        await self.engine.dispose()


def routes_of(settings: Settings, config: DeskConfig) -> list[PlatformRoute]:
    """Where new tickets get threads, from the config alone (``bot.registry.routes``);
    ``ConfigError`` names a configured section that cannot place them."""
    try:
        return registry.routes(settings, config.categories)
    except SettingError as err:
        raise ConfigError(str(err)) from err


async def build(settings: Settings, config: DeskConfig,
                routes: list[PlatformRoute] | None = None, outbounds: list[Outbound] | None = None,
                clock: Clock | None = None, migrate: bool = True) -> Runtime:
    """Migrate the database (Alembic) and wire the desk and its delivery worker. The
    desk places tickets by ``routes`` (default: ``routes_of`` the config); platforms
    built later hand their outbound ports to ``worker.serve``."""
    if routes is None:
        routes = routes_of(settings, config)
    if migrate:
        await migrate_database(settings.database_url)
    engine = make_engine(settings.database_url, thread_nice=DB_THREAD_NICE)
    try:
        if await use_search_language(engine, config.search.language):
            log.info("search index rebuilt for search.language = %s", config.search.language)
    except SearchLanguageUnavailable as err:
        await engine.dispose()
        raise ConfigError(str(err)) from err
    metrics = Metrics(engine, [route.platform for route in routes])
    worker = DeliveryWorker(metrics.measured_outbox(SqlOutbox(engine)),
                            [metrics.measured_outbound(o) for o in outbounds or []], config,
                            clock=clock)
    stores = SqlStores(engine, config.search.language)
    desk = Desk(config, stores, routes, clock=clock, on_commit=worker.wake)
    scheduler = Scheduler(desk, stores, desk.clock)
    if engine.dialect.name == "postgresql":  # several processes may share it: one leads
        scheduler.lead = AdvisoryLeader(engine, on_timer=scheduler.notice)
    desk.on_timer = scheduler.notice
    worker.on_parked = partial(note_parked, desk)
    return Runtime(settings, config, engine, desk, worker, metrics, scheduler)


async def stdin_lines(session: ShellSession, interactive: bool) -> AsyncIterator[str]:
    """Lines from stdin, read by a daemon thread so the event loop never blocks and Ctrl-C
    ends the process at once (a pool thread stuck in ``readline`` would hold exit)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    asked = threading.Event()

    def read() -> None:
        while True:
            asked.wait()
            asked.clear()
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    if isinstance(sys.stdin, io.TextIOWrapper):  # a byte that is not UTF-8 reaches the
        # shell as U+DC80–U+DCFF, which it refuses by name, under any locale (a strict
        # decoder would kill the reading thread and leave the shell waiting)
        sys.stdin.reconfigure(errors="surrogateescape")
    threading.Thread(target=read, name="stdin", daemon=True).start()
    while True:
        if interactive:
            sys.stdout.write(session.prompt())
            sys.stdout.flush()
        asked.set()
        line = await lines.get()
        if not line:
            return
        yield line


async def run_shell(settings: Settings, config: DeskConfig, persona: str,
                    agent: bool, serve_http: bool = False,
                    credentials: Credentials | None = None) -> None:
    """The shell platform on stdin/stdout until end of input; everything pending is
    delivered before it returns. Tickets are placed as the config says (the shell's own
    threads when no chat platform is configured, see ``adapters.shell.plugin``).
    ``serve_http`` and HELPTHREAD_PORT set: ``/healthz`` and ``/metrics`` on it
    meanwhile (``StartupError`` when the port cannot be bound). With ``credentials``
    (``helpthread run``), the platforms ``run`` starts without a chat platform run
    beside the shell — e-mail when ``[email]`` is configured — and what is due for
    them is delivered every ``worker.poll_seconds`` too (retries come due by time)."""
    from bot.platforms import build_platforms, http_app, listen  # it builds on this module

    runtime = await build(settings, config)
    shell = await SHELL.build(runtime.desk, settings.shell, ShellCredentials())
    runtime.serve(shell.outbound)
    try:
        beside = await build_platforms(settings, runtime, credentials) if credentials else []
        for platform in beside:
            await platform.start()
    except BaseException:
        await runtime.close()
        raise
    runner: web.AppRunner | None = None
    if serve_http and "port" in settings.model_fields_set:
        runner = web.AppRunner(http_app(runtime, [shell, *beside]), access_log=None)
        await runner.setup()
        try:
            await listen(runner, settings)
        except BaseException:
            await runner.cleanup()
            await _stop_all(beside)
            await runtime.close()
            raise
    printer = shell.printer
    interactive = sys.stdin.isatty()
    session = ShellSession(runtime.desk, runtime.worker, printer, persona=persona, agent=agent,
                           echo=not interactive, interactive=interactive)
    stop = asyncio.Event()
    runtime.scheduler.after_firing = session.deliver  # what fired is printed at once
    scheduler = asyncio.create_task(runtime.scheduler.run(stop))
    redelivery = asyncio.create_task(_keep_delivering(session, runtime.worker.poll_seconds,
                                                      stop)) if beside else None
    if interactive:
        printer.lines("", [f"{config.desk.name} — shell desk. /ticket help lists the "
                           "commands; /as NAME --agent acts as an agent; Ctrl-D ends."])
    try:
        await session.run(stdin_lines(session, interactive))
    finally:
        stop.set()
        await scheduler
        if redelivery is not None:
            await redelivery
        await session.deliver()  # what the scheduler's last round queued, too
        await _stop_all(beside)
        if runner is not None:
            await runner.cleanup()
        await runtime.close()


async def _keep_delivering(session: ShellSession, every: float, stop: asyncio.Event) -> None:
    """``session.deliver()`` every ``every`` seconds until ``stop``: a retry due later
    (an SMTP server that said "try later") goes out without waiting for a line."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            await session.deliver()


async def _stop_all(platforms: list[RunningPlatform]) -> None:
    for platform in platforms:
        try:
            await platform.stop()
        except Exception:  # stopping one must not keep the others running
            logging.getLogger("helpthread").warning("stopping %s failed",
                                                    platform.route.platform, exc_info=True)
