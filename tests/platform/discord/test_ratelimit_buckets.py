"""discord.py forgets rate-limit buckets idle for 5 minutes; ``ratelimits`` keeps that
rule but scans for them only when the count has doubled since the last scan, not on
every new bucket once there are 256 (a thread per ticket, a webhook token per answer)."""

from __future__ import annotations

import asyncio

import discord

from adapters.discord.ratelimits import install

IDLE = 301.0  # seconds: discord.py forgets a bucket idle for 300


async def test_idle_buckets_are_forgotten_once_the_count_has_doubled() -> None:
    client = discord.Client(intents=discord.Intents.none())
    install(client, 30.0)
    http = client.http
    try:
        for i in range(300):  # all in use: the scan at 256 forgets none
            http.get_ratelimit(f"POST /channels/{i}/messages:")
        assert len(http._buckets) == 300
        now = asyncio.get_running_loop().time()
        for bucket in http._buckets.values():
            bucket._last_request = now - IDLE
        http.get_ratelimit("POST /channels/300/messages:")
        assert len(http._buckets) == 301  # no scan on this new bucket: 301 < 2 × 256
        for i in range(301, 512):
            http.get_ratelimit(f"POST /channels/{i}/messages:")
        # at 512 the scan ran: the 300 idle ones are forgotten, the 212 since kept
        assert len(http._buckets) == 212
        assert "POST /channels/0/messages:" not in http._buckets
    finally:
        await client.close()
