"""``helpthread export``: every ticket and what it owns, streamed as JSON lines or CSV
(the format: ``core.store.export_format``).

Tickets are read in batches of ``batch`` numbers — a batch's last number is found
first, by an index-only read of the next ``batch`` numbers — each batch in its own read
transaction — SQLite: deferred, taking no write lock; PostgreSQL: ``REPEATABLE READ``,
so a batch's tickets and rows agree. ``workers`` batches are read at once, each on its
own connection (the database builds the JSON, ``core.store.export_json``, so two use two
cores), and handed on as text in ticket order: memory stays flat whatever the desk's
size (at most ``workers`` batches are held), and a running desk's writers are never
held up for long. For a move, stop the desk first:
tickets changed while the export runs are exported as they were when their batch was
read.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.store.engine import READING
from core.store.export_format import (
    CSV_COLUMNS,
    FORMAT_VERSION,
    TICKETS,
    SensitiveFields,
    csv_row,
    desk_tables,
    dumps,
    exported_columns,
    owned_tables,
    table_named,
)
from core.store.export_json import (
    owned_json,
    stripped_fields,
    ticket_lines_sql,
    tickets_json,
)
from core.store.failures import unavailable

T = table_named(TICKETS)
E = table_named("events")
NEXT_NUMBER_POSTGRES = text(
    "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM ticket_numbers")
NEXT_NUMBER_SQLITE = text("SELECT value + 1 FROM counters WHERE name = 'ticket'")


@dataclass(frozen=True)
class ExportOptions:
    """``format``: ``jsonl`` (everything, to import again) or ``csv`` (one row per
    ticket, ``CSV_COLUMNS``); ``since``: only tickets opened at or after it (UTC);
    ``hide``: strip these sensitive fields (None: keep them); ``batch``: tickets per read
    transaction; ``workers``: batches read at once, each on its own connection;
    ``exported_at`` (UTC) goes into the header."""

    exported_at: datetime
    format: Literal["jsonl", "csv"] = "jsonl"
    since: datetime | None = None
    hide: SensitiveFields | None = None
    batch: int = 1000
    workers: int = 2


@dataclass(frozen=True)
class Chunk:
    """Text to write as is, and how many tickets it finished (for a progress bar)."""

    text: str
    tickets: int = 0


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One read transaction (see the module's note). Raises ``core.errors.Unavailable``
    when the database fails."""
    options: dict[str, Any] = {READING: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    async with unavailable("an export"), engine.connect() as conn:
        await conn.execution_options(**options)
        async with conn.begin():
            yield conn


def _since(statement: Any, since: datetime | None) -> Any:
    return statement if since is None else statement.where(T.c.opened_at >= since)


async def count_tickets(engine: AsyncEngine, since: datetime | None = None) -> int:
    """How many tickets an export with ``since`` (UTC) would write."""
    async with reading(engine) as conn:
        return int((await conn.execute(
            _since(select(func.count()).select_from(T), since))).scalar_one())


async def next_number(conn: AsyncConnection) -> int:
    """The number the next new ticket would take."""
    taking = NEXT_NUMBER_POSTGRES if conn.dialect.name == "postgresql" else NEXT_NUMBER_SQLITE
    found = (await conn.execute(taking)).scalar()
    return int(found) if found is not None else 1


async def revision(conn: AsyncConnection) -> str | None:
    """The database's migration (Alembic revision), None before the first."""
    found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    return str(found) if found is not None else None


async def _tickets(conn: AsyncConnection, after: int, high: int, options: ExportOptions
                   ) -> list[dict[str, Any]]:
    """The batch's ``tickets`` rows as dicts (CSV)."""
    return [dict(r) for r in (await conn.execute(
        _since(select(*exported_columns(T)), options.since)
        .where(T.c.number > after, T.c.number <= high).order_by(T.c.number))).mappings()]


def _hidden(row: str, category: str, hide: SensitiveFields) -> str:
    """``row`` (a ticket as JSON) without its sensitive fields; parsed only when one of
    their keys appears in it."""
    keys = hide.keys(category)
    if not keys or not any(f'"{key}"' in row for key in keys):
        return row
    ticket = json.loads(row)
    hide.strip(ticket)
    return dumps(ticket)


async def _lines(conn: AsyncConnection, after: int, high: int, options: ExportOptions,
                 whole: str | None) -> tuple[str, int]:
    """The batch's tickets as JSON lines: (text, tickets); the database writes each
    row's JSON (``core.store.export_json``). PostgreSQL: each whole line, by the SQL
    ``whole`` (``ticket_lines_sql``) run on the driver itself, so Python only joins the
    lines; SQLite (``whole`` None): each row and array, joined here."""
    if whole is not None:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        args: tuple[Any, ...] = (after, high)
        if options.since is not None:
            args += (options.since,)
        # One statement: it reads one snapshot whatever the transaction around it.
        lines = [row[0] for row in await driver.fetch(whole, *args)]
        return ("\n".join(lines) + "\n" if lines else ""), len(lines)
    dialect = conn.dialect.name
    tickets = (await conn.execute(
        tickets_json(T, dialect, after, high, options.since))).all()
    if not tickets:
        return "", 0
    arrays = {part.table.name: {int(n): rows for n, rows in (await conn.execute(
        owned_json(part, dialect, after, high))).all()} for part in owned_tables()}
    lines = []
    for number, category, row in tickets:
        if options.hide is not None:
            row = _hidden(row, category, options.hide)
        parts = ['{"ticket":', row]
        for name, found in arrays.items():
            parts += [',"', name, '":', found.get(number, "[]")]
        parts.append("}\n")
        lines.append("".join(parts))
    return "".join(lines), len(tickets)


async def _boundary(engine: AsyncEngine, after: int, options: ExportOptions) -> int | None:
    """The last number of the batch after ``after``: the ``batch``-th exported ticket
    above it, or the last one; None when none is left."""
    numbers = (_since(select(T.c.number), options.since).where(T.c.number > after)
               .order_by(T.c.number).limit(options.batch).subquery())
    async with reading(engine) as conn:
        found = (await conn.execute(select(func.max(numbers.c.number)))).scalar()
    return None if found is None else int(found)


async def _batch(engine: AsyncEngine, after: int, high: int, options: ExportOptions,
                 whole: str | None) -> Chunk:
    """The tickets numbered above ``after`` up to ``high`` as text, read in one
    transaction (``whole``: see ``_lines``)."""
    async with reading(engine) as conn:
        if options.format == "jsonl":
            text, count = await _lines(conn, after, high, options, whole)
            return Chunk(text, count)
        tickets = await _tickets(conn, after, high, options)
        counts = await _event_counts(conn, after, high)
    if options.hide is not None:
        for ticket in tickets:
            options.hide.strip(ticket)
    return Chunk(_csv_text(csv_row(t, counts.get(t["number"], {})) for t in tickets),
                 len(tickets))


async def _batches(engine: AsyncEngine, options: ExportOptions) -> AsyncIterator[Chunk]:
    """Every batch in ticket order, ``options.workers`` of them read at once."""
    whole = None
    if engine.dialect.name == "postgresql" and options.format == "jsonl":
        hidden = None if options.hide is None else stripped_fields(T, options.hide)
        whole = ticket_lines_sql(engine.dialect, T, owned_tables(), hidden,
                                 options.since is not None)
    pending: deque[asyncio.Task[Chunk]] = deque()
    after: int | None = 0
    try:
        while True:
            while after is not None and len(pending) < max(1, options.workers):
                high = await _boundary(engine, after, options)
                if high is not None:
                    pending.append(asyncio.ensure_future(
                        _batch(engine, after, high, options, whole)))
                after = high
            if not pending:
                return
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _event_counts(conn: AsyncConnection, after: int, high: int
                        ) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = await conn.execute(
        select(E.c.ticket_number, E.c.kind, func.count())
        .where(E.c.ticket_number > after, E.c.ticket_number <= high)
        .group_by(E.c.ticket_number, E.c.kind))
    for number, kind, count in rows:
        counts[int(number)][str(kind)] = int(count)
    return counts


async def export_chunks(engine: AsyncEngine, options: ExportOptions) -> AsyncIterator[Chunk]:
    """The export as text chunks, one per batch of tickets (JSON lines: header first,
    closing line last; CSV: header row first). Raises ``core.errors.Unavailable`` when
    the database fails."""
    jsonl = options.format == "jsonl"
    if jsonl:
        async with reading(engine) as conn:
            header = {"helpthread_export": FORMAT_VERSION, "revision": await revision(conn),
                      "exported_at": options.exported_at, "since": options.since,
                      "sensitive": options.hide is None}
        yield Chunk(dumps(header) + "\n")
    else:
        yield Chunk(_csv_text([list(CSV_COLUMNS)]))
    written = 0
    async for chunk in _batches(engine, options):
        if chunk.tickets:
            yield chunk
            written += chunk.tickets
    if not jsonl:
        return
    if options.since is None:
        async for chunk in _desk_rows(engine, options.batch):
            yield chunk
    async with reading(engine) as conn:
        end = {"tickets": written, "next_number": await next_number(conn)}
    yield Chunk(dumps({"end": end}) + "\n")


async def _desk_rows(engine: AsyncEngine, batch: int) -> AsyncIterator[Chunk]:
    """Rows of the tables no ticket owns, ``{"table": NAME, "rows": […]}`` lines of
    ``batch`` rows."""
    for table in desk_tables():
        statement = select(*exported_columns(table)).order_by(*table.primary_key.columns)
        async for chunk in _streamed(engine, table, statement, batch):
            yield chunk


async def _streamed(engine: AsyncEngine, table: Table, statement: Any,
                    batch: int) -> AsyncIterator[Chunk]:
    async with reading(engine) as conn:
        result = await conn.stream(statement)
        async for part in result.mappings().partitions(batch):
            yield Chunk(dumps({"table": table.name, "rows": [dict(r) for r in part]}) + "\n")


def _csv_text(rows: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
