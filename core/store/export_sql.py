"""``helpthread export``: every ticket and what it owns, streamed as JSON lines or CSV
(the format: ``core.store.export_format``).

Tickets are read in keyset-paged batches (number above the last one read, ``batch`` at
a time), each batch in its own read transaction — SQLite: deferred, taking no write
lock; PostgreSQL: ``REPEATABLE READ``, so a batch's tickets and rows agree — and handed
on as text before the next is read: memory stays flat whatever the desk's size, and a
running desk's writers are never held up for long. For a move, stop the desk first:
tickets changed while the export runs are exported as they were when their batch was
read.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
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
    Owned,
    SensitiveFields,
    csv_row,
    desk_tables,
    dumps,
    exported_columns,
    owned_tables,
    table_named,
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
    transaction; ``exported_at`` (UTC) goes into the header."""

    exported_at: datetime
    format: Literal["jsonl", "csv"] = "jsonl"
    since: datetime | None = None
    hide: SensitiveFields | None = None
    batch: int = 1000


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


def _rows_of(owned: Owned, low: int, high: int) -> Any:
    """``owned``'s rows of the tickets numbered above ``low`` up to ``high``, each with
    its ticket's number as ``_ticket``, in ticket then key order (events: id order)."""
    table = owned.table
    columns = [table.c[c.name] for c in exported_columns(table)]
    key = [c for c in table.primary_key.columns]
    if owned.via is None:
        number = table.c[owned.column]
        return (select(*columns, number.label("_ticket"))
                .where(number > low, number <= high).order_by(number, *key))
    parent = owned.via
    number = parent.c[owned.via_ticket]
    return (select(*columns, number.label("_ticket"))
            .join(parent, parent.c[owned.via_column] == table.c[owned.column])
            .where(number > low, number <= high).order_by(number, *key))


async def _batch(conn: AsyncConnection, after: int, options: ExportOptions
                 ) -> tuple[list[dict[str, Any]], dict[str, dict[int, list[dict[str, Any]]]]]:
    tickets = [dict(r) for r in (await conn.execute(
        _since(select(*exported_columns(T)), options.since)
        .where(T.c.number > after).order_by(T.c.number).limit(options.batch))).mappings()]
    owned: dict[str, dict[int, list[dict[str, Any]]]] = {}
    if not tickets or options.format != "jsonl":
        return tickets, owned
    high = tickets[-1]["number"]
    for part in owned_tables():
        groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in (await conn.execute(_rows_of(part, after, high))).mappings():
            values = dict(row)
            groups[values.pop("_ticket")].append(values)
        owned[part.table.name] = groups
    return tickets, owned


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
    after, written = 0, 0
    while True:
        async with reading(engine) as conn:
            tickets, owned = await _batch(conn, after, options)
            counts = await _event_counts(conn, after, tickets[-1]["number"]) \
                if tickets and not jsonl else {}
        if not tickets:
            break
        if options.hide is not None:
            for ticket in tickets:
                options.hide.strip(ticket)
        if jsonl:
            lines = []
            for ticket in tickets:
                number = ticket["number"]
                line = {"ticket": ticket}
                for name, groups in owned.items():
                    line[name] = groups.get(number, [])  # type: ignore[assignment]
                lines.append(dumps(line))
            lines.append("")
            yield Chunk("\n".join(lines), len(tickets))
        else:
            yield Chunk(_csv_text(csv_row(t, counts.get(t["number"], {})) for t in tickets),
                        len(tickets))
        after, written = tickets[-1]["number"], written + len(tickets)
    if not jsonl:
        return
    if options.since is None:
        async for chunk in _desk_rows(engine, options.batch):
            yield chunk
    async with reading(engine) as conn:
        end = {"tickets": written, "next_number": await next_number(conn)}
    yield Chunk(dumps({"end": end}) + "\n")


async def _desk_rows(engine: AsyncEngine, batch: int) -> AsyncIterator[Chunk]:
    """Rows no ticket owns, ``{"table": NAME, "rows": […]}`` lines of ``batch`` rows."""
    owned = {o.table.name: o for o in owned_tables()}
    for table in desk_tables():
        statement = select(*exported_columns(table)).order_by(*table.primary_key.columns)
        if table.name in owned:
            statement = statement.where(table.c[owned[table.name].column].is_(None))
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
