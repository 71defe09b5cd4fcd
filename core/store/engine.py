"""Building the async engine for a database URL (SQLite file with WAL, or PostgreSQL).

SQLite transactions that may write start with ``BEGIN IMMEDIATE``: a writer takes the
write lock at the start, so two writers queue on ``busy_timeout`` instead of failing on
a lock upgrade, and ticket numbers stay unique across processes. Reads (a connection
with the ``READING`` execution option) begin deferred: in WAL mode they take no lock
and never wait for a writer, nor make one wait.

``quick_reader`` gives a SQLite file a second, synchronous engine for the few small
indexed reads that come before a first answer (the pre-checks before a form opens):
run on the event loop itself they take about 0.1 ms and no turn of the loop, where the
same read through aiosqlite's thread takes some 20 turns, each behind whatever else is
ready. A WAL reader never waits for a writer; its busy wait is short all the same
(``QUICK_BUSY_TIMEOUT_MS``), since the loop waits with it.

A serving process may give aiosqlite's connection threads a lower CPU priority
(``thread_nice``): the event loop answers platforms within their deadlines (Discord's
3 seconds) and everything a connection thread does is awaited by work that can wait.
On one CPU, without it, an interaction read while a thread runs SQLite waited about
1 ms for the CPU under ``bench/discord.py``; at nice 10, 0.2–0.7 ms (a thread that woke
from SQLite's C code still shared the CPU with the loop); at 19, 0.04–0.05 ms. Linux's
scheduler (EEVDF, 6.6 on) still lets a running thread finish its time slice (about
1.4 ms here) before a thread that wakes takes the CPU — and the loop, woken by a
frame, then waits for it, for the GIL too. So a lowered thread also asks for the
shortest slice (``THREAD_SLICE_NS``, 6.12 on; ignored before): the loop's wake-up
lateness behind a thread reading rows went from 0.96 ms to 0.09 ms at the 90th
percentile, 1.2 to 0.16 ms at the 99th (one CPU, measured), as with ``SCHED_IDLE`` but
keeping nice 19's share of the CPU.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
import weakref
from contextlib import suppress
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.store.url_options import typed_options

SQLITE_BUSY_TIMEOUT_MS = 30_000
QUICK_BUSY_TIMEOUT_MS = 250  # a quick read blocks the loop: it waits this long at most
READING = "helpthread_reading"  # execution option: this transaction only reads
THREAD_SLICE_NS = 100_000  # a lowered thread's time slice: Linux's shortest (0.1 ms)
# sched_setattr(2)'s number where it is known (Linux); elsewhere a lowered thread keeps
# its slice
_SCHED_SETATTR = ({"x86_64": 314, "aarch64": 274}.get(platform.machine())
                  if sys.platform.startswith("linux") else None)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, *, thread_nice: int = 0, **kwargs: Any) -> AsyncEngine:
    """An ``AsyncEngine`` for ``url`` (``sqlite+aiosqlite:///file.db`` or
    ``postgresql+asyncpg://…``). ``thread_nice``: on Linux, how much lower the CPU
    priority of each SQLite connection's thread is than the process's (``nice``
    steps; see the module). Raises ``BadOption`` for a query option the driver cannot
    take (``check_database_url`` refuses those first)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # asyncpg takes the URL's query as text; give it numbers and flags as such
        # (raises BadOption for a URL check_database_url would have refused).
        url, options = asyncpg_arguments(url)
        kwargs["connect_args"] = {**options, **kwargs.get("connect_args", {})}
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
        _functions(dbapi_connection)
        if thread_nice and sys.platform.startswith("linux"):
            # a function SQLite calls runs on the connection's own thread
            dbapi_connection.create_function("helpthread_lower_priority", 0,
                                              lambda: _lower_this_thread(thread_nice))
            cursor.execute("SELECT helpthread_lower_priority()")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READING, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


def asyncpg_arguments(url: str) -> tuple[str, dict[str, Any]]:
    """A PostgreSQL ``url`` without its query, and the query as asyncpg's ``connect()``
    arguments (``connect_args``): asyncpg takes the URL's text as it is, so ``timeout=5``
    would reach it as ``"5"``. Raises ``BadOption`` for an option it cannot take."""
    parsed = make_url(url)
    options = typed_options("postgresql", parsed.query)
    return parsed.set(query={}).render_as_string(hide_password=False), options


def _lower_this_thread(steps: int) -> int:
    """Lower the calling thread's CPU priority by ``steps`` nice values (Linux: a thread
    id names one thread) and ask for the shortest time slice (``_short_slice``); 1 when
    done, 0 when the system refused (left as it was)."""
    tid = threading.get_native_id()
    try:
        nice = min(os.getpriority(os.PRIO_PROCESS, tid) + steps, 19)
        if not _short_slice(tid, nice):
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:
        return 0
    return 1


class _SchedAttr(ctypes.Structure):
    """``struct sched_attr`` as sched_setattr(2) first defined it (48 bytes)."""

    _fields_ = [("size", ctypes.c_uint32), ("sched_policy", ctypes.c_uint32),
                ("sched_flags", ctypes.c_uint64), ("sched_nice", ctypes.c_int32),
                ("sched_priority", ctypes.c_uint32), ("sched_runtime", ctypes.c_uint64),
                ("sched_deadline", ctypes.c_uint64), ("sched_period", ctypes.c_uint64)]


def _short_slice(tid: int, nice: int) -> bool:
    """Thread ``tid``, under the ordinary policy: ``nice``, with a time slice of
    ``THREAD_SLICE_NS`` (sched_setattr(2); a kernel before 6.12 takes the nice value
    and ignores the slice). False where the call is unknown or refused, or the thread
    runs under another policy (batch, idle, real-time: it keeps it): nothing changed."""
    if _SCHED_SETATTR is None or os.sched_getscheduler(tid) != os.SCHED_OTHER:
        return False
    attr = _SchedAttr(size=ctypes.sizeof(_SchedAttr), sched_policy=os.SCHED_OTHER,
                      sched_nice=nice, sched_runtime=THREAD_SLICE_NS)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.syscall(_SCHED_SETATTR, tid, ctypes.byref(attr), 0)) == 0
    except (OSError, AttributeError):
        return False


