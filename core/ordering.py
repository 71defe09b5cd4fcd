"""One key's work at a time, in the order it asked (a thread's messages: PRODUCT.md §5).

Shared by the platforms that store a thread's messages as they arrive: each message
takes its thread's turn before its first ``await``, so a thread's messages are stored
in the order the platform dispatched them while other threads go on side by side.
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
