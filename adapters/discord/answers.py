"""Answers first: work that follows an answer gives way to interactions not yet answered.

The bot reads the gateway, answers interactions, does each interaction's desk work
after its deferral and makes deliveries, all on one event loop. Discord allows an
interaction 3 seconds for its first answer and nothing else has a deadline that
short, so the work that can wait does: an interaction's desk work (after its
deferral) and each delivery begin only once no interaction that arrived is still
unanswered. Waiting is bounded (``MOST_SECONDS``), so a steady stream of
interactions slows the work behind it but never stops it.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Any

import discord

MOST_SECONDS = 0.5  # the longest a piece of work gives way to answers
RECHECK_SECONDS = 0.02  # an answer made outside ``answered`` (autocomplete) is seen by then
FORGOTTEN_SECONDS = 3.0  # Discord's deadline: an interaction unanswered by then is lost


class AnswersFirst:
    """The interactions that arrived and are not answered yet (``arrived`` at parse time,
    ``answered`` after each first answer), and ``give_way`` for the work behind them."""

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[discord.Interaction[Any], float]] = {}
        self._clear = asyncio.Event()
        self._clear.set()

    @property
    def unanswered(self) -> int:
        """Interactions that arrived and are not yet answered (nor past 3 seconds)."""
        self._prune()
        return len(self._waiting)

    def arrived(self, interaction: discord.Interaction[Any]) -> None:
        """``interaction`` was read from the gateway (before any callback of it runs)."""
        self._waiting[interaction.id] = (interaction, time.monotonic())
        self._clear.clear()

    def answered(self) -> None:
        """Some first answer was sent: work waiting may go on if none is left."""
        self._prune()

    def _prune(self) -> None:
        now = time.monotonic()
        done = [key for key, (interaction, at) in self._waiting.items()
                if interaction.response.is_done() or now - at > FORGOTTEN_SECONDS]
        for key in done:
            del self._waiting[key]
        if not self._waiting:
            self._clear.set()

    async def give_way(self) -> None:
        """Return once no interaction waits for its first answer, or after
        ``MOST_SECONDS``. Yields to the loop at least once first, so that frames already
        read from the gateway are dispatched (and counted) before this is decided."""
        await asyncio.sleep(0)
        deadline = time.monotonic() + MOST_SECONDS
        while self.unanswered:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with suppress(TimeoutError):
                async with asyncio.timeout(min(left, RECHECK_SECONDS)):
                    await self._clear.wait()
