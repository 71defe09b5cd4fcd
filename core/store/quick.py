"""The pre-checks' reads on a SQLite file, on the event loop at once
(``SqlStores.quick_read``; the connection: ``engine.quick_reader``).

A pre-check comes before a first answer (``/ticket new``'s form opens only after the
per-user limits are read, PRODUCT.md §8), so its cost is paid on every form while the
person waits. Through SQLAlchemy the limits read took about 200 µs of the loop: 90 µs
to check a pooled connection out and in, 50 µs to build the statement's cache key,
50 µs of execution bookkeeping — for a query SQLite answers in 6 µs. Here the one
connection stays open and the limits read runs as SQL on the driver's connection; the
ticket read keeps SQLAlchemy's row types (it is rarer: a control's form).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite

from core.identity import UserRef
from core.store.engine import QuickReader
from core.store.failures import is_outage, outage
from core.store.port import QuickReads, RequesterLoad
from core.store.tables import UtcDateTime
from core.tickets import ACTIVE, Ticket

_ACTIVE = ", ".join(f"'{status.value}'" for status in sorted(ACTIVE, key=lambda s: s.value))
# ``sql.REQUESTER_LOAD`` for SQLite, written out (tests/contract compares the two).
REQUESTER_LOAD_SQL = (
    f"SELECT (SELECT count(*) FROM tickets WHERE requester_key = ?1 AND status IN ({_ACTIVE})),"
    " (SELECT count(*) FROM tickets WHERE requester_key = ?1 AND opened_at >= ?2),"
    " (SELECT number FROM tickets WHERE requester_key = ?1 AND opened_at >= ?3"
    " AND subject = ?4 AND description = ?5 ORDER BY number DESC LIMIT 1)"
)
# The stored form of a datetime ("2026-01-01 00:00:00.000000"): the column type's own
# conversion for SQLite, not a copy of it.
_SQLITE = sqlite.dialect()
_PROCESSOR = UtcDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)
assert _PROCESSOR is not None  # SQLite stores a datetime as text
_STORED: Callable[[datetime], Any] = _PROCESSOR


def stored(value: datetime) -> Any:
    """``value`` (aware) as SQLite's column holds it."""
    return _STORED(value)


class QuickStore:
    """The reads a pre-check makes (``port.QuickReads``) on ``reader``'s connection for
    this thread, as an async context manager (``SqlStores.quick_read``); each statement
    is its own snapshot and never waits for a writer (WAL). ``full``: the SQLAlchemy
    store on a connection, for the ticket read. A failing database raises
    ``Unavailable`` (``failures``), as a transaction does."""

    def __init__(self, reader: QuickReader,
                 full: Callable[[Connection], QuickReads]) -> None:
        self._reader = reader
        self._full = full
        self._conn: Connection | None = None

    async def __aenter__(self) -> QuickStore:
        try:
            self._conn = self._reader.connection()
        except Exception as err:
            if is_outage(err):
                raise outage(err, "a quick read") from err
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, err: BaseException | None,
                        _tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and conn.in_transaction():  # SQLAlchemy's mark: the driver
            conn.rollback()  # autocommits, so this ends nothing but the mark
        if err is not None and is_outage(err):
            raise outage(err, "a quick read") from err

    async def requester_load(self, requester: UserRef, opened_since: datetime, subject: str,
                             description: str, duplicate_since: datetime) -> RequesterLoad:
        assert self._conn is not None, "read inside ``async with``"
        driver = self._conn.connection.driver_connection
        assert driver is not None  # an open connection has one
        row = driver.execute(REQUESTER_LOAD_SQL, (
            requester.key, stored(opened_since), stored(duplicate_since), subject,
            description)).fetchone()
        return RequesterLoad(int(row[0]), int(row[1]), row[2])

    async def get_ticket(self, number: int) -> Ticket | None:
        assert self._conn is not None, "read inside ``async with``"
        return await self._full(self._conn).get_ticket(number)
