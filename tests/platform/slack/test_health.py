"""Issue 10, point 11: `helpthread run` (Slack HTTP mode against FakeSlack, PostgreSQL)
serves `/healthz` — 200 with the database and Slack up, 503 once the database is gone —
and `/metrics`, read with prometheus-client's own parser after some traffic; in Socket
Mode the envelopes are counted and timed to their acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import func, select

from adapters.slack.plugin import PLUGIN
from bot.platforms import run_platforms
from bot.settings import Credentials, Settings
from core.desk import Desk, NewTicket
from core.identity import Actor, UserRef
from core.store.engine import make_engine
from core.store.sql import D, SqlStores
from tests.platform.slack.harness import ALICE, CONFIG, SECRET, SLACK
from tests.platform.slack.test_running import free_port
from tests.support.databases import drop_postgres, fresh_postgres_url, require_postgres
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.slack_requests import command_body, signed_headers

ROUTE = PLUGIN.route(SLACK, CONFIG.categories)
BOUND = 300  # polls of 50 ms at most: only stops a hung run, nothing asserts on time


@pytest.fixture
async def pg() -> AsyncIterator[tuple[str, str]]:
    await require_postgres()
    url, name = await fresh_postgres_url()
    try:
        yield url, name
    finally:
        await drop_postgres(name)


def samples(text: str) -> dict[str, list[Any]]:
    """Every sample by name (the parser's), each as ``(labels, value)``."""
    found: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict[str, list[Any]], name: str, **labels: str) -> float:
    return sum(v for have, v in found.get(name, []) if labels.items() <= have.items())


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as answer:
        body = await answer.json() if "json" in answer.content_type else await answer.text()
        return answer.status, body


async def test_healthz_and_metrics(fake: FakeSlack, pg: tuple[str, str]) -> None:
    url, name = pg
    port = free_port()
    settings = Settings(database_url=url, port=port, host="127.0.0.1", slack=SLACK,
                        categories=CONFIG.categories)
    credentials = Credentials(slack_bot_token=SecretStr("xoxb-run"),
                              slack_signing_secret=SecretStr(SECRET),
                              slack_api_url=fake.api_url.rstrip("/"))
    stop = asyncio.Event()
    running = asyncio.create_task(run_platforms(settings, CONFIG, credentials, stop))
    base = f"http://127.0.0.1:{port}"
    other = make_engine(url)  # another process's desk on the same database
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(BOUND):
                try:
                    status, report = await _get(http, f"{base}/healthz")
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            assert status == 200, report
            assert report == {"status": "ok", "database": "ok",
                              "platforms": {"slack": "connected"},
                              "oldest_pending_seconds": None, "parked_deliveries": 0}

            body = urlencode(command_body(ALICE, "new", fake.response_url()))
            headers = signed_headers(SECRET, body, "application/x-www-form-urlencoded")
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as a:
                assert a.status == 200
            headers["X-Slack-Signature"] = "v0=forged"
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as a:
                assert a.status == 401
            desk = Desk(CONFIG, SqlStores(other), [ROUTE])
            opened = await desk.open_ticket(Actor(UserRef("slack", TEAM, ALICE), "Alice"),
                                            NewTicket(category="general", subject="No payout",
                                                      description="The payout is missing."))
            assert opened.ticket.number == 1

            for _ in range(BOUND):  # the worker polls and delivers what the ticket queued
                _, text = await _get(http, f"{base}/metrics")
                found = samples(text)
                if value(found, "helpthread_deliveries_total", outcome="made") >= 1 \
                        and value(found, "helpthread_outbox_depth") == 0:
                    break
                await asyncio.sleep(0.05)
            async with other.connect() as conn:
                made = (await conn.execute(select(func.count()).where(
                    D.c.state == "done"))).scalar_one()
            assert made >= 2  # the ticket's card in the support and the team channel
            assert value(found, "helpthread_requests_total", platform="slack",
                         kind="command") == 1
            assert value(found, "helpthread_requests_total", platform="slack",
                         kind="refused") == 1
            assert value(found, "helpthread_acknowledgement_seconds_count",
                         platform="slack") == 2
            assert 0 < value(found, "helpthread_acknowledgement_seconds_sum") < 60
            assert value(found, "helpthread_deliveries_total", platform="slack",
                         outcome="made") == made
            assert value(found, "helpthread_deliveries_total", outcome="retried") == 0
            assert value(found, "helpthread_delivery_latency_seconds_count",
                         platform="slack") == made
            assert 0 <= value(found, "helpthread_delivery_latency_seconds_sum") < 60
            assert value(found, "helpthread_tickets", status="open") == 1
            assert "helpthread_outbox_depth" in {f.name for f in
                                                 text_string_to_metric_families(text)}
            assert value(found, "helpthread_outbox_depth") == 0
            assert value(found, "helpthread_timers_pending") == 2  # its two SLA warnings
            assert value(found, "helpthread_timers_overdue_seconds") == 0

            await drop_postgres(name)  # the database goes away under the running desk
            status, report = await _get(http, f"{base}/healthz")
            assert status == 503, report
            assert report["status"] == "unavailable"
            assert report["database"] == "unreachable"
            assert report["platforms"] == {"slack": "connected"}
            status, text = await _get(http, f"{base}/metrics")
            assert status == 200  # what the process knows, without the database's part
            assert value(samples(text), "helpthread_requests_total", kind="command") == 1
            assert "helpthread_tickets" not in samples(text)
    finally:
        await other.dispose()
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_socket_mode_envelopes_are_counted_and_the_socket_is_health(
        fake: FakeSlack, sqlite_url: str) -> None:
    port = free_port()
    settings = Settings(database_url=sqlite_url, port=port, host="127.0.0.1", slack=SLACK,
                        categories=CONFIG.categories)
    credentials = Credentials(slack_bot_token=SecretStr("xoxb-run"),
                              slack_app_token=SecretStr("xapp-1-run"),
                              slack_api_url=fake.api_url.rstrip("/"))
    stop = asyncio.Event()
    running = asyncio.create_task(run_platforms(settings, CONFIG, credentials, stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(BOUND):
                try:
                    status, report = await _get(http, f"{base}/healthz")
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            assert status == 200 and report["platforms"] == {"slack": "connected"}, report
            await fake.push("slash_commands", command_body(ALICE, "new", fake.response_url()))
            for _ in range(BOUND):  # counted just after the acknowledgement went out
                _, text = await _get(http, f"{base}/metrics")
                found = samples(text)
                if value(found, "helpthread_requests_total"):
                    break
                await asyncio.sleep(0.05)
            assert value(found, "helpthread_requests_total", platform="slack",
                         kind="command") == 1
            assert value(found, "helpthread_acknowledgement_seconds_count",
                         platform="slack") == 1
            assert value(found, "helpthread_acknowledgement_seconds_sum") > 0
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
