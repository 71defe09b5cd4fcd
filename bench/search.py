"""How fast ``/ticket search`` answers, next to the raw full-text query (issue 12).

    .venv/bin/python -m bench.search [--tickets 100000] [--engine sqlite|postgres|both]
                                     [--repeat 30] [--pg DSN]
                                     [--sqlite-file PATH] [--pg-database NAME]

A generator writes realistic tickets straight into a migrated database in bulk
(``COPY`` / ``executemany`` in chunks, the index's triggers off meanwhile), then fills
the search index in one statement as migration 0007 does: several categories, a
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
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
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
from core.store.search_language import POSTGRES_FILL, SQLITE_FILL
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
HELPTHREAD = str(Path(sys.executable).with_name("helpthread"))
CHUNK = 20_000  # generated rows per executemany / COPY


def vocabulary(size: int = 20000) -> tuple[list[str], list[float]]:
    """Words and their cumulative weights (``random.choices(cum_weights=…)``: given plain
    weights it would add up all 20,000 for every ticket)."""
    rng = random.Random(7)
    words = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(3, 9)))
             for _ in range(size)]
    return words, list(itertools.accumulate(1 / (rank + 1) for rank in range(size)))


def tickets(n: int) -> Iterator[tuple[Any, ...]]:
    """Rows for ``tickets``: lena's are every 500th, one in 40 shared in her org."""
    rng = random.Random(11)
    words, weights = vocabulary()
    for number in range(1, n + 1):
        body = rng.choices(words, cum_weights=weights, k=45)
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
        yield (number, subject, " ".join(body[6:]), rng.choice(CATEGORIES), "normal",
               "open", shared, f"shell:local:{requester}", "shell:local", requester,
               "{}", watchers, "|", "[]", "shell", 0, at, at, at)


def comments(n: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(13)
    words, weights = vocabulary()
    for number in range(3, n + 1, 3):
        yield (number, "commented", None, None, T0, "shell", "public", "{}",
               " ".join(rng.choices(words, cum_weights=weights, k=20)))


def chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(itertools.islice(rows, CHUNK)):
        yield chunk


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    took = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.95))]


async def fill_sqlite(path: Path, n: int) -> None:
    """Bulk load: the index's triggers are dropped while the rows go in (one transaction,
    ``executemany`` per chunk), the index is filled in one statement as migration 0007
    fills it, and the triggers are created again."""
    import sqlite3
    db = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                              ).fetchall()
        db.execute("BEGIN")
        for name, _ in triggers:
            db.execute(f'DROP TRIGGER "{name}"')
        marks = ",".join("?" * len(COLUMNS))
        for chunk in chunks(tickets(n)):
            db.executemany(f"INSERT INTO tickets({','.join(COLUMNS)}) VALUES ({marks})",
                           [(*r[:16], *(t.replace(tzinfo=None) for t in r[16:]))
                            for r in chunk])
        for chunk in chunks(comments(n)):
            db.executemany("INSERT INTO events(ticket_number, kind, actor_key, actor_name, "
                           "at, platform, audience, data, body) VALUES (?,?,?,?,?,?,?,?,?)",
                           [(*r[:4], r[4].replace(tzinfo=None), *r[5:]) for r in chunk])
        db.execute("DELETE FROM ticket_search")
        db.execute(SQLITE_FILL)
        db.execute("INSERT INTO watchers(ticket_number, watcher_key) SELECT DISTINCT "
                   "t.number, json_extract(w.value, '$[0]') FROM tickets t, "
                   "json_each(t.watchers) w")
        for _, sql in triggers:
            db.execute(sql)
        db.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (n,))
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()


