"""Issue 3, point 1: `helpthread run` with Slack credentials serves `/slack/events` and
`/healthz` on HELPTHREAD_PORT, and every Web API call goes to SLACK_API_URL. Once
started, the start-up heap is kept out of the garbage collector's full passes."""

from __future__ import annotations

import asyncio
import gc
import socket
from urllib.parse import urlencode

import aiohttp
from pydantic import SecretStr

from bot.platforms import run_platforms
from bot.settings import Credentials, Settings
from tests.platform.slack.harness import ALICE, CONFIG, SECRET, SLACK
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command_body, signed_headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_run_serves_slack_events_and_healthz(fake: FakeSlack, sqlite_url: str):
    port = free_port()
    settings = Settings(database_url=sqlite_url, port=port, slack=SLACK,
                        categories=CONFIG.categories)
    credentials = Credentials(slack_bot_token=SecretStr("xoxb-run"),
                              slack_signing_secret=SecretStr(SECRET),
                              slack_api_url=fake.api_url.rstrip("/"))
    stop = asyncio.Event()
    running = asyncio.create_task(run_platforms(settings, CONFIG, credentials, stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):  # wait until it listens (bounded, not a timing assertion)
                try:
                    async with http.get(f"{base}/healthz") as answer:
                        assert answer.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            for _ in range(200):
                if gc.get_freeze_count():
                    break
                await asyncio.sleep(0.02)
            assert gc.get_freeze_count() > 10_000  # modules, SDKs, SQLAlchemy: frozen
            body = urlencode(command_body(ALICE, "new", fake.response_url()))
            headers = signed_headers(SECRET, body, "application/x-www-form-urlencoded")
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as answer:
                assert answer.status == 200
            headers["X-Slack-Signature"] = "v0=forged"
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as answer:
                assert answer.status == 401
        for _ in range(200):
            if fake.of("views.open"):
                break
            await asyncio.sleep(0.02)
        assert fake.of("views.open")
        assert fake.of("auth.test")
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert gc.get_freeze_count() == 0  # given back at shutdown
