"""Acknowledgements first: Slack waits at most 3 seconds for each one.

Work that nobody is waiting on — delivering cards and thread messages — gives way
while requests are being
acknowledged: it starts once no request has been in dispatch for ``SETTLE``
seconds, or after ``MAX_DEFER`` seconds at the latest, so a steady stream of
requests slows it but never stops it. At most ``BULK_CONCURRENCY`` such listener
tasks run at once.

``SETTLE``: under a burst the count of requests in dispatch touches zero for an
instant between two requests (the load's own gaps); work released then — opening a
ticket is tens of milliseconds of SQLite and Web API calls on this one loop and its
database thread — delays every acknowledgement still to come in that burst.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

MAX_DEFER = 1.0  # seconds background work waits at most for a quiet moment
SETTLE = 0.025  # seconds without any request in dispatch that make a quiet moment
BULK_CONCURRENCY = 4


class AckFirst:
    def __init__(self, max_defer: float = MAX_DEFER, bulk: int = BULK_CONCURRENCY,
                 settle: float = SETTLE) -> None:
        self.max_defer = max_defer
        self.settle = settle
        self.dispatching = 0
        self.dispatched = 0  # requests ever begun: tells whether one came and went
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._bulk = asyncio.Semaphore(bulk)

    @contextlib.contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around the dispatch of one request, until its answer is ready."""
        self.dispatching += 1
        self.dispatched += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self.dispatching -= 1
            if self.dispatching == 0:
                self._quiet.set()

    async def give_way(self) -> None:
        """Return at once when no request is in dispatch; else once none has been for
        ``settle`` seconds, or after ``max_defer`` seconds."""
        if not self.dispatching:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_defer
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), max(0.0, deadline - loop.time()))
            left = deadline - loop.time()
            if left <= 0:
                return
            seen = self.dispatched
            await asyncio.sleep(min(self.settle, left))
            if not self.dispatching and self.dispatched == seen:
                return  # quiet for ``settle`` seconds
            if loop.time() >= deadline:
                return

    @contextlib.asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        """Bulk work: gives way to acknowledgements, then holds one of the slots."""
        await self.give_way()
        async with self._bulk:
            yield
