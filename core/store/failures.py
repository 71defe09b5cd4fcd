"""Which database failures mean "the desk cannot reach its database right now".

``unavailable()`` wraps a transaction: a failure of the database itself (SQLite
file read-only or disk full, PostgreSQL server gone mid-session, no connection)
leaves it as ``core.errors.Unavailable``, with the cause logged, so no driver
exception reaches a front end. An ``IntegrityError`` is a broken invariant, not an
outage: it passes through unchanged (``add_event`` turns a repeated request key into
``Conflict`` itself).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.errors import Unavailable

log = logging.getLogger("helpthread.store")

# DBAPIError covers SQLAlchemy's OperationalError and InterfaceError (the wrapped driver
# errors); OSError a refused or timed-out connection (TimeoutError is one); asyncpg's
# connection errors can escape unwrapped while a pooled connection is reset or closed;
# sqlite3's own from the pre-checks' reads on the driver's connection (``quick``).
DATABASE_FAILURES: tuple[type[BaseException], ...] = (
    DBAPIError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
    sqlite3.DatabaseError)


def is_outage(err: BaseException) -> bool:
    return isinstance(err, DATABASE_FAILURES) \
        and not isinstance(err, IntegrityError | sqlite3.IntegrityError)


@asynccontextmanager
async def unavailable(doing: str) -> AsyncIterator[None]:
    """Raises ``Unavailable`` from a database failure inside the block (``doing`` names
    the work in the log line)."""
    try:
        yield
    except DATABASE_FAILURES as err:
        if not is_outage(err):
            raise
        raise outage(err, doing) from err


def outage(err: BaseException, doing: str) -> Unavailable:
    """The ``Unavailable`` to raise from ``err`` (an outage, ``is_outage``), its cause
    logged; ``doing`` names the work in the log line."""
    first = _first_failure(err)
    log.error("database unavailable during %s: %s: %s", doing, type(first).__name__,
              str(first).splitlines()[0] if str(first) else "")
    return Unavailable()


def _first_failure(err: BaseException) -> BaseException:
    """The failure that started it: a failed statement is often followed by a failed
    rollback on the same broken connection, which Python raises with the first as its
    context."""
    seen = {id(err)}
    while err.__context__ is not None and isinstance(err.__context__, DATABASE_FAILURES) \
            and id(err.__context__) not in seen:
        err = err.__context__
        seen.add(id(err))
    return err
