"""Issue 3, points 1–3: Slack gets its acknowledgement the moment a listener has called
``ack()``, not when the listener's work is done (process_before_response with
``context.Inflight``). That what a listener puts in ``ack()`` is what Slack receives
is shown by the form's ``response_action: errors`` (test_form.py)."""

from __future__ import annotations

import asyncio

from tests.platform.slack.harness import ALICE, Harness
from tests.support.slack_requests import command_body


async def test_a_command_is_acknowledged_while_its_form_is_still_being_opened(h: Harness):
    h.fake.hold("views.open")
    body = command_body(ALICE, "new", h.fake.response_url())
    answer = asyncio.create_task(h.slack.command(body))
    for _ in range(500):  # bounded: until the app has asked Slack to open the form
        if h.fake.of("views.open"):
            break
        await asyncio.sleep(0.01)
    assert h.fake.of("views.open"), "the listener reached views.open"
    status, body = await asyncio.wait_for(answer, 5)  # answered while views.open waits
    assert (status, body) == (200, "")
    assert h.platform.shared.inflight.count == 1, "the listener is still at work"
    h.fake.release("views.open")
    await h.settle()
    assert h.platform.shared.inflight.count == 0
    assert h.last_view()["title"]["text"] == "Open a ticket"

