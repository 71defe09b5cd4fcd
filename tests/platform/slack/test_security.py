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
