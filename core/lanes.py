"""An answer lane in the event loop: callbacks that lead to a person's first answer run
before all others, and the sockets are looked at between the others.

asyncio runs, in each pass, every callback that was ready when the pass began, and only
then looks at the sockets again. With a burst of deliveries under way that pass is a
row of their steps (rendering, recording: 0.2–0.7 ms each, bench/discord.py traced
step by step): a gateway frame that arrived at its start waited for all of them, then
its interaction's own steps — parsing the frame, the deferral, writing its request —
each waited for another row. Discord allows 3 seconds for that first answer; nothing
else the bot does has a deadline that short.

A callback is in the answer lane when the context it runs in says so (``ANSWER_LANE``):
a task started in ``answer_lane()`` (the Discord gateway's), the tasks it starts (an
interaction's), and the socket readers they open — until ``leave_answer_lane()`` (once
the interaction is answered; events that answer no one leave it as they are
dispatched). ``LanesLoop`` runs them first, and while it works through the rest it
looks at the sockets every ``POLL_SECONDS``, so that a frame is read within that
rather than after the whole pass. Nothing is reordered within a lane, and every
callback still runs in the pass it would have run in or the next.

Built on asyncio's own loop and its ready queue (``_ready``, ``_selector``,
``_process_events``: private, unchanged from Python 3.8 to 3.13); with any other loop
the marks change nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from typing import Any

ANSWER_LANE: contextvars.ContextVar[bool] = contextvars.ContextVar("answer_lane",
                                                                   default=False)
POLL_SECONDS = 0.0005  # between two looks at the sockets while other callbacks run


def answer_lane(inside: bool = True) -> contextvars.Context:
    """A copy of the current context in the answer lane (``inside``) or out of it: start
    a task in it (``asyncio.create_task(coro, context=answer_lane())``), or run work
    that answers no one from a task in the lane (``answer_lane(False).run(…)``)."""
    context = contextvars.copy_context()
    context.run(ANSWER_LANE.set, inside)
    return context


def leave_answer_lane() -> None:
    """The current task's callbacks from now on are ordinary (it has answered)."""
    if ANSWER_LANE.get():
        ANSWER_LANE.set(False)


class _Ready:
    """The loop's ready callbacks (in place of its ``collections.deque``): what asyncio
    asks of it — ``append``, ``popleft``, ``len``, truth, ``clear``."""

    def __init__(self, loop: LanesLoop) -> None:
        self._loop = loop
        self._first: deque[asyncio.Handle] = deque()
        self._rest: deque[asyncio.Handle] = deque()
        self.polled = time.monotonic()

    def append(self, handle: asyncio.Handle) -> None:
        context: contextvars.Context = handle._context  # type: ignore[attr-defined]
        (self._first if context.get(ANSWER_LANE, False) else self._rest).append(handle)

    def popleft(self) -> asyncio.Handle:
        if not self._first and time.monotonic() - self.polled >= POLL_SECONDS:
            self._loop.poll()
        return (self._first or self._rest).popleft()

    def __len__(self) -> int:
        return len(self._first) + len(self._rest)

    def __bool__(self) -> bool:
        return bool(self._first) or bool(self._rest)

    def clear(self) -> None:
        self._first.clear()
        self._rest.clear()


class LanesLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop with the answer lane (the module's notes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ready: Any = _Ready(self)

    def poll(self) -> None:
        """Look at the sockets now, without waiting: their callbacks join the ready ones
        (a reader in the answer lane before the rest)."""
        self._process_events(self._selector.select(0))  # type: ignore[attr-defined]

    def _process_events(self, event_list: Any) -> None:
        self._ready.polled = time.monotonic()
        super()._process_events(event_list)  # type: ignore[misc]
