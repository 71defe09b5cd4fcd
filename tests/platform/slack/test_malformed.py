"""Issue 10, point 7: a signed payload of an unexpected shape — a list or a number where
Slack sends an object or a text, a key missing — is refused with a 400 naming what is
wrong (or, where the shape is right, the form's own field error). Never a 500, never a
traceback, nothing changed. Sent signed, through the real Bolt app over HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from core.identity import Actor, UserRef
from tests.platform.slack.harness import AGENT, ALICE, SUPPORT, TEAM_CHANNEL, Harness
from tests.support.fake_slack import TEAM
from tests.support.slack_requests import (
    button_press,
    by_label,
    event_body,
    message_event,
    view_submission,
)

Change = Callable[[dict[str, Any]], None]


def _first_input(payload: dict[str, Any]) -> dict[str, Any]:
    values = payload["view"]["state"]["values"]
    block = next(iter(values.values()))
    return dict(next(iter(block.values())))


FORM_CASES: dict[str, tuple[Change, str]] = {
    "values a list": (lambda p: p["view"]["state"].update(values=[1, 2]),
                      "view.state.values is a list, not an object"),
    "a block a number": (lambda p: p["view"]["state"]["values"].update(
        {next(iter(p["view"]["state"]["values"])): 5}), "is a number, not an object"),
    "a value a list": (lambda p: next(iter(next(iter(
        p["view"]["state"]["values"].values())).values())).update(value=["a"]),
        "value is a list, not a text"),
    "an option a number": (lambda p: next(iter(next(iter(
        p["view"]["state"]["values"].values())).values())).update(selected_option=7),
        "selected_option is a number, not an object"),
    "metadata a number": (lambda p: p["view"].update(private_metadata=5),
                          "view.private_metadata is a number, not a text"),
    "metadata a list": (lambda p: p["view"].update(private_metadata="[1,2]"),
                        "view.private_metadata holds a list, not an object"),
    "metadata no JSON": (lambda p: p["view"].update(private_metadata="{"),
                         "view.private_metadata is not JSON"),
    "the user a text": (lambda p: p.update(user="U0ALICE"), "user is a text, not an object"),
    "the view a list": (lambda p: p.update(view=[]), "view is a list, not an object"),
}


@pytest.fixture
def no_errors(caplog: pytest.LogCaptureFixture) -> Callable[[], None]:
    def check() -> None:
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], errors
        assert not any(r.exc_info for r in caplog.records), "no traceback logged"
    return check


@pytest.mark.parametrize("case", list(FORM_CASES))
async def test_a_form_of_an_unexpected_shape_is_refused_by_name(
        h: Harness, case: str, no_errors: Callable[[], None]) -> None:
    await h.command(ALICE, "new")
    form = h.last_view()
    payload = view_submission(form, ALICE, by_label(form, {"Subject": "Cannot log in"}))
    change, named = FORM_CASES[case]
    change(payload)
    status, body = await h.slack.interact(payload)
    await h.settle()
    assert status == 400 and named in json.loads(body)["error"], body
    assert h.cards(SUPPORT) == [], "nothing opened"
    no_errors()


async def test_a_form_missing_its_state_gets_the_forms_own_error(
        h: Harness, no_errors: Callable[[], None]) -> None:
    await h.command(ALICE, "new")
    form = h.last_view()
    payload = view_submission(form, ALICE, {})
    payload["view"].pop("state")
    status, body = await h.slack.interact(payload)
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    no_errors()


EVENT_CASES: dict[str, tuple[Change, str]] = {
    "the event a list": (lambda b: b.update(event=[1]), "event is a list, not an object"),
    "the text a number": (lambda b: b["event"].update(text=5), "event.text is a number"),
    "the ts a list": (lambda b: b["event"].update(ts=["1.2"]), "event.ts is a list"),
    "the ts no time": (lambda b: b["event"].update(ts="abc"), "event.ts is a text, not a "
                       "Slack timestamp"),
    "the ts nan": (lambda b: b["event"].update(ts="nan"), "event.ts is a text, not a Slack"),
    "the ts missing": (lambda b: b["event"].pop("ts"), "event.ts is missing"),
    "the thread a number": (lambda b: b["event"].update(thread_ts=5),
                            "event.thread_ts is a number"),
    "files a text": (lambda b: b["event"].update(files="x"), "event.files is a text"),
    "a file a text": (lambda b: b["event"].update(files=["x"]), "event.files[0] is a text"),
    "blocks of numbers": (lambda b: b["event"].update(blocks=[5]), "event.blocks[0] is"),
    "the user a list": (lambda b: b["event"].update(user=["U0ALICE"]), "event.user is a list"),
    "the type a number": (lambda b: b.update(type=5), "type is a number, not a text"),
}


@pytest.mark.parametrize("case", list(EVENT_CASES))
async def test_an_event_of_an_unexpected_shape_is_refused_by_name(
        h: Harness, case: str, no_errors: Callable[[], None]) -> None:
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    body = event_body(message_event(ALICE, SUPPORT, "hello", thread_ts=card["ts"]))
    change, named = EVENT_CASES[case]
    change(body)
    status, answer = await h.slack.event(body)
    await h.settle()
    assert status == 400 and named in json.loads(answer)["error"], answer
    assert h.thread(h.cards(TEAM_CHANNEL)[0]) == [], "nothing stored or mirrored"
    no_errors()


@pytest.mark.parametrize("actions", [5, ["claim"], [{"action_id": ["x"]}], []])
async def test_a_button_press_of_an_unexpected_shape_is_refused_by_name(
        h: Harness, actions: Any, no_errors: Callable[[], None]) -> None:
    await h.open_ticket()
    [card] = h.cards(TEAM_CHANNEL)
    press = button_press(card, AGENT, "Claim", h.fake.response_url(), TEAM_CHANNEL)
    press["actions"] = actions
    status, answer = await h.slack.interact(press)
    await h.settle()
    assert status == 400 and "actions" in json.loads(answer)["error"], answer
    assert (await h.runtime.desk.show(_agent(h), 1)).ticket.assignee is None
    no_errors()


@pytest.mark.parametrize("payload", [[1, 2], 5, "text", None])
async def test_a_payload_that_is_no_object_is_refused(
        h: Harness, payload: Any, no_errors: Callable[[], None]) -> None:
    status, _ = await h.slack.interact(payload)
    assert status == 400
    no_errors()


def _agent(h: Harness) -> Actor:
    return Actor(UserRef("slack", TEAM, AGENT), "Ada Agent")