def _functions(dbapi_connection: Any) -> None:
    # SQLite's own lower() folds ASCII only; search must find "Überweisung" from
    # "überweisung" as PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


class QuickReader:
    """A SQLite file's quick reader (``quick_reader``): its synchronous ``engine`` and
    ``connection()``, the one connection kept open per thread that reads (the event
    loop's) — a checkout from the pool and back cost more than the read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.local = threading.local()
        self.kept: list[Connection] = []
        self.lock = threading.Lock()

    def connection(self) -> Connection:
        """This thread's connection; one that broke or was closed is replaced."""
        conn: Connection | None = getattr(self.local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self.local.conn = conn
            with self.lock:
                self.kept = [kept for kept in self.kept if not kept.closed] + [conn]
        return conn

    def dispose(self) -> None:
        with self.lock:
            kept, self.kept = self.kept, []
        for conn in kept:
            with suppress(Exception):  # a connection that broke is gone already
                conn.close()
        self.engine.dispose()


_QUICK: weakref.WeakKeyDictionary[Any, QuickReader] = weakref.WeakKeyDictionary()


def quick_reader(engine: AsyncEngine) -> QuickReader | None:
    """The quick reader (a synchronous pysqlite engine) on ``engine``'s SQLite file,
    made on first use and disposed with ``engine``; None for any other database (and for
    an in-memory SQLite database, which a second connection would not see). Its
    connections run each statement on its own (autocommit): one statement is one
    consistent snapshot, and no transaction is left open between reads."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") \
            or url.query.get("mode") == "memory":
        return None
    found = _QUICK.get(engine.sync_engine)
    if found is not None:
        return found
    sync = create_engine(url.set(drivername="sqlite"), pool_size=2, max_overflow=4)

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit: no BEGIN, no open snapshot
        dbapi_connection.execute(f"PRAGMA busy_timeout={QUICK_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA query_only=ON")  # a quick read never writes
        _functions(dbapi_connection)

    quick = QuickReader(sync)

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _on_disposed(_engine: Any) -> None:
        quick.dispose()

    _QUICK[engine.sync_engine] = quick
    return quick
