"""A thread's messages stored in the platform's order (PRODUCT.md §5; issue 10, point 1).

Shared by the platforms that store a thread's messages as they arrive: each message
takes its thread's turn (``InOrder``) before its first ``await``, so a thread's
messages are stored in the order the platform dispatched them while other threads go
on side by side; and what a thread got while no process listened is read first
(``Backlog``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable

log = logging.getLogger("helpthread.inbound")


class InOrder:
    """Work for one key (a thread) runs one at a time, in the order it asked; several
    keys are served at once. ``asyncio.Lock`` wakes its waiters first come, first
    served. A key nobody holds or waits for is forgotten."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # nobody else waits: forget the key
            else:
                self._locks[key] = (lock, users - 1)


class Backlog:
    """Threads whose backlog (what was written while no process listened) is being read.

    A live message of such a thread is newer than its backlog: ``settled`` lets it wait
    (bounded) until the thread is caught up, so it is stored after the backlog. Until
    ``expect`` has named the threads (the start-up query), every thread counts as
    pending. A message that could not wait is still stored, but must not move its
    thread's catch-up cursor past a backlog not yet read (``core.inbound.Receipt``
    without an ``order``).
    """

    def __init__(self) -> None:
        self._named = asyncio.Event()
        self._named.set()  # no catch-up has begun: nothing to wait for
        self._pending: dict[Hashable, asyncio.Event] = {}

    def restart(self) -> None:
        """A new catch-up begins: every thread is pending until ``expect`` names them."""
        self._named.clear()
        for waiting in self._pending.values():
            waiting.set()
        self._pending = {}

    def expect(self, threads: list[Hashable]) -> None:
        """The threads the running catch-up will read; every other thread is settled."""
        self._pending = {key: asyncio.Event() for key in threads}
        self._named.set()

    def done(self, thread: Hashable) -> None:
        waiting = self._pending.pop(thread, None)
        if waiting is not None:
            waiting.set()

    def finish(self) -> None:
        """The catch-up ended (or gave up): nothing is pending any more."""
        for waiting in self._pending.values():
            waiting.set()
        self._pending = {}
        self._named.set()

    async def settled(self, thread: Hashable, wait: float) -> bool:
        """Whether ``thread`` has no backlog left to read, waiting at most ``wait``
        seconds for it."""
        try:
            async with asyncio.timeout(wait):
                await self._named.wait()
                waiting = self._pending.get(thread)
                if waiting is not None:
                    await waiting.wait()
        except TimeoutError:
            return False
        return True


CATCH_UP_DELAYS = (2.0, 5.0, 10.0, 30.0, 60.0, 120.0)  # seconds between catch-up tries


class CatchUpRunner:
    """A platform's catch-up after downtime (issue 10, point 2), one run at a time in
    the background: ``read()`` stores what the threads got while no process listened
    and returns ``(threads, messages stored)``. A failure of the kinds in ``failures``
    (the platform or the database unreachable) is tried again after each of
    ``CATCH_UP_DELAYS``; meanwhile live messages are not kept waiting (``backlog``).
    Logged as ``<platform>.caught_up`` / ``.catch_up.failed`` / ``.catch_up.gave_up``."""

    def __init__(self, platform: str, read: Callable[[], Awaitable[tuple[int, int]]],
                 failures: tuple[type[BaseException], ...], backlog: Backlog,
                 delays: tuple[float, ...] = CATCH_UP_DELAYS) -> None:
        self.platform, self.read, self.failures = platform, read, failures
        self.backlog, self.delays = backlog, delays
        self._task: asyncio.Task[int] | None = None
        self._backing_off = False

    def start(self, *, at_once: bool = False) -> None:
        """Begin a catch-up unless one runs; ``at_once``: one waiting to try again is
        started over now (the desk answers again after messages were missed)."""
        running = self._task is not None and not self._task.done()
        if running and at_once and self._backing_off:
            assert self._task is not None
            self._task.cancel()
            running = False
        if not running:
            self.backlog.restart()  # at once: no live message may move a cursor before it
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def done(self) -> int:
        """Wait for the running catch-up; returns the messages it stored."""
        while self._task is not None:
            task = self._task
            try:
                return await task
            except asyncio.CancelledError:
                if task is self._task:  # cancelled from outside: none follows
                    raise
        return 0

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> int:
        name = self.platform
        for attempt, delay in enumerate((0.0, *self.delays)):
            self._backing_off = True
            try:
                await asyncio.sleep(delay)
            finally:
                self._backing_off = False
            self.backlog.restart()
            try:
                threads, stored = await self.read()
            except self.failures as err:
                log.warning("%s.catch_up.failed attempt=%s: %s", name, attempt + 1,
                            f"{type(err).__name__}: {err}"[:200])
                continue
            finally:
                self.backlog.finish()  # live messages are not kept waiting
            # "nothing missed" is not news on every start (and a start's errors stay one line)
            (log.info if stored else log.debug)("%s.caught_up threads=%s messages=%s",
                                                name, threads, stored)
            return stored
        log.error("%s.catch_up.gave_up: messages written while down may be missing", name)
        return 0
