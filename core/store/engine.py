"""Building the async engine for a database URL (SQLite file with WAL, or PostgreSQL).

SQLite transactions that may write start with ``BEGIN IMMEDIATE``: a writer takes the
write lock at the start, so two writers queue on ``busy_timeout`` instead of failing on
a lock upgrade, and ticket numbers stay unique across processes. Reads (a connection
with the ``READING`` execution option) begin deferred: in WAL mode they take no lock
and never wait for a writer, nor make one wait.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
READING = "helpthread_reading"  # execution option: this transaction only reads


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An ``AsyncEngine`` for ``url`` (``sqlite+aiosqlite:///file.db`` or
    ``postgresql+asyncpg://…``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        return create_async_engine(url, **kwargs)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        # The wait first: switching a fresh file to WAL needs it to itself for a moment,
        # and another process may be starting on it at the same time.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # SQLite's own lower() folds ASCII only; search must find "Überweisung" from
        # "überweisung" as PostgreSQL does.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READING, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine
