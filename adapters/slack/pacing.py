"""Acknowledgements first: Slack waits at most 3 seconds for each one.

Work that nobody is waiting on — opening a ticket after its form closed, mirroring
a thread message, delivering cards — gives way while requests are being
acknowledged: it starts once no request is in dispatch, or after ``MAX_DEFER``
seconds at the latest, so a steady stream of requests slows it but never stops it.
At most ``BULK_CONCURRENCY`` such listener tasks run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

MAX_DEFER = 1.0  # seconds background work waits at most for a quiet moment
BULK_CONCURRENCY = 4


class AckFirst:
    def __init__(self, max_defer: float = MAX_DEFER, bulk: int = BULK_CONCURRENCY) -> None:
        self.max_defer = max_defer
        self.dispatching = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._bulk = asyncio.Semaphore(bulk)

    @contextlib.contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around the dispatch of one request, until its answer is ready."""
        self.dispatching += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self.dispatching -= 1
            if self.dispatching == 0:
                self._quiet.set()

    async def give_way(self) -> None:
        """Return when no request is in dispatch, or after ``max_defer`` seconds."""
        if self.dispatching:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), self.max_defer)

    @contextlib.asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        """Bulk work: gives way to acknowledgements, then holds one of the slots."""
        await self.give_way()
        async with self._bulk:
            yield