async def fill_postgres(dsn: str, n: int) -> None:
    """Bulk load: ``COPY`` with triggers off (``session_replication_role``), then the index
    filled in one statement as migration 0007 fills it, its GIN indexes built after."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET session_replication_role = replica")
        for chunk in chunks(tickets(n)):
            await conn.copy_records_to_table("tickets", records=[
                (*r[:10], "{}", r[11], "|", "[]", *r[14:]) for r in chunk],
                columns=list(COLUMNS))
        for chunk in chunks(comments(n)):
            await conn.copy_records_to_table("events", records=chunk, columns=[
                "ticket_number", "kind", "actor_key", "actor_name", "at", "platform",
                "audience", "data", "body"])
        await conn.execute("SET session_replication_role = origin")
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await conn.execute("DROP INDEX ix_ticket_search_public, ix_ticket_search_agent")
        await conn.execute(POSTGRES_FILL)
        await conn.execute(
            "INSERT INTO watchers(ticket_number, watcher_key) SELECT DISTINCT t.number, "
            "w ->> 0 FROM tickets t, json_array_elements(t.watchers) w")
        await conn.execute("CREATE INDEX ix_ticket_search_public ON ticket_search "
                           "USING gin (public_doc)")
        await conn.execute("CREATE INDEX ix_ticket_search_agent ON ticket_search "
                           "USING gin (agent_doc)")
        await conn.execute("SELECT setval('ticket_numbers', $1)", n)
        await conn.execute("VACUUM ANALYZE")
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


def run_rss(url: str) -> tuple[float, float]:
    """``helpthread run`` (the shell platform, ``/healthz`` on a free port) on ``url``:
    started, asked for ``/healthz``, given a broad search, a list and a ticket to show on
    stdin; then its RSS and peak RSS (``VmRSS``, ``VmHWM``) in MB."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPTHREAD_")}
    env.update(HELPTHREAD_DATABASE_URL=url, HELPTHREAD_PORT=str(port),
               HELPTHREAD_HOST="127.0.0.1")
    with tempfile.TemporaryDirectory() as cwd:  # no helpthread.toml of this checkout
        child = subprocess.Popen([HELPTHREAD, "run"], env=env, cwd=cwd,
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=5) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    if child.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("helpthread run did not start: " + (
                            child.stderr.read().decode() if child.stderr else "")) from None
                    time.sleep(0.5)
            assert child.stdin is not None
            child.stdin.write(b"/ticket search printer\n/ticket list all\n/ticket show 1\n")
            child.stdin.flush()
            time.sleep(5)
            status = Path(f"/proc/{child.pid}/status").read_text()
            found = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            return (int(found["VmRSS"].split()[0]) / 1024,
                    int(found["VmHWM"].split()[0]) / 1024)
        finally:
            if child.stdin:
                child.stdin.close()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


async def stored_tickets(url: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one())
    finally:
        await engine.dispose()


async def prepared(url: str, fill: Callable[[], Awaitable[None]], name: str,
                   n: int) -> None:
    """``url`` migrated and holding the generated desk: filled unless it already holds
    tickets (a kept database, ``--sqlite-file``/``--pg-database``)."""
    await upgrade_async(url)
    stored = await stored_tickets(url)
    if stored:
        print(f"{name}: {stored} tickets already stored; not filled again")
        return
    start = time.perf_counter()
    await fill()
    print(f"{name}: {n} tickets written and indexed in {time.perf_counter() - start:.0f} s")


async def main(args: argparse.Namespace) -> None:
    results: list[tuple[str, ...]] = []
    rss: list[tuple[str, float, float, float, float]] = []
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="helpthread-search-") as tmp:
            path = Path(args.sqlite_file or Path(tmp) / "bench.db")
            url = f"sqlite+aiosqlite:///{path}"
            await prepared(url, lambda: fill_sqlite(path, args.tickets), "SQLite",
                           args.tickets)
            results += await measure("SQLite", url, args.repeat)
            if args.rss:
                empty = Path(tmp) / "empty.db"
                await upgrade_async(f"sqlite+aiosqlite:///{empty}")
                rss.append(("SQLite", *run_rss(url), *run_rss(f"sqlite+aiosqlite:///{empty}")))
    if args.engine in ("postgres", "both"):
        name = args.pg_database or f"helpthread_bench_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(args.pg)
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        base = args.pg.rsplit("/", 1)[0]
        try:
            url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://")
            await prepared(url, lambda: fill_postgres(f"{base}/{name}", args.tickets),
                           "PostgreSQL", args.tickets)
            results += await measure("PostgreSQL", url, args.repeat)
            if args.rss:
                rss.append(("PostgreSQL", *run_rss(url), *await empty_postgres_rss(args.pg)))
        finally:
            if not args.pg_database:
                admin = await asyncpg.connect(args.pg)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()
    print("| engine | query | as | hits | p50 ms | p95 ms | raw p50 ms | raw p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for row in results:
        print("| " + " | ".join(row) + " |")
    if rss:
        print(f"\n`helpthread run` RSS / peak MB with {args.tickets:,} tickets stored, next to "
              "the same on an empty database:\n")
        print("| engine | RSS | peak | empty: RSS | empty: peak |\n|---|---|---|---|---|")
        for engine_name, *mb in rss:
            print(f"| {engine_name} | " + " | ".join(f"{m:.0f}" for m in mb) + " |")


async def empty_postgres_rss(admin_dsn: str) -> tuple[float, float]:
    name = f"helpthread_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        url = f"{admin_dsn.rsplit('/', 1)[0]}/{name}".replace(
            "postgresql://", "postgresql+asyncpg://")
        await upgrade_async(url)
        return run_rss(url)
    finally:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pg", default=PG_ADMIN_DSN)
    parser.add_argument("--rss", action="store_true", help="also the RSS of `helpthread "
                        "run` on the desk, next to the same on an empty database")
    parser.add_argument("--sqlite-file", help="keep the SQLite desk in this file (filled "
                        "once: a later run measures it again)")
    parser.add_argument("--pg-database", help="keep the PostgreSQL desk in this database "
                        "(created and filled once)")
    asyncio.run(main(parser.parse_args()))
