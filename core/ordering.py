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
from collections.abc import AsyncIterator, Hashable


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
