"""Fixtures: a fake Slack, our Slack platform built from settings as ``helpthread run``
builds it, served over HTTP on loopback, and a signed-request client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.slack.plugin import PLUGIN
from bot.runtime import build
from bot.settings import Settings
from core.routing import PlatformRoute
from tests.platform.slack.harness import (
    CONFIG,
    GROUP_AGENT,
    NAMES,
    SECRET,
    SLACK,
    Harness,
    frozen_now,
    slack_on,
)
from tests.support.fake_slack import FakeSlack
from tests.support.people import MAIL_ROUTE
from tests.support.slack_requests import SignedSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(users=dict(NAMES), groups={"S0AGENTS": [GROUP_AGENT]})
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


@pytest.fixture
async def h(fake: FakeSlack, sqlite_url: str) -> AsyncIterator[Harness]:
    async with harness(fake, sqlite_url, PLUGIN.route(SLACK, CONFIG.categories)) as running:
        yield running


@contextlib.asynccontextmanager
async def harness(fake: FakeSlack, sqlite_url: str, route: PlatformRoute
                  ) -> AsyncIterator[Harness]:
    """The desk on ``route``, its Slack platform against ``fake``, served over HTTP."""
    clock = frozen_now()
    runtime = await build(Settings(database_url=sqlite_url), CONFIG, [route, MAIL_ROUTE],
                            clock=clock)  # [email] set up: addresses may be cc'd
    platform = await slack_on(runtime.desk, fake.api_url)
    runtime.worker.serve(platform.outbound)
    http = web.Application()
    http.add_routes(platform.http_routes())
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with SignedSlack(f"http://127.0.0.1:{port}/slack/events", SECRET) as signed:
        harness = Harness(fake, platform, runtime, clock, signed, runner)
        try:
            yield harness
        finally:
            await platform.stop()
            await runner.cleanup()
            await runtime.close()
