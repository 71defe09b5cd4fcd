"""Deliveries never wait out a Discord rate limit inside discord.py (issue 10, point 5).

discord.py 2.7's ``HTTPClient.request`` waits in four places: it sleeps out a 429 whose
``retry_after`` is at most ``max_ratelimit_timeout`` (at least 30 s) and retries; the
request that empties a bucket (``X-RateLimit-Remaining: 0``) sleeps out the bucket's
``reset_after`` before it returns (``Ratelimit.__aexit__``); a request to an empty
bucket waits in ``Ratelimit.acquire`` until the bucket resets; and every request waits
while a global rate limit lasts. A bucket is per route and channel, so other channels
are not blocked by discord.py itself — but a delivery that waits holds its worker.

Inside ``delivering()`` (``DiscordOutbound.deliver``) each of these raises
``discord.RateLimited(retry_after)`` at once instead, which the outbound turns into
``RetryLater(after=retry_after)``: the outbox makes it that target's due time. Every
other call (interaction answers, listeners, command sync) keeps discord.py's waiting.
discord.py's own retries of a 5xx (after 1, 3, 5, 7 s) are left as they are.

discord.py forgets a bucket once it has been idle for 5 minutes, scanning all of them
each time a new one is made once there are 256. A bot with a thread per ticket and a
webhook token per answered interaction makes a new bucket for most calls: that scan
took 7 % of the bot's CPU under the interaction benchmark, and five minutes of buckets
(three objects each, tens of thousands under load) made every full garbage collection
of the event loop walk them. Here a bucket is forgotten as soon as it holds no window
— nobody inside or waiting, and its reset passed or never learnt: ``Ratelimit.acquire``
would reset it to a fresh one anyway, so only the learnt ``limit`` is lost, relearnt by
the route's next response. The scan runs once the count reaches twice what the last
scan left (at least ``SCAN_AT``): amortised O(1), and the buckets kept stay within
twice those in a window.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import discord
from discord.http import HTTPClient, Ratelimit, Route

NO_WAIT = 1e-3  # seconds: a 429 asking for longer is handed back, never slept out
GLOBAL_RETRY_SECONDS = 1.0  # a global rate limit's end is not known to us: look again then
SCAN_AT = 256  # buckets: below this many, none is forgotten (discord.py's own floor)

_DELIVERING: ContextVar[bool] = ContextVar("helpthread_discord_delivering", default=False)


@contextlib.contextmanager
def delivering() -> Iterator[None]:
    """Calls made inside never wait for a rate limit: they raise ``discord.RateLimited``."""
    token = _DELIVERING.set(True)
    try:
        yield
    finally:
        _DELIVERING.reset(token)


class DeliveryRatelimit(Ratelimit):
    """A bucket that, for a delivery, reports its exhaustion instead of waiting it out."""

    __slots__ = ()

    async def acquire(self) -> None:
        if _DELIVERING.get():
            if self.is_expired():
                self.reset()  # type: ignore[no-untyped-call]
            if self.remaining <= 0 and self.expires is not None:
                raise discord.RateLimited(max(self.expires - self._loop.time(), NO_WAIT))
        await super().acquire()

    async def __aexit__(self, *exc: Any) -> None:
        if _DELIVERING.get() and self.expires is not None and not self.is_expired() \
                and self.remaining - (self.outgoing - 1) <= 0:
            # The delivery emptied the bucket: return now. The window stays recorded, so
            # the next delivery here is refused by acquire(); calls already waiting wake
            # by themselves when it ends (their own timeout in Ratelimit.acquire).
            self.outgoing -= 1
            return
        await super().__aexit__(*exc)


def holds_no_window(bucket: Ratelimit) -> bool:
    """Whether ``bucket`` tells nothing a fresh bucket would not: no request inside it
    or waiting for it, and no rate-limit window open (never learnt, or expired by
    discord.py's own ``is_expired``). A request between ``get_ratelimit`` and
    ``acquire`` is not seen: it is waiting out a global rate limit, after which its
    route relearns its window."""
    return (bucket.outgoing == 0 and not bucket._pending_requests
            and not bucket._sleeping.locked()
            and (bucket.expires is None or bucket.is_expired()))


class DeliveryHTTPClient(HTTPClient):
    """discord.py's REST client, with ``delivering()`` honoured (see the module)."""

    _max_wait: float | None
    _scanned_at = 0  # buckets left by the last scan for idle ones
    # awaited before each delivery's request: interactions not yet answered go first
    # (``answers.AnswersFirst.give_way``; a delivery's card and message are several calls)
    give_way: Callable[[], Awaitable[None]] | None = None

    @property
    def max_ratelimit_timeout(self) -> float | None:
        """Read by ``HTTPClient.request`` at each 429: longer waits raise RateLimited."""
        return NO_WAIT if _DELIVERING.get() else self._max_wait

    @max_ratelimit_timeout.setter
    def max_ratelimit_timeout(self, value: float | None) -> None:
        self._max_wait = value

    def get_ratelimit(self, key: str) -> Ratelimit:
        try:
            return self._buckets[key]
        except KeyError:
            self._try_clear_expired_ratelimits()  # before: the new one holds no window yet
            bucket = self._buckets[key] = DeliveryRatelimit(self._max_wait)
            return bucket

    def _try_clear_expired_ratelimits(self) -> None:
        """Forget every bucket that holds no window, once the count has reached twice
        what the last scan left (see the module)."""
        if len(self._buckets) < max(SCAN_AT, 2 * self._scanned_at):
            return
        for key in [key for key, bucket in self._buckets.items() if holds_no_window(bucket)]:
            del self._buckets[key]
        self._scanned_at = len(self._buckets)

    async def request(self, route: Route, **kwargs: Any) -> Any:
        over = self._global_over
        if _DELIVERING.get():
            if isinstance(over, asyncio.Event) and not over.is_set():
                raise discord.RateLimited(GLOBAL_RETRY_SECONDS)
            if self.give_way is not None:
                await self.give_way()
        return await super().request(route, **kwargs)


def install(client: discord.Client, max_wait: float) -> DeliveryHTTPClient:
    """Give ``client`` a ``DeliveryHTTPClient`` (before anything used its REST client;
    ``max_wait``: its ``max_ratelimit_timeout`` for every call outside deliveries)."""
    http = DeliveryHTTPClient(client.loop, max_ratelimit_timeout=max_wait)
    client.http = http
    client._connection.http = http
    return http
