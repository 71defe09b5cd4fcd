"""How fast ``/ticket search`` answers, next to the raw full-text query (issue 12).

    .venv/bin/python -m bench.search [--tickets 100000] [--engine sqlite|postgres|both]
                                     [--repeat 30] [--pg DSN]

A generator writes realistic tickets straight into a migrated database (the triggers
of migration 0007 index them as the desk's writes would): several categories, a
vocabulary with a long tail (Zipf-like), one ticket in six holding the broad word
``printer``, a third of them with a comment. Then, as an agent and as a requester
(her own tickets, one watched, her org's shared ones), the p50/p95 latency of
``Store.search_tickets`` for selective queries (a rare word, a phrase, a number) and a
broad one, next to the raw query on the same data in the same run: the engine's
full-text match of the same words, its 50 best by rank (FTS5 ``ORDER BY rank``;
``ts_rank``), unfiltered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from core.identity import UserRef
from core.search import parse
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.port import TicketQuery
from core.store.sql import SqlStores
from tests.support.people import desk_config

PG_ADMIN_DSN = os.environ.get("HELPTHREAD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
CATEGORIES = ("general", "account", "technical", "data", "billing", "refund")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LENA = UserRef("shell", "local", "lena")
AGENT = UserRef("shell", "local", "sam")
QUERIES = {"rare word": "zymurgy", "phrase": '"invoice overdue"', "number": "77123",
           "broad word": "printer"}
RAW = {"zymurgy": ("zymurgy", "zymurgy"), "\"invoice overdue\"": (
    '"invoice overdue"', "invoice <-> overdue"), "77123": ("77123", "77123"),
    "printer": ("printer", "printer")}
COLUMNS = ("number", "subject", "description", "category", "priority", "status",
           "visibility", "requester_key", "requester_org", "requester_name", "fields",
           "watchers", "watcher_keys", "links", "source", "escalation_level", "opened_at",
           "last_activity_at", "public_activity_at")


def vocabulary(size: int = 20000) -> tuple[list[str], list[float]]:
    rng = random.Random(7)
    words = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(3, 9)))
             for _ in range(size)]
    return words, [1 / (rank + 1) for rank in range(size)]


def tickets(n: int) -> list[tuple[Any, ...]]:
    """Rows for ``tickets``: lena's are every 500th, one in 40 shared in her org."""
    rng = random.Random(11)
    words, weights = vocabulary()
    out = []
    for number in range(1, n + 1):
        body = rng.choices(words, weights, k=45)
        subject = " ".join(body[:6])
        if number % 6 == 0:
            subject += " printer"
        if number % 20000 == 7:
            body.append("zymurgy")
        if number % 3000 == 11:
            body += ["invoice", "overdue"]
        if number == n // 2:
            body.append("77123")
        requester = "lena" if number % 500 == 0 else f"u{number % 5000}"
        shared = "shared" if number % 40 == 0 else "private"
        watchers = '[["shell:local:lena", "lena"]]' if number == n // 3 else "[]"
        at = T0 + timedelta(seconds=number)
        out.append((number, subject, " ".join(body[6:]), rng.choice(CATEGORIES), "normal",
                    "open", shared, f"shell:local:{requester}", "shell:local", requester,
                    "{}", watchers, "|", "[]", "shell", 0, at, at, at))
    return out


def comments(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(13)
    words, weights = vocabulary()
    return [(number, "commented", None, None, T0, "shell", "public", "{}",
             " ".join(rng.choices(words, weights, k=20)))
            for number in range(3, n + 1, 3)]


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    took = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.95))]


