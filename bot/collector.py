"""The garbage collector while serving: start-up's heap frozen, full collections at
quiet moments.

A full collection walks every object made since start-up that is still alive: the
threads, members and forms a bot keeps. In ``bench/discord.py`` one took up to 120 ms
of the event loop; triggered by allocation, it comes while the desk is busy — right
after an answer, as the next interaction arrives. Here automatic full collections are
off while serving; ``IdleCollector`` runs one once ``FULL_AFTER_MIDDLE`` middle
collections have passed and no request has arrived for ``QUIET_SECONDS`` — or, under
a stream that never pauses, after ``MOST_MIDDLE`` middle ones all the same (memory
comes first). Young and middle collections stay automatic (they take milliseconds).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from contextlib import suppress

import structlog

log = structlog.get_logger("helpthread.collector")

# Middle-generation collections between two full ones while serving (CPython's
# default: 10). Through bench/discord.py (8 at once, 3 kinds, 2 runs each, a loaded
# machine): 1 full collection a run instead of 3–4, the same resident memory (135 MB)
# and the same young and middle pauses. Larger young thresholds (1500–10000; CPython:
# 700) were tried too: the same total, fewer but longer young and middle pauses (up to
# 11 ms of CPU at 3000–10000), which Slack's acknowledgements would meet — not taken.
FULL_AFTER_MIDDLE = 30
MOST_MIDDLE = 4 * FULL_AFTER_MIDDLE  # a full collection then comes, quiet or not
QUIET_SECONDS = 0.5  # no request for this long: the desk is quiet
CHECK_SECONDS = 0.25  # how often the collector looks
NO_AUTOMATIC_FULL = 1 << 30  # a full threshold never reached


def middle_collections() -> int:
    """Middle-generation collections since the process began (CPython's own count)."""
    return int(gc.get_stats()[1]["collections"])


def freeze_startup_heap() -> tuple[int, int, int]:
    """Move every object alive once start-up is done — modules, the SDKs, SQLAlchemy's
    tables and mappers: a few hundred thousand — out of the garbage collector's reach
    (``gc.freeze``), and turn automatic full collections off (``IdleCollector`` runs
    them). Otherwise each full collection walks all of them on the event loop that
    acknowledges requests: under load (``bench/slack.py``, 32 in flight) pauses of up
    to 170 ms were measured, against Slack's 3-second window and a 1.3x target over a
    bare Bolt app. Returns the thresholds before, to restore at the end."""
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], NO_AUTOMATIC_FULL)
    return before


def thaw_heap(before: tuple[int, int, int]) -> None:
    """Undo ``freeze_startup_heap`` (the process stops serving): ``before`` its result."""
    gc.unfreeze()
    gc.set_threshold(*before)


class IdleCollector:
    """Runs full collections at quiet moments (the module's rule). ``last_request``:
    the ``time.monotonic()`` of the latest request any platform received."""

    def __init__(self, last_request: Callable[[], float]) -> None:
        self._last_request = last_request
        self._since = middle_collections()  # the count at the last full collection
        self.full_collections = 0

    def due(self, now: float) -> bool:
        """Whether a full collection should run now."""
        middle = middle_collections() - self._since
        if middle >= MOST_MIDDLE:
            return True
        return middle >= FULL_AFTER_MIDDLE and now - self._last_request() >= QUIET_SECONDS

    def collect(self) -> None:
        began = time.perf_counter()
        found = gc.collect()
        self._since = middle_collections()
        self.full_collections += 1
        log.debug("helpthread.full_collection", found=found,
                  ms=round((time.perf_counter() - began) * 1e3, 1))

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set."""
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_SECONDS)
            if not stop.is_set() and self.due(time.monotonic()):
                self.collect()
