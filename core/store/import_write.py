"""How ``helpthread import`` writes its checked rows: straight to the driver, inside the
import's transaction. PostgreSQL: binary ``COPY`` (asyncpg's ``copy_records_to_table``);
SQLite: ``executemany`` of one prepared ``INSERT`` per table. SQLAlchemy's executemany
built a parameter dict for each row and, on PostgreSQL, multi-row ``INSERT``s the server
had to parse and plan — most of an import's time once its checks were cheap
(bench/export.py). Rows arrive as ``core.store.export_format.RowReader`` makes them:
values the driver stores as they are, keyed by column in the table's order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

# What the database answers when it refuses a row (a duplicate key, a reference to no
# row, a value out of range), from SQLAlchemy or straight from the driver.
REFUSED: tuple[type[BaseException], ...] = (
    IntegrityError, DataError, asyncpg.IntegrityConstraintViolationError,
    asyncpg.DataError, sqlite3.IntegrityError, sqlite3.DataError)


async def write_rows(conn: AsyncConnection, table: str, columns: Sequence[str],
                     rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts ``rows`` (each keyed by ``columns``, in that order) into ``table`` in the
    transaction of ``conn``. Raises one of ``REFUSED`` when the database refuses a row
    (the statement's rows are then not written; the transaction needs a rollback, to a
    savepoint at least)."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # a connection in use has its driver's
    records = [tuple(row.values()) for row in rows]
    if conn.dialect.name == "postgresql":
        await driver.copy_records_to_table(table, records=records, columns=list(columns))
        return
    quote = conn.dialect.identifier_preparer.quote
    statement = (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
                 f"VALUES ({', '.join('?' for _ in columns)})")
    cursor = await driver.executemany(statement, records)
    await cursor.close()
