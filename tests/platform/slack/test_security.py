"""Issue 3, point 8: Bolt verifies every request's signature."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from tests.platform.slack.harness import ALICE, Harness
from tests.support.slack_requests import command_body, event_body, message_event, shortcut


async def test_a_bad_signature_gets_401_and_does_nothing(h: Harness):
    calls = len(h.fake.calls)
    form = urlencode(command_body(ALICE, "new", h.fake.response_url()))
    status, _ = await h.slack.post(form, "application/x-www-form-urlencoded",
                                   secret="not-the-secret")
    assert status == 401
    status, _ = await h.slack.post(json.dumps(event_body(message_event(
        ALICE, "C0SUPPORT", "hi", thread_ts="1.2"))), "application/json", secret="wrong")
    assert status == 401
    status, _ = await h.slack.post(urlencode({"payload": json.dumps(shortcut(ALICE, "x"))}),
                                   "application/x-www-form-urlencoded", secret="wrong")
    assert status == 401
    await h.settle()
    assert len(h.fake.calls) == calls, "no Web API call was made"


async def test_a_stale_signature_gets_401(h: Harness):
    form = urlencode(command_body(ALICE, "new", h.fake.response_url()))
    status, _ = await h.slack.post(form, "application/x-www-form-urlencoded",
                                   timestamp=int(time.time()) - 10 * 60)
    assert status == 401


async def test_a_signed_request_is_accepted(h: Harness):
    status, _ = await h.command(ALICE, "help")
    assert status == 200


async def test_unsigned_garbage_is_refused_before_it_is_read(h: Harness):
    assert h.slack.session is not None
    for body, content_type in [("{bad", "application/json"), ("[1]", "application/json"),
                               ("payload=%7B", "application/x-www-form-urlencoded"),
                               ("", "application/x-www-form-urlencoded")]:
        async with h.slack.session.post(h.slack.url, data=body.encode(),
                                        headers={"Content-Type": content_type}) as answer:
            assert answer.status == 401, body
    async with h.slack.session.post(h.slack.url, data=b"\xff\xfe",
                                    headers={"Content-Type": "application/json"}) as answer:
        assert answer.status == 401
    form = urlencode(command_body(ALICE, "new", h.fake.response_url()))
    status, _ = await h.slack.post(form, "application/x-www-form-urlencoded",
                                   extra={"X-Slack-Request-Timestamp": "abc"})
    assert status == 401


async def test_signed_bodies_that_are_not_slacks_get_400_and_the_app_goes_on(h: Harness):
    for body, content_type in [("[1]", "application/json"), ("null", "application/json"),
                               ("{bad", "application/json"),
                               ("payload=%7B", "application/x-www-form-urlencoded")]:
        status, _ = await h.slack.post(body, content_type)
        assert status in (400, 404), (body, status)
    status, _ = await h.command(ALICE, "help")
    assert status == 200 and "/ticket" in h.told()[-1]


async def test_a_payload_slack_would_not_send_is_refused_400_and_the_app_goes_on(h: Harness):
    await h.command(ALICE, "new")
    form = h.last_view()
    payload = {"type": "view_submission", "team": {"id": "T0TEST"},
               "user": {"id": ALICE, "team_id": "T0TEST"},
               "view": {**form, "state": {"values": {"subject": "not a block"}}}}
    status, body = await h.slack.interact(payload)  # signed, but no state Slack would send
    assert status == 400 and "view.state.values.subject is a text" in body  # issue 10, pt 7
    await h.settle()
    assert await h.runtime.desk.list_tickets(await h.platform.shared.actor(
        {"user_id": ALICE}), "all") == []
    status, _ = await h.command(ALICE, "help")
    assert status == 200 and "/ticket" in h.told()[-1]
