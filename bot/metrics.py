"""Every metric ``/metrics`` serves, defined here and nowhere else (issue 10, point 11).

Each runtime has its own ``CollectorRegistry`` (never prometheus-client's global one),
so two desks in one process — tests — count apart. Other modules record with one
call: ``metrics.request(...)``; the delivery worker is measured from outside, by
wrapping its outbox (``measured_outbox``: made, retried, parked) and each platform's
outbound port (``measured_outbound``: commit → platform call latency), so
``core.delivery`` stays unaware of metrics. Tickets by status and the outbox's depth
are read from the database when scraped (``DatabaseCollector``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.platform import DiscordPlatform
from adapters.slack.platform import SlackPlatform
from core.errors import Unavailable
from core.outbound import Delivered, DeliveryJob, Done, Outbound, Outbox
from core.routing import Delivery
from core.store.stats import DeskStats, desk_stats
from core.tickets import Status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack wants an acknowledgement within 3 s, Discord an interaction response within 3 s.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
# Commit → platform call: milliseconds when idle, seconds to minutes behind rate limits.
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                    60.0, 300.0)


class DatabaseCollector(Collector):
    """Tickets by status and outbox depth by platform, as last read by ``refresh()``
    (``collect`` must not wait on the database; the ``/metrics`` handler refreshes
    first). After a failed read the families are left out rather than shown stale."""

    def __init__(self, engine: AsyncEngine, platforms: Iterable[str] = ()) -> None:
        self.engine = engine
        self.stats: DeskStats | None = None
        # every platform is shown, at 0 too: a gauge that drops out is read as "no data"
        self.platforms = set(platforms)

    async def refresh(self) -> None:
        try:
            self.stats = await desk_stats(self.engine)
        except Unavailable:
            self.stats = None

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        if stats is None:
            return
        tickets = GaugeMetricFamily("helpthread_tickets", "Tickets by status.",
                                    labels=["status"])
        by_status = {**{s.value: 0 for s in Status}, **stats.tickets_by_status}
        for status, count in sorted(by_status.items()):
            tickets.add_metric([status], count)
        self.platforms |= {*stats.pending, *stats.parked}
        yield tickets
        depth = GaugeMetricFamily("helpthread_outbox_depth",
                                  "Deliveries waiting to be made, by platform.",
                                  labels=["platform"])
        for platform in sorted(self.platforms):
            depth.add_metric([platform], stats.pending.get(platform, 0))
        yield depth
        parked = GaugeMetricFamily("helpthread_outbox_parked",
                                   "Deliveries parked (given up on), by platform.",
                                   labels=["platform"])
        for platform in sorted(self.platforms):
            parked.add_metric([platform], stats.parked.get(platform, 0))
        yield parked
        yield GaugeMetricFamily("helpthread_timers_pending",
                                "Timers (SLA notices, reminders, auto-closes) not fired yet.",
                                value=stats.timers_pending)
        late = 0.0
        if stats.next_timer_at is not None:
            late = max((datetime.now(UTC) - stats.next_timer_at).total_seconds(), 0.0)
        yield GaugeMetricFamily("helpthread_timers_overdue_seconds",
                                "How long the earliest pending timer is past due (seconds; "
                                "above a few, no scheduler is firing).", value=late)


M = TypeVar("M", Counter, Histogram)


def _child(children: dict[tuple[str, ...], M], metric: M, *labels: str) -> M:
    """``metric.labels(*labels)``, looked up once and kept in ``children``."""
    found = children.get(labels)
    if found is None:
        found = children[labels] = metric.labels(*labels)
    return found


class Metrics:
    """One runtime's metrics. ``render()`` is the ``/metrics`` body (text format)."""

    def __init__(self, engine: AsyncEngine, platforms: Iterable[str] = ()) -> None:
        """``platforms``: those whose outbox gauges are shown from the start (at 0)."""
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "helpthread_requests", "Requests received, by platform and kind.",
            ["platform", "kind"], registry=registry)
        self.acknowledgement = Histogram(
            "helpthread_acknowledgement_seconds",
            "From a request's arrival to its acknowledgement (seconds).", ["platform"],
            buckets=ACK_BUCKETS, registry=registry)
        self.deliveries = Counter(
            "helpthread_deliveries",
            "Delivery attempts by platform and outcome: made, retried, parked.",
            ["platform", "outcome"], registry=registry)
        self.delivery_latency = Histogram(
            "helpthread_delivery_latency_seconds",
            "From the commit that queued a delivery to its platform call (seconds).",
            ["platform"], buckets=DELIVERY_BUCKETS, registry=registry)
        self.database = DatabaseCollector(engine, platforms)
        registry.register(self.database)
        self._requests: dict[tuple[str, ...], Counter] = {}
        self._acknowledgements: dict[tuple[str, ...], Histogram] = {}
        self.last_request = 0.0  # time.monotonic() of the latest request

    def request(self, platform: str, kind: str, seconds: float | None = None) -> None:
        """Count one request; ``seconds``: how long until it was acknowledged. Runs
        before an interaction's work: the labelled children are looked up once each
        (``labels()`` costs more than the count)."""
        self.last_request = time.monotonic()
        _child(self._requests, self.requests, platform, kind).inc()
        if seconds is not None:
            _child(self._acknowledgements, self.acknowledgement, platform).observe(seconds)

    def delivery(self, platform: str, outcome: str) -> None:
        self.deliveries.labels(platform, outcome).inc()

    async def render(self) -> bytes:
        """The text exposition, with the database families read now."""
        await self.database.refresh()
        return generate_latest(self.registry)

    def measured_outbound(self, outbound: Outbound) -> Outbound:
        return MeasuredOutbound(outbound, self)

    def measured_outbox(self, outbox: Outbox) -> Outbox:
        return MeasuredOutbox(outbox, self)


