"""``/healthz`` and ``/metrics`` on the HTTP server of ``helpthread run`` (issue 10, point 11).

``/healthz`` answers 200 when the database answers within ``DATABASE_TIMEOUT_SECONDS``
and every platform this process runs is connected, else 503; either way a JSON body
says which part is down, the oldest pending delivery's age (seconds) and how many
deliveries are parked. ``/metrics`` is the runtime's ``bot.metrics.Metrics``. The
``measure_requests`` middleware counts each request to a platform's HTTP route and how
long it took to acknowledge.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.typedefs import Middleware
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import CONTENT_TYPE, Metrics
from core.errors import Unavailable
from core.store.stats import desk_stats

DATABASE_TIMEOUT_SECONDS = 2.0  # a health probe must answer well within a prober's timeout
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Connected(Protocol):
    """A running platform as health sees it: whether it is connected."""

    @property
    def connected(self) -> bool: ...


async def health(engine: AsyncEngine, platforms: dict[str, Connected],
                 ) -> tuple[bool, dict[str, Any]]:
    """``(healthy, report)``: the database reachable (two grouped counts, at most
    ``DATABASE_TIMEOUT_SECONDS``), each platform in ``platforms`` connected; the oldest
    pending delivery's age in seconds (None when none is pending) and the parked count
    (None when the database did not answer)."""
    report: dict[str, Any] = {"database": "ok", "platforms": {}, "oldest_pending_seconds": None,
                              "parked_deliveries": None}
    healthy = True
    try:
        stats = await asyncio.wait_for(desk_stats(engine), DATABASE_TIMEOUT_SECONDS)
    except (Unavailable, TimeoutError):
        healthy = False
        report["database"] = "unreachable"
    else:
        if stats.oldest_pending_at is not None:
            age = datetime.now(UTC) - stats.oldest_pending_at
            report["oldest_pending_seconds"] = round(max(0.0, age.total_seconds()), 3)
        report["parked_deliveries"] = sum(stats.parked.values())
    for name, platform in platforms.items():
        up = bool(platform.connected)
        report["platforms"][name] = "connected" if up else "disconnected"
        healthy = healthy and up
    report["status"] = "ok" if healthy else "unavailable"
    return healthy, report


def monitoring_routes(engine: AsyncEngine, platforms: dict[str, Connected], metrics: Metrics,
                      ) -> list[web.RouteDef]:
    """``GET /healthz`` and ``GET /metrics``."""

    async def healthz(_: web.Request) -> web.Response:
        healthy, report = await health(engine, platforms)
        return web.json_response(report, status=200 if healthy else 503)

    async def serve_metrics(_: web.Request) -> web.Response:
        return web.Response(body=await metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    return [web.get("/healthz", healthz), web.get("/metrics", serve_metrics)]


def measure_requests(metrics: Metrics, platform_paths: Sequence[tuple[str, str]],
                     ) -> Middleware:
    """An aiohttp middleware: a request to a path in ``platform_paths`` (``(path,
    platform)``) is counted by platform and kind, and its time to the response — the
    acknowledgement — observed. A refused request (4xx) counts as kind ``refused``."""
    paths = dict(platform_paths)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        platform = paths.get(request.path)
        if platform is None:
            return await handler(request)
        start = time.perf_counter()
        response = await handler(request)
        kind = "refused" if response.status >= 400 else slack_kind(await request.read())
        metrics.request(platform, kind, time.perf_counter() - start)
        return response

    return middleware


def slack_kind(body: bytes) -> str:
    """What a signed Slack request carries: ``command``, an interaction's type
    (``block_actions``, ``view_submission``, …), an event's type (``message``, …), or
    ``other``."""
    try:
        text = body.decode("utf-8")
        if text.startswith("{"):
            envelope = json.loads(text)
            event = envelope.get("event")
            if isinstance(event, dict) and isinstance(event.get("type"), str):
                return str(event["type"])
            return str(envelope.get("type") or "other")
        form = parse_qs(text)
        if "command" in form:
            return "command"
        payload = json.loads(form["payload"][0])
        return str(payload.get("type") or "other")
    except (ValueError, KeyError, AttributeError, IndexError):
        return "other"
