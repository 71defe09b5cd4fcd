"""How fast the desk writes, next to raw INSERTs of the same rows (issue 2, "Benchmark").

    .venv/bin/python -m bench.core [--tickets N] [--comments N] [--engine sqlite|postgres|both]
                                   [--concurrency K] [--pg DSN]

For each engine, on a fresh database (a temporary SQLite file in WAL mode; a
PostgreSQL database created for the run and dropped after it), in the same run:

- **open**: ``Desk.open_ticket`` by a new requester each time (limits, duplicate check,
  number from the counter, ticket, two bindings, the ``opened`` event and its three
  deliveries) against raw ``INSERT``s, as plain SQL text, of the same rows: the ticket,
  its two bindings, the event and the three deliveries, one transaction per ticket.
- **comment**: ``Desk.comment`` by the requester (ticket locked, updated, the event and
  its two deliveries) against raw ``INSERT``s of the event and its two deliveries, one
  transaction per comment.

Desk and raw calls run in alternating blocks so both see the same table sizes and the
same background load. Calls are sequential (one at a time: the main figure); with
``--concurrency K`` (default 8, 0 for none) a second table runs K callers at once.
Targets: calls one at a time, the desk reaches at least half the raw rate (ratio ≥ 0.5);
openings by K callers at once on PostgreSQL too (ticket numbers come from a sequence
taken after every check, so no lock is held until commit). The exit status is 1 when
a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import throwaway_postgres
from core.config import DeskConfig
from core.desk import Desk, NewTicket
from core.identity import Actor, UserRef
from core.platforms import AgentRule
from core.routing import PlatformRoute
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores

TARGET = 0.5
AT_ONCE_TARGET = 0.5  # PostgreSQL openings, --concurrency callers at once
CONFIG = DeskConfig(agents={"shell": AgentRule(groups=frozenset({"agents"}), workspace="local")})
BLOCK = 25  # calls per alternating desk/raw block
WARMUP = 20  # calls of each kind before measuring (statement caches, connections)
RAW_NUMBERS_FROM = 10_000_000  # raw tickets take numbers far above the desk's
PG_ADMIN_DSN = os.environ.get("HELPTHREAD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ROUTE = PlatformRoute(platform="shell", workspace="local", support_channel="ticket",
                      default_team_channel="team")
DESCRIPTION = ("Since yesterday the postback for offer 881 returns 404 and the dashboard "
               "shows no conversions for the campaign; the tracking link is unchanged.")
COMMENT = "Still nothing in the report this morning; the click ids are attached."

Call = Callable[[int], Awaitable[None]]


# ---- measuring ---------------------------------------------------------------

@dataclass
class Series:
    """Latencies (seconds) of one kind of call and the wall time spent making them."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_block(call: Call, indexes: range, concurrency: int, series: Series) -> None:
    """``call(i)`` for every ``i``: one at a time, or ``concurrency`` callers at once."""
    pending = iter(indexes)

    async def caller() -> None:
        for i in pending:
            start = time.perf_counter()
            await call(i)
            series.latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(max(1, concurrency))))
    series.wall += time.perf_counter() - start


async def compare(desk_call: Call, raw_call: Call, first: int, count: int,
                  concurrency: int) -> tuple[Series, Series]:
    """Desk and raw in alternating blocks (each starting every other block)."""
    desk, raw = Series(), Series()
    for n, block_start in enumerate(range(first, first + count, BLOCK)):
        block = range(block_start, min(block_start + BLOCK, first + count))
        pair = [(desk_call, desk), (raw_call, raw)]
        for call, series in pair if n % 2 == 0 else reversed(pair):
            await run_block(call, block, concurrency, series)
    return desk, raw


# ---- the two writers -----------------------------------------------------------

def requester(i: int, who: str = "desk") -> Actor:
    return Actor(UserRef("shell", "local", f"{who}-user-{i}"), f"User {i}")