async def fill_sqlite(path: Path, n: int) -> None:
    import sqlite3
    db = sqlite3.connect(path)
    marks = ",".join("?" * len(COLUMNS))
    db.executemany(f"INSERT INTO tickets({','.join(COLUMNS)}) VALUES ({marks})",
                   [(*r[:16], *(t.replace(tzinfo=None) for t in r[16:])) for r in tickets(n)])
    db.executemany("INSERT INTO events(ticket_number, kind, actor_key, actor_name, at, "
                   "platform, audience, data, body) VALUES (?,?,?,?,?,?,?,?,?)",
                   [(*r[:4], r[4].replace(tzinfo=None), *r[5:]) for r in comments(n)])
    db.commit()
    db.close()


async def fill_postgres(dsn: str, n: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = [(*r[:10], "{}", r[11], "|", "[]", *r[14:]) for r in tickets(n)]
        await conn.copy_records_to_table("tickets", records=rows, columns=list(COLUMNS))
        await conn.copy_records_to_table(
            "events", records=comments(n), columns=[
                "ticket_number", "kind", "actor_key", "actor_name", "at", "platform",
                "audience", "data", "body"])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def measure(engine_name: str, url: str, repeat: int) -> list[tuple[str, ...]]:
    engine = make_engine(url)
    stores = SqlStores(engine)
    config = desk_config()
    rows = []
    try:
        for label, q in QUERIES.items():
            fts, tsq = RAW[q]
            if engine_name == "SQLite":
                raw = text("SELECT rowid FROM ticket_search WHERE ticket_search MATCH :q "
                           "ORDER BY rank LIMIT 50").bindparams(q=fts)
            else:
                raw = text("SELECT ticket_number FROM ticket_search "
                           "WHERE agent_doc @@ to_tsquery('simple', :q) ORDER BY "
                           "ts_rank(agent_doc, to_tsquery('simple', :q)) DESC LIMIT 50"
                           ).bindparams(q=tsq)

            async def run_raw(raw: Any = raw) -> None:
                async with engine.connect() as conn:
                    (await conn.execute(raw)).all()

            raw_p50, raw_p95 = await timed(run_raw, repeat)
            for who, agent in (("agent", True), ("requester", False)):
                viewer = AGENT if agent else LENA
                query = TicketQuery(viewer=viewer, sees_internal=agent,
                                    search=parse(q, config, viewer))
                found: list[int] = []

                async def run(query: TicketQuery = query, found: list[int] = found) -> None:
                    async with stores.reading() as store:
                        found[:] = [h.ticket.number for h in await store.search_tickets(query)]

                p50, p95 = await timed(run, repeat)
                rows.append((engine_name, label, who, str(len(found)), f"{p50:.1f}",
                             f"{p95:.1f}", f"{raw_p50:.1f}", f"{raw_p95:.1f}"))
    finally:
        await engine.dispose()
    return rows


async def main(args: argparse.Namespace) -> None:
    results: list[tuple[str, ...]] = []
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="helpthread-search-") as tmp:
            path = Path(tmp) / "bench.db"
            url = f"sqlite+aiosqlite:///{path}"
            await upgrade_async(url)
            start = time.perf_counter()
            await fill_sqlite(path, args.tickets)
            print(f"SQLite: {args.tickets} tickets written and indexed in "
                  f"{time.perf_counter() - start:.0f} s")
            results += await measure("SQLite", url, args.repeat)
    if args.engine in ("postgres", "both"):
        name = f"helpthread_bench_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(args.pg)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        base = args.pg.rsplit("/", 1)[0]
        try:
            url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://")
            await upgrade_async(url)
            start = time.perf_counter()
            await fill_postgres(f"{base}/{name}", args.tickets)
            print(f"PostgreSQL: {args.tickets} tickets written and indexed in "
                  f"{time.perf_counter() - start:.0f} s")
            results += await measure("PostgreSQL", url, args.repeat)
        finally:
            admin = await asyncpg.connect(args.pg)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    print("| engine | query | as | hits | p50 ms | p95 ms | raw p50 ms | raw p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for row in results:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pg", default=PG_ADMIN_DSN)
    asyncio.run(main(parser.parse_args()))
