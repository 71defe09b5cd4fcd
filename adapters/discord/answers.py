"""Answers first: work that follows an answer gives way to interactions not yet answered.

The bot reads the gateway, answers interactions, does each interaction's desk work
after its deferral and makes deliveries, all on one event loop. Discord allows an
interaction 3 seconds for its first answer and nothing else has a deadline that
short, so the work that can wait does: an interaction's desk work (after its
deferral) and each delivery begin only once no interaction that arrived is still
unanswered. Waiting is bounded (``MOST_SECONDS``), so a steady stream of
interactions slows the work behind it but never stops it. Work that waited goes on one
piece per pass of the event loop, in the order it came: let go all at once, a hundred
pieces ran back to back before the loop next read the gateway, and an interaction
that arrived meanwhile waited for all of them (bench/discord.py, traced step by step).

Answers travel on HTTP connections of their own (``AnswerConnections``): discord.py sends
every request through one pool, and while deliveries hold its connections (each until
Discord responds, up to 32 queues at once) an answer found none free and opened one —
on Discord's API a TLS handshake before the 3 seconds' answer could even be sent.

The garbage collector gives way too: while interactions come, automatic collections
are held (``gc.disable``), so a collection's pause falls after a burst of interactions,
not inside it. Every interaction leaves cyclic garbage only a collection frees
(discord.py's interaction, message, member and the view it builds from the message
refer to each other: some 30 objects an interaction, as in a bare discord.py bot,
measured with ``gc.DEBUG_SAVEALL``), so a held collection takes milliseconds; the hold
ends once no interaction has waited for ``QUIET_SECONDS`` — not at each moment all
are answered, which in a burst comes between two of them and put the collection inside
the burst — and the collection held back is made then (``collect_due``). The hold is
bounded twice. Past ``HOLD_MOST_SECONDS`` or ``HOLD_MOST_YOUNG`` it ends at the first
moment no interaction waits, without waiting to be quiet: under a steady stream one at
a time that is between two of them, where the collection delays at most the next
one's reading — ended at once, it was made with a burst waiting behind it (a young
collection of 12 ms under 32 answers in flight, bench/discord.py, loaded Resolve).
Past ``HOLD_LAST_SECONDS`` or ``HOLD_LAST_YOUNG`` (a stream with no such moment, an
answer stuck on its way) it ends at once and the collector runs as usual until every
interaction is answered: memory never waits on answers for long.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import aiohttp
import discord

from core.lanes import leave_answer_lane

MOST_SECONDS = 0.5  # the longest a piece of work gives way to answers
RECHECK_SECONDS = 0.02  # an answer made outside ``answered`` (autocomplete) is seen by then
# (one timer for all the work waiting: one each, a hundred waiting pieces of work woke
# every 20 ms and took the loop for milliseconds of every 20)
FORGOTTEN_SECONDS = 3.0  # Discord's deadline: an interaction unanswered by then is lost
HOLD_MOST_SECONDS = 0.5  # the garbage collector held this long at a stretch ends at
HOLD_MOST_YOUNG = 200  # … or with this many times its youngest threshold of objects
# waiting, at the first moment no interaction waits (200 × 700: some 140,000 objects,
# about 20 MB). An interaction whose work waits behind a burst's answers keeps some 160
# objects young (a Claim, measured with the collector held), so a burst of 512 Claims at
# 32 at once (bench/discord.py) passed 100 × 700 halfway and its held collection of
# 30–45 ms came inside it, at the first moment none waited; at 20, 2–4 ms ones set p99s
HOLD_LAST_SECONDS = 1.0  # … and past this, or this many times the youngest threshold,
HOLD_LAST_YOUNG = 2 * HOLD_MOST_YOUNG  # at once, interactions waiting or not
QUIET_SECONDS = 0.005  # no interaction waiting for this long: the burst is over (at
# 0.02, one interaction at a time, the collection came as the next one was sent)


class CollectorHold:
    """Automatic garbage collection held while any holder waits (process-wide: the
    collector is). Only a collector this hold disabled is enabled again; one someone else
    disabled (a test, an embedding program) is left as it is."""

    def __init__(self) -> None:
        self._holders: set[object] = set()
        self._disabled = False  # by this hold

    def hold(self, holder: object) -> None:
        self._holders.add(holder)
        if not self._disabled and gc.isenabled():
            gc.disable()
            self._disabled = True

    def release(self, holder: object) -> None:
        self._holders.discard(holder)
        if not self._holders and self._disabled:
            self._disabled = False
            gc.enable()
            collect_due()


def collect_due() -> None:
    """The collection automatic collection would make at the next allocation, made now:
    the young generation once past its threshold, with the middle one when that is due
    too (full collections are ``bot.collector``'s). A hold ends at a quiet moment; left
    to the next allocation, the collection came inside the next interaction — discord.py
    parsing its gateway frame (middle collections of 2.5–3 ms, traced in
    bench/discord.py at 1 at once while deliveries were in flight)."""
    count, threshold = gc.get_count(), gc.get_threshold()
    if count[0] > threshold[0]:
        gc.collect(1 if count[1] + 1 > threshold[1] else 0)


COLLECTOR = CollectorHold()


def young_past(times: int) -> bool:
    """True when the objects made since the last young collection are past ``times``
    its threshold (``HOLD_MOST_YOUNG``, ``HOLD_LAST_YOUNG``: memory comes first)."""
    return gc.get_count()[0] > times * gc.get_threshold()[0]


class AnswersFirst:
    """The interactions that arrived and are not answered yet (``arrived`` at parse time,
    ``waiting`` from the frame for a deferral sent from it, ``answered`` after each first
    answer), and ``give_way`` for the work behind them.
    While some are unanswered, and for ``QUIET_SECONDS`` after, the garbage collector
    is held (``COLLECTOR``); past ``HOLD_MOST_SECONDS`` or ``HOLD_MOST_YOUNG`` until
    the first moment none waits, past ``HOLD_LAST_SECONDS`` or ``HOLD_LAST_YOUNG`` not at
    all until every interaction is answered (the module's notes)."""

    def __init__(self) -> None:
        # interaction id → whether its first answer is sent, and when it arrived
        self._waiting: dict[int, tuple[Callable[[], bool], float]] = {}
        self._turns: deque[asyncio.Future[None]] = deque()  # work waiting, in order
        self._turning: asyncio.TimerHandle | asyncio.Handle | None = None  # next turn
        self._holding: asyncio.TimerHandle | None = None  # the hold's next bound, when held
        self._ending = False  # past its first bound: the hold ends once none waits
        self._overdue = False  # past its last: not held again until all are answered
        self._quiet: asyncio.TimerHandle | None = None  # the hold's end once all answered
        self._held_since = 0.0  # the loop's time the hold began
        self._closed = False  # the bot stopped: nothing is held again

    @property
    def unanswered(self) -> int:
        """Interactions that arrived and are not yet answered (nor past 3 seconds)."""
        self._prune()
        return len(self._waiting)

    def arrived(self, interaction: discord.Interaction[Any]) -> None:
        """``interaction`` was read from the gateway (before any callback of it runs)."""
        self.waiting(interaction.id, interaction.response.is_done)

    def waiting(self, interaction_id: int, answered: Callable[[], bool]) -> None:
        """An interaction was read whose first answer is sent once ``answered()`` (its
        deferral sent from the frame, ``early``)."""
        self._waiting[interaction_id] = (answered, time.monotonic())
        if self._quiet is not None:  # the burst goes on: so does the hold
            self._quiet.cancel()
            self._quiet = None
        if self._holding is not None:
            if young_past(HOLD_LAST_YOUNG):
                self._last_bound()
            elif not self._ending and young_past(HOLD_MOST_YOUNG):
                self._first_bound()
        elif not self._overdue and not self._closed:
            COLLECTOR.hold(self)
            loop = asyncio.get_running_loop()
            self._held_since = loop.time()
            self._holding = loop.call_later(HOLD_MOST_SECONDS, self._first_bound)

    def close(self) -> None:
        """The bot stops: a hold never outlives it (its timer would not run), nor does an
        interaction read while it closes take one."""
        self._closed = True
        self._release()
        if self._turning is not None:
            self._turning.cancel()
            self._turning = None

    def answered(self) -> None:
        """Some first answer was sent: work waiting goes on if none is left, and the
        task that sent it leaves the event loop's answer lane (``core.lanes``)."""
        leave_answer_lane()
        self._prune()
        if not self._waiting and self._turns and isinstance(self._turning,
                                                            asyncio.TimerHandle):
            self._turning.cancel()  # a recheck: no need to wait for it
            self._turning = None
            self._take_turns()

    def _prune(self) -> None:
        now = time.monotonic()
        done = [key for key, (answered, at) in self._waiting.items()
                if answered() or now - at > FORGOTTEN_SECONDS]
        for key in done:
            del self._waiting[key]
        if not self._waiting:
            self._overdue = False
            if self._holding is not None and self._ending:
                self._release()  # the moment a hold past its first bound waited for
            elif self._holding is not None and self._quiet is None:
                self._quiet = asyncio.get_running_loop().call_later(QUIET_SECONDS,
                                                                    self._release)

    def _first_bound(self) -> None:
        """``HOLD_MOST_SECONDS`` passed, or ``HOLD_MOST_YOUNG``: the hold ends at the first
        moment no interaction waits (now, if none does), and at the last bound at the
        latest. Runs only while held (its timer is cancelled on release)."""
        assert self._holding is not None
        self._ending = True
        self._holding.cancel()
        self._holding = asyncio.get_running_loop().call_at(
            self._held_since + HOLD_LAST_SECONDS, self._last_bound)
        self._prune()

    def _last_bound(self) -> None:
        """``HOLD_LAST_SECONDS`` passed, or ``HOLD_LAST_YOUNG``: the hold ends now, and
        unless every interaction is answered by now (by a path that did not say so), the
        collector runs as usual until they are."""
        self._prune()
        if self._waiting:
            self._release()
            self._overdue = True

    def _release(self) -> None:
        self._ending = False
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        if self._holding is not None:
            self._holding.cancel()
            self._holding = None
            COLLECTOR.release(self)

    async def give_way(self) -> None:
        """Return once no interaction waits for its first answer and the work that gave
        way before this has had its turn (one piece per pass of the loop), or after
        ``MOST_SECONDS``. Yields to the loop at least once first, so that frames already
        read from the gateway are dispatched (and counted) before this is decided."""
        await asyncio.sleep(0)
        if not self._turns and not self.unanswered:
            return
        turn = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        self._take_turns()
        with suppress(TimeoutError):
            async with asyncio.timeout(MOST_SECONDS):
                await turn  # cancelled at the deadline: its turn is skipped

    def _take_turns(self) -> None:
        if self._turning is None:
            self._turning = asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        """The first piece of work waiting goes on if no interaction waits, and the next
        at the loop's next pass; while some wait, look again in ``RECHECK_SECONDS`` (or
        at the ``answered`` that leaves none)."""
        self._turning = None
        while self._turns and self._turns[0].done():
            self._turns.popleft()
        if not self._turns:
            return
        loop = asyncio.get_running_loop()
        if self.unanswered:
            self._turning = loop.call_later(RECHECK_SECONDS, self._next_turn)
            return
        self._turns.popleft().set_result(None)
        if self._turns:
            self._turning = loop.call_soon(self._next_turn)


class AnswerConnections:
    """A connection pool for interaction answers alone (see the module): ``take`` points
    an interaction's response, its edits and its follow-ups at it. The pool opens with
    the first interaction and closes with the bot (``close``)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def take(self, interaction: discord.Interaction[Any]) -> None:
        """Send ``interaction``'s answers through this pool. discord.py reads the session
        from the interaction (``Interaction._session``, set from its REST client's); one
        that has none (a test double of Discord without HTTP) is left as it is."""
        session = self.session_for(interaction._session)
        if session is not None:
            interaction._session = session

    def session_for(self, base: aiohttp.ClientSession | None) -> aiohttp.ClientSession | None:
        """The session answers go out on when discord.py's REST client has ``base`` (None:
        no HTTP, as ``take`` leaves it)."""
        if base is None:
            return None
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                                  cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    def followup(self, interaction: discord.Interaction[Any]) -> discord.Webhook:
        """``interaction.followup`` on the interaction's own session (``take``)."""
        hook = interaction.followup
        if interaction._session is not None:
            hook.session = interaction._session
        return hook

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
