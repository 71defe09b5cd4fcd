"""Which process fires timers on a shared PostgreSQL database (``core.schedule.Leadership``).

The leader holds a session-level advisory lock on a connection of its own, kept
in autocommit so no transaction stays open; when the process dies its
connection closes, the lock is free, and the next follower to try takes it
(followers try every ``core.schedule.FOLLOW_EVERY`` seconds). The same
connection LISTENs for timers other processes' commits set
(``core.store.timers_sql.TIMERS_CHANNEL``), so the leader wakes for them too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.store.timers_sql import TIMERS_CHANNEL

log = logging.getLogger(__name__)

LOCK_KEY = 0x48_54_53_43  # "HTSC": helpthread scheduler, one key per database


class AdvisoryLeader:
    """``Leadership`` by ``pg_try_advisory_lock(LOCK_KEY)``; ``on_timer(due)`` is told the
    due time (UTC) of each timer NOTIFYed while this process leads."""

    def __init__(self, engine: AsyncEngine,
                 on_timer: Callable[[datetime], None] = lambda due: None) -> None:
        self.engine = engine
        self.on_timer = on_timer
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the server or the connection went away: the lock with it
                log.warning("scheduler lost its database connection; leading no more")
                await self._drop()
                return False
        conn = await self.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                      {"key": LOCK_KEY})).scalar()
            if not got:
                await conn.close()
                return False
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # asyncpg.Connection
            await driver.add_listener(TIMERS_CHANNEL, self._notified)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        log.info("this process now fires timers (scheduler leader)")
        return True

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            due = datetime.fromisoformat(payload)
        except ValueError:
            return
        self.on_timer(due)

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        except Exception:  # closing the connection frees it as well
            pass
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                await conn.invalidate()
