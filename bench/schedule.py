"""The scheduler over 100,000 open tickets with their timers (issue 11, "Benchmark").

    .venv/bin/python -m bench.schedule [--tickets N] [--window-timers K] [--window S]
                                       [--idle S] [--openings N] [--open-rate R]
                                       [--engine sqlite|postgres|both] [--pg DSN] [--quick]

For each engine, on a fresh database (a temporary SQLite file in WAL mode; a PostgreSQL
database created for the run and dropped after it), in one run:

- **seed**: ``--tickets`` open tickets with their timers. The first ``SAMPLE`` are opened
  by the real ``Desk``; the rest are built as ``Intake._create`` builds a ticket
  (``Desk.validate`` of the form, ``sla.start``) and written in batches of
  ``SEED_BATCH`` per transaction: the ``tickets`` rows by ``core.store.rows.ticket_values``,
  the bindings ``core.routing.bindings_for`` gives, the ``opened`` event by
  ``event_values``, and the timers by ``Store.replace_timers(number, core.timers.plan(…))``
  — the store calls the desk makes. Left out: the opened event's three deliveries and the
  opener's read mark (neither is read by the scheduler). Priorities normal/high/low,
  opened over the last 30 minutes: nothing comes due during the run.
- **idle CPU**: the real ``Scheduler.run(stop)`` on a ``SystemClock`` (wired as
  ``bot.runtime.build`` wires it: ``desk.on_timer``, and on PostgreSQL the
  ``AdvisoryLeader`` with its LISTEN), asleep with nothing due: process CPU time
  (``time.process_time``) over ``--idle`` seconds, as a % of one core.
- **lateness**: ``--window-timers`` more tickets are written the same way in one
  transaction, backdated so that their first-response warnings come due spread over
  ``--window`` seconds starting 3 s later; the commit wakes the scheduler as the desk's
  would (``desk.on_timer``; on PostgreSQL also the NOTIFY). Meanwhile one caller keeps
  opening tickets through the desk (as fast as it can, or ``--open-rate`` per second).
  Lateness is ``fired_at − due_at`` as stored in ``timers``, and commit − due, taken
  when ``Desk.fire`` returns (the warning and its deliveries are committed then).
- **opening**: ``Desk.open_ticket`` with timers (the normal desk, the scheduler
  running) against the same desk with timer planning off and the scheduler stopped
  (``NoTimersDesk``: a subclass here whose ``_plan_timers`` stores nothing — core is not
  changed), in alternating blocks of
  ``BLOCK`` on the same database, ``--openings`` each.

Targets: lateness p95 ≤ 1 s (commit − due); idle CPU ≤ 1 % of a core; opening with
timers ≥ 0.8× without. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.core import CONFIG, DESCRIPTION, ROUTE, Series, requester, run_block
from bench.databases import throwaway_postgres
from bench.seeding import SEED_BATCH, check_seeded, seed, seed_ticket, write_tickets
from core import sla
from core.clock import SystemClock
from core.desk import Desk, NewTicket
from core.schedule import Scheduler
from core.store.engine import make_engine
from core.store.leader import AdvisoryLeader
from core.store.migrate import upgrade_async
from core.store.port import Store
from core.store.sql import SqlStores
from core.store.timers_sql import TM
from core.tickets import Ticket
from core.timers import Timer, TimerKind

LATENESS_TARGET = 1.0  # seconds, p95
IDLE_TARGET = 1.0  # % of one core
RATIO_TARGET = 0.8  # openings with timers / without
SAMPLE = 200  # tickets the desk opens itself before the bulk seed
BLOCK = 50  # openings per alternating with/without block
WARMUP = 20
WINDOW_LEAD = 3.0  # seconds from the window's commit to its first due timer
PG_ADMIN_DSN = os.environ.get("HELPTHREAD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


# ---- the desk, measured; and without timers ------------------------------------------

class TimedDesk(Desk):
    """The real desk; records when each ``fire`` returned (its transaction committed)."""

    fired_done: dict[int, float]  # timer id -> time.time() after Desk.fire returned

    fired_signal: asyncio.Event  # set after each fire

    async def fire(self, timer: Timer) -> bool:
        did = await super().fire(timer)
        self.fired_done[timer.id] = time.time()
        self.fired_signal.set()
        return did


class NoTimersDesk(Desk):
    """The same desk with timer planning off: stores no timer, wakes no scheduler."""

    async def _plan_timers(self, store: Store, ticket: Ticket, *,
                           new_ticket: bool = False) -> datetime | None:
        return None


class CountingScheduler(Scheduler):
    """The real scheduler; counts its rounds (``run_once``) so idle rounds show."""

    rounds = 0

    async def run_once(self) -> int:
        self.rounds += 1
        return await super().run_once()


# ---- the scheduler, running -------------------------------------------------------------

@dataclass
class Running:
    scheduler: CountingScheduler
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def start(self, settle: float = 120.0) -> float:
        """Runs ``Scheduler.run(stop)``; returns the seconds until it first sleeps."""
        self.stop = asyncio.Event()
        self.scheduler._sleeping_until = None
        started = time.perf_counter()
        self.task = asyncio.create_task(self.scheduler.run(self.stop))
        while self.scheduler._sleeping_until is None:  # its first round is done
            if time.perf_counter() - started > settle or self.task.done():
                raise RuntimeError("the scheduler did not settle")
            await asyncio.sleep(0.01)
        return time.perf_counter() - started

    async def halt(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 30)
            self.task = None


async def idle_cpu(running: Running, seconds: float) -> tuple[float, int]:
    """Process CPU over ``seconds`` with the scheduler asleep: (% of a core, rounds)."""
    rounds = running.scheduler.rounds
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    used = (time.process_time() - cpu) / (time.perf_counter() - wall) * 100
    return used, running.scheduler.rounds - rounds


@dataclass
class Lateness:
    stored: list[float]  # fired_at - due_at, seconds
    committed: list[float]  # time Desk.fire returned - due_at, seconds
    fired: int
    expected: int
    openings: Series


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0


async def lateness(desk: TimedDesk, count: int, window: float, open_rate: float,
                   base: int) -> Lateness:
    """``count`` first-response warnings due over ``window`` s while one caller opens."""
    urgent = desk.config.targets("technical", "urgent").first_response * sla.WARNING_AT
    now = datetime.now(UTC)
    dues = [now + timedelta(seconds=WINDOW_LEAD + window * j / max(1, count - 1))
            for j in range(count)]
    window_tickets = [seed_ticket(desk, base + j, due - urgent, "urgent")
                      for j, due in enumerate(dues)]
    earliest = await write_tickets(desk, window_tickets)
    if earliest is not None:
        desk.on_timer(earliest)  # as the desk's own commit does (DeskBase._committed)
    numbers = [t.number for t in window_tickets]
    async with desk.stores.reading() as store:
        ids = {t.id: t for n in numbers for t in await store.timers(n)
               if t.kind is TimerKind.FIRST_RESPONSE_WARNING}
    done = asyncio.Event()
    openings = Series()

    async def opener() -> None:
        i = base + count
        while not done.is_set():
            began = time.perf_counter()
            await run_block(lambda n: open_one(desk, n, "late"), range(i, i + 1), 1, openings)
            i += 1
            if open_rate > 0:
                await asyncio.sleep(max(0.0, 1 / open_rate - (time.perf_counter() - began)))

    task = asyncio.create_task(opener())
    deadline = time.perf_counter() + WINDOW_LEAD + window + 60
    while not set(ids) <= set(desk.fired_done) and time.perf_counter() < deadline:
        desk.fired_signal.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(desk.fired_signal.wait(), 1.0)
    done.set()
    await task
    async with desk.stores.reading() as store:
        rows = (await store.conn.execute(  # type: ignore[attr-defined]
            select(TM.c.id, TM.c.due_at, TM.c.fired_at).where(TM.c.id.in_(list(ids))))).all()
    stored = [(r.fired_at - r.due_at).total_seconds() for r in rows if r.fired_at is not None]
    committed = [desk.fired_done[r.id] - r.due_at.timestamp() for r in rows
                 if r.id in desk.fired_done]
    return Lateness(stored, committed, len(stored), len(ids), openings)


async def open_one(desk: Desk, i: int, who: str) -> None:
    opened = await desk.open_ticket(requester(i, who), NewTicket(
        category="technical", subject=f"Postback 404 on offer {i}",
        description=DESCRIPTION, priority="high"))
    assert not opened.duplicate, i


async def openings(with_timers: Desk, without: Desk, running: Running, count: int,
                   base: int) -> tuple[Series, Series]:
    """Alternating blocks: the normal desk with the scheduler running, then the desk
    without timers with the scheduler stopped (each starting every other block)."""
    measured = {True: Series(), False: Series()}
    for phase, total in (("warm", WARMUP), ("measure", count)):
        for n, first in enumerate(range(0, total, BLOCK)):
            block = range(base + first, base + min(first + BLOCK, total))
            order = (True, False) if n % 2 == 0 else (False, True)
            for timed in order:
                if timed and running.task is None:
                    await running.start()
                if not timed and running.task is not None:
                    await running.halt()
                desk, who = (with_timers, "with") if timed else (without, "without")
                series = measured[timed] if phase == "measure" else Series()
                await run_block(lambda i, d=desk, w=who: open_one(d, i, w), block, 1, series)
        base += total
    return measured[True], measured[False]


# ---- one engine ---------------------------------------------------------------------------

@dataclass
class Result:
    engine: str
    tickets: int
    seed_seconds: float
    first_round: float
    idle_cpu: float
    idle_rounds: int
    late: Lateness
    with_timers: Series
    without: Series
    pending: int

    @property
    def ratio(self) -> float:
        return self.with_timers.rate / self.without.rate if self.without.rate else 0.0


async def bench_engine(name: str, url: str, args: argparse.Namespace,
                       console: Console) -> Result:
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        return await _bench(name, engine, args, console)
    finally:
        await engine.dispose()


async def _bench(name: str, engine: AsyncEngine, args: argparse.Namespace,
                 console: Console) -> Result:
    stores = SqlStores(engine)
    desk = TimedDesk(CONFIG, stores, [ROUTE], clock=SystemClock())
    desk.fired_done, desk.fired_signal = {}, asyncio.Event()
    scheduler = CountingScheduler(desk, stores, desk.clock)
    if engine.dialect.name == "postgresql":  # as bot.runtime.build wires it
        scheduler.lead = AdvisoryLeader(engine, on_timer=scheduler.notice)
    desk.on_timer = scheduler.notice
    running = Running(scheduler)
    console.print(f"[bold]{name}[/bold]: the desk opens {SAMPLE}, then "
                  f"{args.tickets - SAMPLE:,} seeded in batches of {SEED_BATCH}")
    for i in range(SAMPLE):
        await open_one(desk, i, "sample")
    seed_seconds = await seed(desk, args.tickets - SAMPLE, console)
    await check_seeded(desk, [SAMPLE + 1, SAMPLE + 2, args.tickets // 2, args.tickets])
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:  # what autovacuum would have done by now
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text("ANALYZE"))
    async with stores.reading() as store:
        pending = (await store.conn.execute(text(  # type: ignore[attr-defined]
            "SELECT count(*) FROM timers WHERE fired_at IS NULL"))).scalar_one()
    console.print(f"  seeded in {seed_seconds:.1f} s; {pending:,} pending timers")
    first_round = await running.start()
    cpu, rounds = await idle_cpu(running, args.idle)
    console.print(f"  idle: {cpu:.2f} % of a core over {args.idle:.0f} s, {rounds} rounds")
    late = await lateness(desk, args.window_timers, args.window, args.open_rate,
                          base=1_000_000)
    console.print(f"  lateness: {late.fired}/{late.expected} fired, "
                  f"{late.openings.rate:.0f} openings/s meanwhile")
    without = NoTimersDesk(CONFIG, stores, [ROUTE], clock=SystemClock())
    with_s, without_s = await openings(desk, without, running, args.openings, base=2_000_000)
    await running.halt()
    return Result(name, args.tickets, seed_seconds, first_round, cpu, rounds, late,
                  with_s, without_s, int(pending))


async def on_sqlite(args: argparse.Namespace, console: Console) -> Result:
    with tempfile.TemporaryDirectory(prefix="helpthread-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return await bench_engine("SQLite", url, args, console)


async def on_postgres(args: argparse.Namespace, console: Console) -> Result | None:
    try:
        admin = await asyncpg.connect(args.pg, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as err:
        console.print(f"[yellow]PostgreSQL skipped[/yellow]: no server answers at "
                      f"{args.pg}: {err}")
        return None
    await admin.close()
    async with throwaway_postgres(args.pg) as url:
        return await bench_engine("PostgreSQL", url, args, console)


# ---- report ---------------------------------------------------------------------------------

def summary(results: list[Result]) -> tuple[Table, list[str]]:
    out = Table(title="Scheduler over open tickets with timers", title_justify="left")
    for column in ("engine", "figure", "measured", "target / floor", "met"):
        out.add_column(column, justify="right" if column == "measured" else "left")
    missed: list[str] = []

    def row(engine: str, figure: str, value: str, target: str, met: bool | None) -> None:
        mark = "" if met is None else "[green]yes[/green]" if met else "[red]no[/red]"
        out.add_row(engine, figure, value, target, mark)
        if met is False:
            missed.append(f"{engine}: {figure} {value} (target {target})")

    for r in results:
        late = r.late
        ms = "{:.0f} / {:.0f} / {:.0f} ms".format
        row(r.engine, "open tickets seeded (pending timers)",
            f"{r.tickets:,} ({r.pending:,})", f"seeded in {r.seed_seconds:.0f} s", None)
        row(r.engine, "scheduler start → asleep (backfill check, round)",
            f"{r.first_round * 1000:.0f} ms", "", None)
        row(r.engine, "idle CPU, % of one core", f"{r.idle_cpu:.2f} % ({r.idle_rounds} rounds)",
            f"≤ {IDLE_TARGET:g} %", r.idle_cpu <= IDLE_TARGET)
        row(r.engine, f"timers fired of {late.expected} due over the window",
            f"{late.fired}", f"{late.expected}", late.fired == late.expected)
        row(r.engine, "lateness fired_at − due p50 / p95 / max",
            ms(*(x * 1000 for x in (pct(late.stored, 50), pct(late.stored, 95),
                                    max(late.stored, default=0)))), "", None)
        p95 = pct(late.committed, 95)
        row(r.engine, "lateness commit − due p50 / p95 / max",
            ms(*(x * 1000 for x in (pct(late.committed, 50), p95,
                                    max(late.committed, default=0)))),
            f"p95 ≤ {LATENESS_TARGET * 1000:.0f} ms", p95 <= LATENESS_TARGET)
        row(r.engine, "openings meanwhile (one caller)",
            f"{late.openings.rate:.0f}/s, p95 {late.openings.percentile(95) * 1000:.0f} ms",
            "", None)
        row(r.engine, "openings/s with timers / without",
            f"{r.with_timers.rate:.0f} / {r.without.rate:.0f}", "measured in this run", None)
        row(r.engine, "with / without", f"{r.ratio:.2f}×", f"≥ {RATIO_TARGET}×",
            r.ratio >= RATIO_TARGET)
    return out, missed


async def main(args: argparse.Namespace) -> int:
    console = Console(width=max(110, Console().width))
    results: list[Result] = []
    if args.engine in ("sqlite", "both"):
        results.append(await on_sqlite(args, console))
    if args.engine in ("postgres", "both") and (pg := await on_postgres(args, console)):
        results.append(pg)
    console.print(f"{args.tickets:,} open tickets per engine; {args.window_timers} warnings "
                  f"due over {args.window:g} s while one caller opens tickets "
                  f"({'as fast as it can' if args.open_rate <= 0 else f'{args.open_rate}/s'}); "
                  f"idle over {args.idle:g} s; {args.openings} openings each with and without "
                  f"timers, blocks of {BLOCK}; {os.cpu_count()} CPUs")
    table, missed = summary(results)
    console.print(table)
    for line in missed:
        console.print(f"[red]target missed[/red]: {line}")
    if results and not missed:
        console.print("[green]every target met[/green]")
    return 1 if missed else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.schedule", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets (100000)")
    parser.add_argument("--window-timers", type=int, default=300,
                        help="timers coming due over the window (300)")
    parser.add_argument("--window", type=float, default=25.0, help="seconds (25)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle seconds measured (10)")
    parser.add_argument("--openings", type=int, default=1000,
                        help="openings with timers and as many without (1000)")
    parser.add_argument("--open-rate", type=float, default=0.0,
                        help="openings/s during the window (0: as fast as one caller can)")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg", default=PG_ADMIN_DSN,
                        help="PostgreSQL admin DSN; the bench creates and drops its database")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 tickets, 60 timers over 10 s, 3 s idle, 200 openings")
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets, args.window_timers, args.window = 2000, 60, 10.0
        args.idle, args.openings = 3.0, 200
    if args.tickets <= SAMPLE or args.window_timers < 1 or args.openings < 1:
        parser.error(f"--tickets must be > {SAMPLE}; --window-timers, --openings ≥ 1")
    return args


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
