"""Export and import throughput and memory (issue 12, benchmark: export ≥ 20,000 tickets/s
with flat memory; import rate).

For each size (default 5,000 and 20,000 tickets) and engine: a generated desk
(``tests.support.exports``: six events, six deliveries, two threads, a read mark and a
timer per ticket) is imported (tickets/s), then exported twice — in this process to a
null sink (tickets/s of ``export_chunks`` alone), and as the real ``helpthread export
--out /dev/null`` process, whose peak RSS (``wait4``) shows whether memory stays flat as
the desk grows.

    python -m bench.export [--tickets 5000,20000] [--engine sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from core.store.engine import make_engine
from core.store.export_sql import ExportOptions, export_chunks
from core.store.import_sql import import_lines
from core.store.migrate import upgrade_async
from tests.support.exports import generated_export

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
HELPTHREAD = str(Path(sys.executable).with_name("helpthread"))
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class Result:
    engine: str
    tickets: int
    import_rate: float
    export_rate: float
    cli_seconds: float
    cli_rss_mb: float


@asynccontextmanager
async def _database(engine: str, admin_dsn: str) -> AsyncIterator[str]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="helpthread-bench-") as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"helpthread_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


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
    async with _database(engine, admin_dsn) as url:
        await upgrade_async(url)
        db = make_engine(url)
        try:
            began = time.perf_counter()
            await import_lines(db, generated_export(tickets, START))
            import_rate = tickets / (time.perf_counter() - began)
            began, written = time.perf_counter(), 0
            async for chunk in export_chunks(db, ExportOptions(exported_at=START)):
                written += chunk.tickets
            export_rate = written / (time.perf_counter() - began)
        finally:
            await db.dispose()
        seconds, rss = _cli_export(url)
    return Result("SQLite" if engine == "sqlite" else "PostgreSQL", tickets, import_rate,
                  export_rate, seconds, rss)


def report(results: list[Result]) -> Table:
    out = Table(title="Export and import (generated desk: 6 events, 6 deliveries, 2 threads, "
                "1 read mark, 1 timer a ticket)")
    for column in ("engine", "tickets", "import tickets/s", "export tickets/s",
                   "helpthread export s", "its peak RSS MB"):
        out.add_column(column, justify="left" if column == "engine" else "right")
    for r in results:
        out.add_row(r.engine, f"{r.tickets:,}", f"{r.import_rate:,.0f}",
                    f"{r.export_rate:,.0f}", f"{r.cli_seconds:.2f}", f"{r.cli_rss_mb:.0f}")
    return out


async def main_async(args: argparse.Namespace) -> None:
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    results = [await measure(engine, int(n), args.pg)
               for engine in engines for n in args.tickets.split(",")]
    Console().print(report(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--tickets", default="5000,20000", help="sizes, comma-separated")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg", default=PG_ADMIN_DSN, help="PostgreSQL admin DSN")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
