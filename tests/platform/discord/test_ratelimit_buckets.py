"""discord.py forgets rate-limit buckets idle for 5 minutes; ``ratelimits`` forgets a
bucket as soon as it holds no window, scanning only once the count has doubled since
the last scan (a thread per ticket, a webhook token per answer: a new bucket per call)."""

from __future__ import annotations

import asyncio

import discord

from adapters.discord.ratelimits import SCAN_AT, install


def route(i: int) -> str:
    return f"POST /channels/{i}/messages:"


async def test_buckets_without_a_window_are_forgotten_once_the_count_has_doubled() -> None:
    client = discord.Client(intents=discord.Intents.none())
    install(client, 30.0)
    http = client.http
    now = asyncio.get_running_loop().time()
    try:
        for i in range(SCAN_AT):
            bucket = http.get_ratelimit(route(i))
            if i % 3 == 0:  # a window still open: its remaining count is knowledge
                bucket.remaining, bucket.expires = 0, now + 60
            elif i % 3 == 1:  # a request inside it
                bucket.outgoing = 1
            else:  # a window that has ended: a fresh bucket would say the same
                bucket.expires = now - 1
        assert len(http._buckets) == SCAN_AT
        http.get_ratelimit(route(SCAN_AT))  # the scan at SCAN_AT: the ended ones go
        assert route(SCAN_AT) in http._buckets  # the one asked for is kept
        kept = [i for i in range(SCAN_AT) if route(i) in http._buckets]
        assert kept == [i for i in range(SCAN_AT) if i % 3 != 2]
        assert len(http._buckets) == len(kept) + 1
        threshold = max(SCAN_AT, 2 * len(kept))  # twice what the scan left
        i = SCAN_AT + 1
        while len(http._buckets) < threshold:
            http.get_ratelimit(route(i))
            i += 1
        assert len(http._buckets) == threshold  # no scan yet: none forgotten
        http.get_ratelimit(route(10_000))  # now: the fresh ones go, the windows stay
        assert len(http._buckets) == len(kept) + 1  # and the one just asked for
        assert all(route(i) in http._buckets for i in kept)
    finally:
        await client.close()
