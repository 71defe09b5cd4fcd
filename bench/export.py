"""Export and import throughput and memory (issue 12, benchmark: export ≥ 20,000 tickets/s
with flat memory; import rate).

For each size (default 5,000 and 20,000 tickets) and engine: a generated desk
(``tests.support.exports``: six events, six deliveries, two threads, a read mark and a
timer per ticket) is imported (tickets/s), then exported twice — in this process to a
null sink (tickets/s of ``export_chunks`` alone), and as the real ``helpthread export
--out /dev/null`` process, whose peak RSS (``wait4``) shows whether memory stays flat as
the desk grows.

    python -m bench.export [--tickets 5000,20000] [--engine sqlite|postgres|both]
    python -m bench.export --url sqlite+aiosqlite:///desk.db [--url postgresql+asyncpg://…]

Next to each export rate, its floor in the same run: the same tables' rows read as
plain tuples, no JSON (``raw_rate``). ``--url`` measures a desk already stored instead
(no import), such as ``bench.search``'s million-ticket desks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import throwaway
from core.store.engine import make_engine
from core.store.export_format import TICKETS, owned_tables, table_named
from core.store.export_sql import ExportOptions, export_chunks
from core.store.import_sql import import_lines
from core.store.migrate import upgrade_async
from tests.support.exports import generated_export

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
HELPTHREAD = str(Path(sys.executable).with_name("helpthread"))
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T = table_named(TICKETS)


@dataclass
class Result:
    engine: str
    tickets: int
    import_rate: float | None
    export_rate: float
    raw_rate: float
    cli_seconds: float
    cli_rss_mb: float


async def raw_rate(db: AsyncEngine) -> float:
    """The floor: tickets/s of reading every exported row of the same tables as plain
    tuples (no JSON, no Python types), 1,000 tickets' rows at a time, one connection."""
    tables = [T.name] + [o.table.name for o in owned_tables() if o.via is None]
    began, read = time.perf_counter(), 0
    async with db.connect() as conn:
        high = (await conn.execute(text("SELECT max(number) FROM tickets"))).scalar() or 0
        for low in range(0, high, 1000):
            for name in tables:
                key = "number" if name == T.name else "ticket_number"
                rows = (await conn.execute(text(
                    f"SELECT * FROM {name} WHERE {key} > :low AND {key} <= :high"),
                    {"low": low, "high": low + 1000})).all()
                if name == T.name:
                    read += len(rows)
    return read / (time.perf_counter() - began)


def _cli_export(url: str) -> tuple[float, float]:
    """``helpthread export --out /dev/null``: seconds and peak RSS in MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPTHREAD_")}
    env["HELPTHREAD_DATABASE_URL"] = url
    began = time.perf_counter()
    child = subprocess.Popen([HELPTHREAD, "export", "--out", "/dev/null"], env=env,
                             stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"helpthread export failed: {child.stderr.read().decode()}"
                         if child.stderr else "helpthread export failed")
    return seconds, usage.ru_maxrss / 1024


async def measure(engine: str, tickets: int, admin_dsn: str) -> Result:
    async with throwaway(engine, admin_dsn) as url:
        await upgrade_async(url)
        db = make_engine(url)
        try:
            began = time.perf_counter()
            await import_lines(db, generated_export(tickets, START))
            import_rate = tickets / (time.perf_counter() - began)
        finally:
            await db.dispose()
        return replace(await measure_stored(url), import_rate=import_rate)


async def measure_stored(url: str) -> Result:
    """Export rate (in this process, to a null sink), its floor (``raw_rate``) and the
    ``helpthread export`` process's time and peak RSS, on the desk already at ``url``."""
    db = make_engine(url)
    try:
        began, written = time.perf_counter(), 0
        async for chunk in export_chunks(db, ExportOptions(exported_at=START)):
            written += chunk.tickets
        export_rate = written / (time.perf_counter() - began)
        floor = await raw_rate(db)
    finally:
        await db.dispose()
    seconds, rss = _cli_export(url)
    return Result("PostgreSQL" if db.dialect.name == "postgresql" else "SQLite", written,
                  None, export_rate, floor, seconds, rss)


def report(results: list[Result]) -> Table:
    out = Table(title="Export and import (generated desk: 6 events, 6 deliveries, 2 threads, "
                "1 read mark, 1 timer a ticket)")
    for column in ("engine", "tickets", "import tickets/s", "export tickets/s",
                   "raw read tickets/s (floor)", "helpthread export s", "its peak RSS MB"):
        out.add_column(column, justify="left" if column == "engine" else "right")
    for r in results:
        imported = "-" if r.import_rate is None else f"{r.import_rate:,.0f}"
        out.add_row(r.engine, f"{r.tickets:,}", imported, f"{r.export_rate:,.0f}",
                    f"{r.raw_rate:,.0f}", f"{r.cli_seconds:.2f}", f"{r.cli_rss_mb:.0f}")
    return out


async def main_async(args: argparse.Namespace) -> None:
    if args.url:
        results = [await measure_stored(url) for url in args.url]
        Console(width=150).print(report(results))
        return
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    results = [await measure(engine, int(n), args.pg)
               for engine in engines for n in args.tickets.split(",")]
    Console(width=150).print(report(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--tickets", default="5000,20000", help="sizes, comma-separated")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg", default=PG_ADMIN_DSN, help="PostgreSQL admin DSN")
    parser.add_argument("--url", action="append", help="measure the export of the desk "
                        "already at this database URL (no import; e.g. bench.search's "
                        "kept million-ticket desks); repeatable")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
