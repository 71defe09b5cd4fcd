"""The scheduler: fires stored timers as ``System`` through the command path (PRODUCT.md §7).

It sleeps until the next pending timer is due or a commit sets an earlier one
(``notice``; on PostgreSQL other processes' commits arrive by NOTIFY through the
``Leadership``), fires what is due, oldest first, and sleeps again — no fixed
poll. Each timer runs in its own transaction that also marks it fired
(``DeskBase.fire``), so a crash between two leaves the rest pending and a
restart fires each once. Where several processes share a database only the
one holding the ``Leadership`` fires; the others try to take it every
``FOLLOW_EVERY`` seconds, so a dead leader is replaced within a few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from core.changes import DeskBase
from core.clock import Clock
from core.store.port import StoreFactory

log = logging.getLogger(__name__)

FOLLOW_EVERY = 1.0  # seconds between a follower's tries to lead
IDLE_MAX = 300.0  # seconds: the longest sleep with nothing due (a safety net, not a poll)
BATCH = 200  # timers read per round
BACKFILL_BATCH = 500


class Leadership(Protocol):
    """Who fires timers when several processes share a database."""

    async def acquire(self) -> bool:
        """True while this process leads: takes the lead if free, keeps it if held."""
        ...

    async def release(self) -> None: ...


class SoleLeader:
    """One process per database (SQLite): it always leads. Firing stays exactly-once
    even if two did — each timer is marked fired in the transaction that runs it."""

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class Scheduler:
    """Fires ``desk``'s due timers. ``run(stop)`` until ``stop`` is set; ``run_once()`` is
    one round (tests move a fake ``clock`` and call it). ``notice(due)`` is for the desk's
    ``on_timer`` hook: a commit set a timer due at ``due`` (UTC)."""

    def __init__(self, desk: DeskBase, stores: StoreFactory, clock: Clock,
                 lead: Leadership | None = None,
                 after_firing: Callable[[], Awaitable[None]] | None = None) -> None:
        self.desk = desk
        self.stores = stores
        self.clock = clock
        self.lead = lead or SoleLeader()
        self.after_firing = after_firing  # e.g. the shell prints what fired at once
        self.fired = 0  # timers that did something, since start
        self._wake = asyncio.Event()
        self._sleeping_until: datetime | None = None
        self._backfilled = False

    def notice(self, due: datetime) -> None:
        """Wake early if ``due`` comes before the time the scheduler sleeps until."""
        if self._sleeping_until is None or due < self._sleeping_until:
            self._wake.set()

    async def backfill(self) -> int:
        """Plans the timers of tickets stored before timers existed; returns how many."""
        planned = last = 0
        while True:
            async with self.stores.reading() as store:
                numbers = await store.tickets_without_timers(BACKFILL_BATCH, after=last)
            for number in numbers:
                await self.desk.replan(number)
            planned += len(numbers)
            if len(numbers) < BACKFILL_BATCH:
                return planned
            last = numbers[-1]

    async def run_once(self) -> int:
        """Fires every timer due now; returns how many did something."""
        done = 0
        while True:
            async with self.stores.reading() as store:
                due = await store.due_timers(self.clock.now(), BATCH)
            for timer in due:
                done += await self.desk.fire(timer)
            if len(due) < BATCH:
                self.fired += done
                return done

    async def _next_due(self) -> datetime | None:
        async with self.stores.reading() as store:
            return await store.next_timer_due()

    async def run(self, stop: asyncio.Event) -> None:
        """Lead (or wait to), fire, sleep until the next due timer; until ``stop``."""
        try:
            while not stop.is_set():
                if not await self.lead.acquire():
                    await _wait(stop, self._wake, FOLLOW_EVERY)
                    continue
                try:
                    if not self._backfilled:
                        self._backfilled = True
                        if planned := await self.backfill():
                            log.info("planned the timers of %d older tickets", planned)
                    if await self.run_once() and self.after_firing is not None:
                        await self.after_firing()
                    next_due = await self._next_due()
                except Exception:  # the database is away: try again shortly
                    log.exception("scheduler round failed")
                    await _wait(stop, self._wake, FOLLOW_EVERY)
                    continue
                now = self.clock.now()
                delay = IDLE_MAX if next_due is None else (next_due - now).total_seconds()
                self._sleeping_until = next_due
                if delay > 0:
                    await _wait(stop, self._wake, min(delay, IDLE_MAX))
                self._sleeping_until = None
        finally:
            await self.lead.release()


async def _wait(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Sleeps ``seconds`` or until ``stop`` or ``wake`` is set (``wake`` is then cleared)."""
    waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())}
    try:
        await asyncio.wait(waiters, timeout=max(seconds, 0.0),
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        wake.clear()
