"""``helpthread import``: an export (``core.store.export_format``) into an empty database.

Everything is kept: ticket numbers, times, surrogate ids (events keep their order),
bindings, read marks, SLA clocks, timers, deliveries. The import is one transaction,
its rows written in batches (one ``COPY`` or prepared ``executemany`` per table and
batch, ``core.store.import_write``): a bad line leaves the database as empty as it was,
so the import can simply be run again once the file is fixed. Afterwards new tickets
continue after the highest number (PostgreSQL: the ``ticket_numbers`` sequence and every
serial id; SQLite: the ``counters`` row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.store.export_format import (
    FORMAT_VERSION,
    TICKETS,
    BadValue,
    RowReader,
    desk_tables,
    owned_tables,
    table_named,
)
from core.store.failures import unavailable
from core.store.import_checks import check_row
from core.store.import_write import REFUSED, write_rows

Rows = dict[str, list[dict[str, Any]]]


class BadExport(Exception):
    """A line of the file that cannot be imported; nothing was imported. ``str()``:
    ``line N: why``. ``foreign``: the file is no export at all (empty, or its first line
    is not an export's), not an export damaged further on."""

    def __init__(self, line: int, message: str, *, foreign: bool = False) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.foreign = line, foreign


class NotEmpty(Exception):
    """The database already holds tickets (or other rows an import would write)."""


@dataclass
class Imported:
    """What was imported: ``tickets``, ``desk_rows`` (rows no ticket owns), the next
    ticket number now, and whether sensitive fields were in the export."""

    tickets: int = 0
    desk_rows: int = 0
    next_number: int = 1
    sensitive: bool = True
    highest: int = 0


class _Readers:
    """A ``RowReader`` for every table an import writes, for ``dialect``."""

    def __init__(self, dialect: str) -> None:
        self.owned = {o.table.name: o for o in owned_tables()}
        tables = [table_named(TICKETS)] + [o.table for o in self.owned.values()] \
            + desk_tables()
        self.rows = {t.name: RowReader.of(t, dialect) for t in tables}
        self.tickets = self.rows[TICKETS]
        self.columns = {name: list(reader.decoders) for name, reader in self.rows.items()}


def _object(line: int, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise BadExport(line, f"not JSON ({err})") from None
    if not isinstance(value, dict):
        raise BadExport(line, "not a JSON object")
    return value


def _checked(readers: _Readers, table: str, row: Any) -> dict[str, Any]:
    """One exported row of ``table`` as insert values; raises ``BadValue`` for a value of
    the wrong type or one the desk could not read back (``check_row``)."""
    values = readers.rows[table].read(row)
    check_row(table, row)
    return values


def _ticket(readers: _Readers, line: dict[str, Any]) -> Rows:
    """The rows of one ticket line, checked; raises ``BadValue``."""
    ticket = readers.tickets.read(line["ticket"])
    check_row(TICKETS, line["ticket"])
    number = ticket["number"]
    rows: Rows = {TICKETS: [ticket]}
    for name, given in line.items():
        if name == "ticket":
            continue
        if name not in readers.owned:
            raise BadValue(f"no table {name!r} a ticket owns (an export from a newer "
                           "helpthread?)")
        if not isinstance(given, list):
            raise BadValue(f"{name}: not a list of rows")
        rows[name] = [_checked(readers, name, row) for row in given]
    for name, owned in readers.owned.items():  # references first: parents checked first
        for row in rows.get(name, []):
            if owned.via is None:
                if row[owned.column] != number:
                    raise BadValue(f"a {name} row of ticket #{number} names ticket "
                                   f"#{row[owned.column]}")
                continue
            parents = {r[owned.via_column] for r in rows.get(owned.via.name, [])}
            if row[owned.column] not in parents:
                raise BadValue(f"a {name} row of ticket #{number} refers to "
                               f"{owned.via.name} {row[owned.column]!r}, not one of its own")
    return rows


async def _insert(conn: AsyncConnection, batch: list[tuple[int, Rows]],
                  order: list[Table], readers: _Readers) -> None:
    for table in order:
        values = [row for _, rows in batch for row in rows.get(table.name, [])]
        if values:
            await write_rows(conn, table.name, readers.columns[table.name], values)


async def _flush(conn: AsyncConnection, batch: list[tuple[int, Rows]],
                 order: list[Table], readers: _Readers) -> None:
    """Inserts ``batch``; a row the database refuses is found and named by its line."""
    if not batch:
        return
    try:
        async with conn.begin_nested():
            await _insert(conn, batch, order, readers)
        return
    except REFUSED:
        pass
    for line, rows in batch:
        try:
            async with conn.begin_nested():
                await _insert(conn, [(line, rows)], order, readers)
        except REFUSED as err:
            reason = str(getattr(err, "orig", err)).strip().splitlines()
            raise BadExport(line, f"the database refused it: {reason[0] if reason else err}"
                            ) from err
    raise AssertionError("a batch the database refused was accepted line by line")


async def refuse_non_empty(conn: AsyncConnection) -> None:
    """Raises ``NotEmpty`` when any table an import writes holds a row."""
    tables = [table_named(TICKETS)] + [o.table for o in owned_tables()] + desk_tables()
    for table in tables:
        if (await conn.execute(select(1).select_from(table).limit(1))).first() is None:
            continue
        if table.name == TICKETS:
            low, high, count = (await conn.execute(select(
                func.min(table.c.number), func.max(table.c.number), func.count()))).one()
            raise NotEmpty(f"the database already holds {count} ticket"
                           f"{'' if count == 1 else 's'} (#{low}-#{high})")
        raise NotEmpty(f"the database already holds rows in {table.name}")


async def import_lines(engine: AsyncEngine, lines: Iterable[str], *, batch: int = 500,
                       progress: Callable[[int], None] | None = None) -> Imported:
    """Imports the export whose lines ``lines`` yields into the empty database of
    ``engine`` (migrated to head), in one transaction. ``progress`` is called with the
    tickets imported so far after each batch. Raises ``NotEmpty``, ``BadExport`` (nothing
    imported) and ``core.errors.Unavailable`` when the database fails."""
    readers = _Readers(engine.dialect.name)
    order = [table_named(TICKETS)] + [o.table for o in readers.owned.values()]
    done = Imported()
    async with unavailable("an import"), engine.begin() as conn:
        await refuse_non_empty(conn)
        pending: list[tuple[int, Rows]] = []
        end: dict[str, Any] | None = None
        number = 0
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            if number == 1:
                done.sensitive = read_header(raw)
                continue
            line = _object(number, raw)
            if end is not None:
                raise BadExport(number, "comes after the closing line")
            try:
                if "ticket" in line:
                    rows = _ticket(readers, line)
                    if rows[TICKETS][0]["number"] <= done.highest:
                        raise BadValue(f"ticket #{rows[TICKETS][0]['number']} comes after "
                                       f"#{done.highest}: an export lists each ticket "
                                       "once, in ascending order")
                    done.highest = rows[TICKETS][0]["number"]
                    pending.append((number, rows))
                    done.tickets += 1
                elif "table" in line:
                    await _flush(conn, pending, order, readers)
                    pending = []
                    done.desk_rows += await _desk_line(conn, readers, number, line)
                elif "end" in line:
                    end = _end(line)
                else:
                    raise BadValue("neither a ticket, rows of a table nor the closing line")
            except BadValue as err:
                raise BadExport(number, str(err)) from None
            if len(pending) >= batch:
                await _flush(conn, pending, order, readers)
                pending = []
                if progress:
                    progress(done.tickets)
        if number == 0:
            raise empty()
        if end is None:
            raise BadExport(number, "the export ends without its closing line (cut short?)")
        if end["tickets"] != done.tickets:
            raise BadExport(number, f"the closing line counts {end['tickets']} tickets; "
                            f"the file holds {done.tickets}")
        await _flush(conn, pending, order, readers)
        if progress:
            progress(done.tickets)
        done.next_number = max(done.highest + 1, end["next_number"])
        await _advance(conn, done.next_number)
    return done


def empty() -> BadExport:
    """The refusal of a file with no line at all."""
    return BadExport(1, "the file is empty: not a helpthread export", foreign=True)


def read_header(raw: str) -> bool:
    """Checks ``raw``, an export's first line, before anything is written (a caller may
    check it before it opens a database); returns whether the export holds the sensitive
    fields. Raises ``BadExport`` (``foreign`` when it is no export's first line)."""
    try:
        line = json.loads(raw)
    except ValueError:
        raise BadExport(1, "not a helpthread export (its first line is not JSON)",
                        foreign=True) from None
    version = line.get("helpthread_export") if isinstance(line, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadExport(1, "not a helpthread export (its first line names the format)",
                        foreign=True)
    if version > FORMAT_VERSION:
        raise BadExport(1, f"export format {version} is newer than this helpthread's "
                        f"({FORMAT_VERSION}); import it with the version that wrote it")
    return line.get("sensitive") is not False


def _end(line: dict[str, Any]) -> dict[str, Any]:
    end = line["end"]
    if not isinstance(end, dict) or not all(
            isinstance(end.get(k), int) and not isinstance(end.get(k), bool) and end[k] >= 0
            for k in ("tickets", "next_number")):
        raise BadValue("the closing line needs whole numbers 'tickets' and 'next_number'")
    return end


async def _desk_line(conn: AsyncConnection, readers: _Readers, number: int,
                     line: dict[str, Any]) -> int:
    name, given = line["table"], line.get("rows")
    if name not in readers.rows or name in readers.owned or not isinstance(given, list):
        raise BadValue(f"{name!r} is not a table of rows no ticket owns, or its rows are "
                       "not a list")
    rows = [_checked(readers, name, row) for row in given]
    if rows:
        await _flush(conn, [(number, {name: rows})], [table_named(name)], readers)
    return len(rows)


async def _advance(conn: AsyncConnection, next_number: int) -> None:
    """New tickets take ``next_number`` on; PostgreSQL's serial ids go on after the
    highest imported (SQLite's rowids do by themselves)."""
    if conn.dialect.name != "postgresql":
        await conn.execute(update(table_named("counters"))
                           .where(table_named("counters").c.name == "ticket")
                           .values(value=next_number - 1))
        return
    await conn.execute(text("SELECT setval('ticket_numbers', :n, false)"), {"n": next_number})
    for table in [o.table for o in owned_tables()] + desk_tables():
        column = table.autoincrement_column
        if column is None:
            continue
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
            f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false) "
            f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"))