class DeskWriter:
    """The real desk over the SQL store."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.desk = Desk(CONFIG, SqlStores(engine), [ROUTE])
        self.numbers: dict[int, int] = {}

    async def open(self, i: int) -> None:
        opened = await self.desk.open_ticket(requester(i), NewTicket(
            category="technical", subject=f"Postback 404 on offer {i}",
            description=DESCRIPTION, priority="high"))
        assert not opened.duplicate, (i, opened.ticket.number, opened.ticket.subject)
        self.numbers[i] = opened.ticket.number

    async def comment(self, i: int) -> None:
        owner = i % len(self.numbers)
        await self.desk.comment(requester(owner), self.numbers[owner], f"{COMMENT} ({i})")


TICKET_COLUMNS = (
    "number, subject, description, category, priority, status, visibility, requester_key, "
    "requester_org, requester_name, assignee_key, assignee_name, account, fields, watchers, "
    "watcher_keys, links, source, locale, escalation_level, opened_at, first_response_at, "
    "resolved_at, closed_at, last_activity_at, first_response_due, resolution_due, resolution"
)
EVENT_COLUMNS = ("ticket_number, kind, actor_key, actor_name, at, platform, audience, data, "
                 "body, request_key, origin_binding_id")
DELIVERY_COLUMNS = ("ticket_number, event_id, platform, target, audience, binding_id, address, "
                    "purpose, state, attempts, next_attempt_at, leased_until, last_error, "
                    "created_at, delivered_at")


def _params(columns: str, suffix: str = "") -> str:
    return ", ".join(f":{c.strip()}{suffix}" for c in columns.split(","))


INSERT_TICKET = text(f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({_params(TICKET_COLUMNS)})")
INSERT_BINDINGS = text(
    "INSERT INTO bindings (ticket_number, platform, workspace, audience, channel, "
    "reaches_requester, in_requester_dm, thread, card_message) VALUES "
    "(:n, 'shell', 'local', 'public', 'ticket', :yes, :no, NULL, NULL), "
    "(:n, 'shell', 'local', 'internal', 'team', :no, :no, NULL, NULL) RETURNING id")
INSERT_EVENT = text(
    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({_params(EVENT_COLUMNS)}) RETURNING id")


def insert_deliveries(rows: int) -> Any:
    values = ", ".join(f"({_params(DELIVERY_COLUMNS, f'_{r}')})" for r in range(rows))
    return text(f"INSERT INTO deliveries ({DELIVERY_COLUMNS}) VALUES {values}")


class RawWriter:
    """The same rows as plain SQL text, one transaction per ticket or comment."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.bindings: dict[int, tuple[int, int]] = {}  # i -> (public id, internal id)
        self.open_deliveries = insert_deliveries(3)
        self.comment_deliveries = insert_deliveries(2)

    def when(self, at: datetime) -> Any:
        """A UTC time as the dialect stores it (SQLite: naive ISO text, as SQLAlchemy)."""
        return at.replace(tzinfo=None).isoformat(" ") if self.sqlite else at

    def delivery(self, r: int, number: int, event_id: int, binding_id: int | None,
                 audience: str, purpose: str, at: datetime, address: str | None = None,
                 ) -> dict[str, Any]:
        target = "binding" if binding_id is not None else "dm"
        row = {"ticket_number": number, "event_id": event_id, "platform": "shell",
               "target": target, "audience": audience, "binding_id": binding_id,
               "address": address, "purpose": purpose, "state": "pending", "attempts": 0,
               "next_attempt_at": None, "leased_until": None, "last_error": None,
               "created_at": self.when(at), "delivered_at": None}
        return {f"{k}_{r}": v for k, v in row.items()}

    def event(self, number: int, kind: str, who: Actor, at: datetime,
              data: dict[str, Any]) -> dict[str, Any]:
        return {"ticket_number": number, "kind": kind, "actor_key": who.ref.key,
                "actor_name": who.name, "at": self.when(at), "platform": "shell",
                "audience": "public", "data": json.dumps(data), "body": data.get("text"),
                "request_key": None, "origin_binding_id": None}

    async def open(self, i: int) -> None:
        number = RAW_NUMBERS_FROM + i
        who = requester(i, "raw")
        now = datetime.now(UTC)
        ticket = {
            "number": number, "subject": f"Postback 404 on offer {i}", "description": DESCRIPTION,
            "category": "technical", "priority": "high", "status": "open",
            "visibility": "private", "requester_key": who.ref.key, "requester_org": who.ref.org,
            "requester_name": who.name, "assignee_key": None, "assignee_name": None,
            "account": None, "fields": "{}", "watchers": "[]", "watcher_keys": "|",
            "links": "[]", "source": "shell", "locale": None, "escalation_level": 0,
            "opened_at": self.when(now), "first_response_at": None, "resolved_at": None,
            "closed_at": None, "last_activity_at": self.when(now),
            "first_response_due": self.when(now), "resolution_due": self.when(now),
            "resolution": None,
        }
        async with self.engine.begin() as conn:
            await conn.execute(INSERT_TICKET, ticket)
            ids = (await conn.execute(
                INSERT_BINDINGS, {"n": number, "yes": True, "no": False})).scalars().all()
            public, internal = sorted(ids)
            event_id = (await conn.execute(
                INSERT_EVENT, self.event(number, "opened", who, now, {}))).scalar_one()
            await conn.execute(self.open_deliveries, {
                **self.delivery(0, number, event_id, public, "public", "card", now),
                **self.delivery(1, number, event_id, internal, "internal", "card", now),
                **self.delivery(2, number, event_id, None, "public", "receipt", now,
                                address=who.ref.key),
            })
        self.bindings[i] = (public, internal)

    async def comment(self, i: int) -> None:
        owner = i % len(self.bindings)
        number = RAW_NUMBERS_FROM + owner
        public, internal = self.bindings[owner]
        now = datetime.now(UTC)
        data = {"text": f"{COMMENT} ({i})"}
        async with self.engine.begin() as conn:
            event_id = (await conn.execute(
                INSERT_EVENT, self.event(number, "commented", requester(owner, "raw"), now, data),
            )).scalar_one()
            await conn.execute(self.comment_deliveries, {
                **self.delivery(0, number, event_id, public, "public", "thread", now),
                **self.delivery(1, number, event_id, internal, "internal", "thread", now),
            })


