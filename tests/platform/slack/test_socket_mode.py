"""Issue 3, point 1: with SLACK_APP_TOKEN the same story runs over Socket Mode — the
fake Slack pushes envelopes over a WebSocket and reads the app's acknowledgements."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest

from adapters.slack import platform as slack_platform
from adapters.slack.platform import SlackConfigError, SlackPlatform
from adapters.slack.plugin import PLUGIN
from bot.runtime import build
from bot.settings import Settings
from core.desk import Desk
from core.identity import Actor, UserRef
from tests.platform.slack.harness import (
    AGENT,
    ALICE,
    CONFIG,
    SLACK,
    SUPPORT,
    TEAM_CHANNEL,
    Harness,
    frozen_now,
    slack_on,
)
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.memory import MemoryStores
from tests.support.slack_requests import (
    button_press,
    by_label,
    command_body,
    event_body,
    message_event,
    view_action,
    view_submission,
)


@pytest.fixture
async def sh(fake: FakeSlack, sqlite_url: str) -> AsyncIterator[Harness]:
    runtime = await build(Settings(database_url=sqlite_url), CONFIG,
                          [PLUGIN.route(SLACK, CONFIG.categories)], clock=frozen_now())
    platform = await slack_on(runtime.desk, fake.api_url, app_token="xapp-1-test")
    assert platform.http_routes() == [], "Socket Mode serves no HTTP route"
    runtime.worker.serve(platform.outbound)
    await platform.start()
    try:
        yield Harness(fake, platform, runtime, runtime.worker.clock, None)  # type: ignore
    finally:
        await platform.stop()
        await runtime.close()


async def test_socket_mode_runs_the_same_story(sh: Harness):
    fake = sh.fake
    assert fake.of("apps.connections.open"), "the WebSocket URL came from SLACK_API_URL"

    ack = await fake.push("slash_commands", command_body(ALICE, "new", fake.response_url()))
    await sh.settle()
    assert "payload" not in ack or not ack["payload"]
    form = sh.last_view()
    await fake.push("interactive", view_action(form, ALICE, "Category", "General question"))
    await sh.settle()
    form = sh.last_view()

    bad = by_label(form, {"Category": "General question", "Subject": "", "Description": "x"})
    ack = await fake.push("interactive", view_submission(form, ALICE, bad))
    assert ack["payload"]["response_action"] == "errors"
    good = by_label(form, {"Category": "General question", "Subject": "Socket ticket",
                           "Description": "Over the WebSocket",
                           "Sharing": ["Share with my organisation"]})
    ack = await fake.push("interactive", view_submission(form, ALICE, good))
    assert not ack.get("payload")
    await sh.settle()
    [card] = sh.cards(SUPPORT)
    [team_card] = sh.cards(TEAM_CHANNEL)
    assert "Socket ticket" in str(card["blocks"]) and len(sh.dms(ALICE)) == 1

    event = event_body(message_event(ALICE, SUPPORT, "via socket", thread_ts=card["ts"]),
                       "Ev0SOCKET")
    for retry in (0, 1, 2):
        await fake.push("events_api", event, retry_attempt=retry)
        await sh.settle()
    assert [p["text"] for p in sh.thread(team_card)] == ["via socket"]

    await fake.push("interactive", button_press(team_card, AGENT, "Claim",
                                                fake.response_url(), TEAM_CHANNEL))
    await sh.settle()
    assert "Ada Agent" in str(sh.current(team_card)["blocks"])
    assert len(fake.acks) >= 8, "every envelope was acknowledged"


async def _socket_platform(fake: FakeSlack) -> SlackPlatform:
    return await slack_on(Desk(CONFIG, MemoryStores(), []), fake.api_url,
                          app_token="xapp-1-test")


async def test_an_app_token_slack_refuses_is_named_at_start(fake: FakeSlack):
    platform = await _socket_platform(fake)
    fake.fail("apps.connections.open", error="invalid_auth")
    try:
        with pytest.raises(SlackConfigError, match=r"SLACK_APP_TOKEN.*invalid_auth"):
            await platform.start()
    finally:
        await platform.stop()


async def test_a_websocket_that_cannot_be_reached_fails_the_start_in_bounded_time(
        fake: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    monkeypatch.setattr(slack_platform, "SOCKET_CONNECT_SECONDS", 0.5)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        fake.socket_url = f"ws://127.0.0.1:{closed.getsockname()[1]}/link"  # nobody listens
    platform = await _socket_platform(fake)
    try:
        with pytest.raises(RuntimeError, match=r"could not be reached.*Failed to connect") \
                as failed:
            await platform.start()
        assert "Retrying" not in str(failed.value), "it is not retrying: it stops"
    finally:
        await platform.stop()
    assert not [r for r in caplog.records if r.name.startswith("slack_sdk.socket_mode")
                and r.levelno >= logging.ERROR], "said once, in the error, not per retry"


async def test_over_socket_mode_a_message_is_stored_before_its_ack(sh: Harness):
    """Issue 10, point 1: Bolt's Socket Mode handler sends the ack once the listener has
    returned, which is once the message is stored."""
    fake = sh.fake
    await fake.push("slash_commands", command_body(ALICE, "new", fake.response_url()))
    await sh.settle()
    await fake.push("interactive", view_action(sh.last_view(), ALICE, "Category", "general"))
    await sh.settle()
    form = sh.last_view()
    await fake.push("interactive", view_submission(form, ALICE, by_label(form, {
        "Category": "general", "Subject": "Socket ticket", "Description": "Via socket",
        "Priority": "Normal", "Sharing": ["Share with my organisation"]})))
    await sh.settle()
    [card] = sh.cards(SUPPORT)
    message = fake.write(ALICE, SUPPORT, card["ts"], "stored, then acknowledged")
    ack = await fake.push("events_api", event_body(message, "Ev0STORED"))
    assert ack["envelope_id"]
    agent = Actor(UserRef("slack", TEAM, AGENT), "Ada Agent")
    events = (await sh.runtime.desk.show(agent, 1)).events
    assert events[-1].text == "stored, then acknowledged", "stored when the ack came"