class MeasuredOutbound:
    """An outbound port that records, per call, how long since its delivery was
    committed (``created_at``: the committing transaction's time)."""

    def __init__(self, inner: Outbound, metrics: Metrics) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.metrics = metrics

    async def deliver(self, job: DeliveryJob) -> Delivered:
        waited = (datetime.now(UTC) - job.delivery.created_at).total_seconds()
        self.metrics.delivery_latency.labels(self.platform).observe(max(0.0, waited))
        return await self.inner.deliver(job)

    def __getattr__(self, name: str) -> Any:  # anything else the port grows
        return getattr(self.inner, name)


class MeasuredOutbox:
    """The outbox, counting what the worker records: made (``record``), retried
    (``retry``), parked (``park``). Everything else is the outbox's own."""

    def __init__(self, inner: Outbox, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def record(self, done: list[Done], start: list[Delivery], owner: str) -> set[int]:
        started = await self.inner.record(done, start, owner)
        for made in done:
            self.metrics.delivery(made.delivery.platform, "made")
        return started

    async def retry(self, delivery: Delivery, error: str, at: datetime, *,
                    maybe_sent: bool) -> None:
        await self.inner.retry(delivery, error, at, maybe_sent=maybe_sent)
        self.metrics.delivery(delivery.platform, "retried")

    async def park(self, delivery: Delivery, error: str, now: datetime) -> None:
        await self.inner.park(delivery, error, now)
        self.metrics.delivery(delivery.platform, "parked")

    def __getattr__(self, name: str) -> Any:  # claim, renew, contexts, release, …
        return getattr(self.inner, name)


def count_requests(platform: object, metrics: Metrics) -> None:
    """Count what ``platform`` receives off our HTTP server (``bot.health`` counts
    that): Slack Socket Mode envelopes with their time to acknowledgement (its request
    listeners run one after another: ours first and last, Bolt's, which sends the
    acknowledgement, between); Discord's interactions (with the time to their first
    answer, from the moment the bot's callback began) and thread messages, through
    the bot's ``on_request`` hook."""
    if isinstance(platform, DiscordPlatform):
        def observed(kind: str, seconds: float | None) -> None:
            metrics.request("discord", kind, seconds)
        platform.bot.on_request = observed
    if isinstance(platform, SlackPlatform) and platform.socket is not None:
        listeners = platform.socket.client.socket_mode_request_listeners
        arrived: dict[str, float] = {}

        async def received(_: object, request: SocketModeRequest) -> None:
            arrived[request.envelope_id] = time.perf_counter()

        async def acknowledged(_: object, request: SocketModeRequest) -> None:
            start = arrived.pop(request.envelope_id, None)
            seconds = None if start is None else time.perf_counter() - start
            metrics.request("slack", socket_kind(request.type, request.payload), seconds)

        listeners.insert(0, received)
        listeners.append(acknowledged)


def socket_kind(envelope_type: str, payload: dict[str, Any]) -> str:
    """A Socket Mode envelope's kind, named as ``bot.health.slack_kind`` names the same
    request over HTTP."""
    if envelope_type == "slash_commands":
        return "command"
    event = payload.get("event")
    if isinstance(event, dict) and isinstance(event.get("type"), str):
        return str(event["type"])
    return str(payload.get("type") or envelope_type)