# ---- one engine ----------------------------------------------------------------

@dataclass
class Result:
    engine: str
    operation: str
    mode: str
    desk: Series
    raw: Series

    @property
    def ratio(self) -> float:
        return self.desk.rate / self.raw.rate if self.raw.rate else 0.0


async def bench_engine(name: str, url: str, tickets: int, comments: int,
                       concurrency: int) -> list[Result]:
    await upgrade_async(url)
    engine = make_engine(url)
    results: list[Result] = []
    try:
        desk, raw = DeskWriter(engine), RawWriter(engine)
        modes = [("sequential", 1, 0)]
        if concurrency > 1:
            modes.append((f"{concurrency} at once", concurrency, WARMUP + tickets))
        for mode, callers, offset in modes:
            await compare(desk.open, raw.open, offset, WARMUP, callers)  # warm-up
            start = offset + WARMUP
            d, r = await compare(desk.open, raw.open, start, tickets, callers)
            results.append(Result(name, "open", mode, d, r))
            await compare(desk.comment, raw.comment, 0, WARMUP, callers)
            d, r = await compare(desk.comment, raw.comment, WARMUP, comments, callers)
            results.append(Result(name, "comment", mode, d, r))
    finally:
        await engine.dispose()
    return results


async def on_sqlite(tickets: int, comments: int, concurrency: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="helpthread-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return await bench_engine("SQLite", url, tickets, comments, concurrency)


async def on_postgres(admin_dsn: str, tickets: int, comments: int,
                      concurrency: int) -> list[Result]:
    async with throwaway_postgres(admin_dsn) as url:
        return await bench_engine("PostgreSQL", url, tickets, comments, concurrency)


# ---- report ----------------------------------------------------------------------

def table(results: list[Result], mode: str) -> Table:
    out = Table(title=f"Desk vs raw INSERTs, {mode} (calls/s; latency per call in ms)",
                title_justify="left")
    for column in ("engine", "call", "desk/s", "raw/s", "desk/raw", "desk p50", "desk p99",
                   "raw p50", "raw p99", f"≥ {TARGET}×"):
        out.add_column(column, justify="left" if column in ("engine", "call") else "right",
                       no_wrap=True)
    for res in results:
        if res.mode != mode:
            continue
        met = res.ratio >= TARGET
        out.add_row(
            res.engine, res.operation, f"{res.desk.rate:,.0f}", f"{res.raw.rate:,.0f}",
            f"{res.ratio:.2f}",
            f"{res.desk.percentile(50) * 1000:.2f}", f"{res.desk.percentile(99) * 1000:.2f}",
            f"{res.raw.percentile(50) * 1000:.2f}", f"{res.raw.percentile(99) * 1000:.2f}",
            "[green]yes[/green]" if met else "[red]no[/red]",
        )
    return out


async def main(args: argparse.Namespace) -> int:
    console = Console(width=max(110, Console().width))
    results: list[Result] = []
    if args.engine in ("sqlite", "both"):
        results += await on_sqlite(args.tickets, args.comments, args.concurrency)
    if args.engine in ("postgres", "both"):
        results += await on_postgres(args.pg, args.tickets, args.comments, args.concurrency)
    console.print(f"{args.tickets} tickets and {args.comments} comments per engine and mode "
                  f"(SQLite: a file in WAL mode); {os.cpu_count()} CPUs")
    for mode in dict.fromkeys(r.mode for r in results):
        console.print(table(results, mode))
    sequential = [r for r in results if r.mode == "sequential"]
    missed = [r for r in sequential if r.ratio < TARGET]
    for r in missed:
        console.print(f"[red]target missed[/red]: {r.engine} {r.operation} (sequential) "
                      f"desk/raw = {r.ratio:.2f} < {TARGET}")
    if not missed:
        console.print(f"[green]target met[/green]: calls one at a time, the desk reaches "
                      f"≥ {TARGET}× the raw rate on every engine")
    # Issue 10, point 10: openings by several callers at once on PostgreSQL, where the
    # number comes from a sequence taken last (SQLite serialises its writers anyway).
    for r in results:
        if r.mode != "sequential" and r.operation == "open" and r.engine == "PostgreSQL":
            met = r.ratio >= AT_ONCE_TARGET
            console.print(f"{'[green]target met[/green]' if met else '[red]target missed[/red]'}"
                          f": PostgreSQL opening, {r.mode}: desk/raw = {r.ratio:.2f} "
                          f"(floor {AT_ONCE_TARGET}; raw {r.raw.rate:,.0f}/s measured in "
                          "this run)")
            if not met:
                missed.append(r)
    return 1 if missed else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=500, help="tickets per mode (500)")
    parser.add_argument("--comments", type=int, help="comments per mode (as many as tickets)")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="callers at once for the second table (8; 0 or 1 for none)")
    parser.add_argument("--pg", default=PG_ADMIN_DSN,
                        help="PostgreSQL admin DSN; the bench creates and drops its database")
    args = parser.parse_args(argv)
    if args.comments is None:
        args.comments = args.tickets
    if args.tickets < 1 or args.comments < 0:
        parser.error("--tickets must be ≥ 1 and --comments ≥ 0")
    return args


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))

