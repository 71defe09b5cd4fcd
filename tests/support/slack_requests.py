"""Requests as Slack sends them: bodies shaped like Slack's, signed like Slack signs.

Signature (Slack docs, "Verifying requests from Slack"): ``v0=`` + HMAC-SHA256 of
``v0:{timestamp}:{raw body}`` with the signing secret, in ``X-Slack-Signature``,
with ``X-Slack-Request-Timestamp``. Slash commands are form-encoded, interactive
payloads are ``payload=<url-encoded JSON>``, events are JSON.

Form submissions and button presses are built from what the app sent (the view of
``views.open``/``views.update``, the blocks of ``chat.postMessage``): callback ids,
block ids and action ids are read from there, never written here.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.support.fake_slack import TEAM


def signed_headers(secret: str, body: str, content_type: str,
                   timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            "Content-Type": content_type}


# ---- bodies ------------------------------------------------------------------------


def command_body(user: str, text: str, response_url: str, *, channel: str = "C0GENERAL",
                 name: str | None = None) -> dict[str, str]:
    return {"token": "legacy", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": name or user.lower(),
            "command": "/ticket", "text": text, "api_app_id": "A0",
            "response_url": response_url, "trigger_id": f"trig-{uuid.uuid4().hex[:8]}"}


def _user(user: str) -> dict[str, str]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}


def input_state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` as Slack fills it: for each input block named in ``values``
    (by block id), the element's own action id and type, with the value typed or chosen.
    A value for a block the view does not have is sent anyway (a forged payload)."""
    state: dict[str, dict[str, Any]] = {}
    elements = {b["block_id"]: b["element"] for b in view.get("blocks", [])
                if b.get("type") == "input"}
    for block_id, value in values.items():
        element = elements.get(block_id, {"type": "plain_text_input", "action_id": "value"})
        kind = element["type"]
        if kind == "static_select":
            option = next((o for o in element["options"] if o["value"] == value), None)
            picked = option or {"text": {"type": "plain_text", "text": str(value)},
                                "value": value}
            entry: dict[str, Any] = {"type": kind, "selected_option": picked}
        elif kind == "checkboxes":
            chosen = [o for o in element["options"] if o["value"] in (value or [])]
            entry = {"type": kind, "selected_options": chosen}
        elif kind == "multi_users_select":
            entry = {"type": kind, "selected_users": list(value or [])}
        else:
            entry = {"type": kind, "value": value}
        state[block_id] = {element["action_id"]: entry}
    return {"values": state}


def by_label(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Values keyed by the input's label (as a person reads the form) → keyed by the
    block id the view gives that input. Selects and checkboxes take the option's text."""
    blocks = {b["label"]["text"]: b for b in view.get("blocks", []) if b.get("type") == "input"}
    out: dict[str, Any] = {}
    for label, value in values.items():
        block = blocks.get(label)
        assert block is not None, f"no input labelled {label!r}; the form has {list(blocks)}"
        element = block["element"]
        if element["type"] == "static_select":
            option = next((o for o in element["options"]
                           if value in (o["text"]["text"], o["value"])), None)
            value = option["value"] if option else value
        elif element["type"] == "checkboxes":
            value = [o["value"] for o in element["options"] if o["text"]["text"] in value]
        out[block["block_id"]] = value
    return out


def view_submission(view: dict[str, Any], user: str, values: dict[str, Any]) -> dict[str, Any]:
    """What Slack posts when ``user`` submits ``view`` (as the app sent it) with
    ``values`` by block id."""
    submitted = {**view, "state": input_state(view, values)}
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "test"},
            "user": _user(user), "api_app_id": "A0", "token": "legacy",
            "trigger_id": f"trig-{uuid.uuid4().hex[:8]}", "view": submitted,
            "response_urls": []}


def view_action(view: dict[str, Any], user: str, label: str, choice: str,
                values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``block_actions`` payload from a select that dispatches actions in a modal
    (``dispatch_action``), e.g. choosing a category: the input labelled ``label``, the
    option whose text (or value) is ``choice``."""
    block = next(b for b in view["blocks"]
                 if b.get("type") == "input" and b["label"]["text"] == label)
    assert block.get("dispatch_action"), f"{label!r} does not dispatch actions"
    block_id = block["block_id"]
    element = block["element"]
    option = next(o for o in element["options"] if choice in (o["text"]["text"], o["value"]))
    value = option["value"]
    state = input_state(view, {**(values or {}), block_id: value})
    return {"type": "block_actions", "team": {"id": TEAM, "domain": "test"},
            "user": _user(user), "api_app_id": "A0", "token": "legacy",
            "trigger_id": f"trig-{uuid.uuid4().hex[:8]}",
            "container": {"type": "view", "view_id": view["id"]},
            "view": {**view, "state": state},
            "actions": [{"type": element["type"], "action_id": element["action_id"],
                         "block_id": block_id, "selected_option": option,
                         "action_ts": str(time.time())}]}


def find_element(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
        accessory = block.get("accessory")
        if accessory and accessory.get("action_id") == action_id:
            return accessory
    raise AssertionError(f"no element {action_id!r} in {json.dumps(blocks)[:400]}")


def action_ids(blocks: list[dict[str, Any]]) -> set[str]:
    return {e["action_id"] for b in blocks for e in b.get("elements", []) if "action_id" in e}


def button_press(message: dict[str, Any], user: str, label: str, response_url: str,
                 channel: str, *, option: str | None = None) -> dict[str, Any]:
    """``user`` presses the control labelled ``label`` (button text, or a select's
    placeholder with ``option`` the chosen value's suffix) on a message the app posted
    (its ``chat.postMessage``/``chat.update`` arguments and ``ts``)."""
    element = None
    for block in message.get("blocks") or []:
        if block.get("type") != "actions":
            continue
        for candidate in block.get("elements", []):
            text = (candidate.get("text") or candidate.get("placeholder") or {}).get("text")
            if text == label:
                element = candidate
                block_id = block.get("block_id", "b")
    assert element is not None, f"no {label!r} control on the message"
    action: dict[str, Any] = {"type": element["type"], "action_id": element["action_id"],
                              "block_id": block_id, "action_ts": str(time.time())}
    if element["type"] == "button":
        action.update(value=element.get("value"), text=element["text"])
    else:
        picked = next(o for o in element["options"] if o["value"].endswith(f":{option}"))
        action["selected_option"] = picked
    return {"type": "block_actions", "team": {"id": TEAM, "domain": "test"},
            "user": _user(user), "api_app_id": "A0", "token": "legacy",
            "trigger_id": f"trig-{uuid.uuid4().hex[:8]}", "response_url": response_url,
            "container": {"type": "message", "message_ts": message.get("ts"),
                          "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "c"},
            "message": {"type": "message", "ts": message.get("ts"),
                        "blocks": message.get("blocks")},
            "actions": [action]}


def shortcut(user: str, callback_id: str) -> dict[str, Any]:
    return {"type": "shortcut", "callback_id": callback_id, "team": {"id": TEAM},
            "user": _user(user), "token": "legacy", "action_ts": str(time.time()),
            "trigger_id": f"trig-{uuid.uuid4().hex[:8]}"}


def message_shortcut(user: str, callback_id: str, channel: str, message: dict[str, Any],
                     response_url: str) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": callback_id,
            "team": {"id": TEAM, "domain": "test"}, "user": _user(user), "token": "legacy",
            "channel": {"id": channel, "name": "general"}, "message": message,
            "message_ts": message["ts"], "response_url": response_url,
            "trigger_id": f"trig-{uuid.uuid4().hex[:8]}", "action_ts": str(time.time())}


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "A0", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True,
                                "is_enterprise_install": False}]}


def message_event(user: str, channel: str, text: str, *, thread_ts: str | None,
                  channel_type: str = "channel", ts: str | None = None,
                  **extra: Any) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "channel": channel,
             "channel_type": channel_type, "team": TEAM,
             "ts": ts or f"{time.time():.6f}", "event_ts": f"{time.time():.6f}", **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


# ---- sending -----------------------------------------------------------------------


class SignedSlack:
    """Posts signed requests to the app's ``/slack/events`` URL."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SignedSlack:
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    async def post(self, body: str, content_type: str, *, secret: str | None = None,
                   timestamp: int | None = None, extra: dict[str, str] | None = None
                   ) -> tuple[int, str]:
        assert self.session is not None
        headers = signed_headers(secret or self.secret, body, content_type, timestamp)
        headers.update(extra or {})
        async with self.session.post(self.url, data=body.encode(), headers=headers) as answer:
            return answer.status, await answer.text()

    async def command(self, fields: dict[str, str]) -> tuple[int, str]:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post(urlencode({"payload": json.dumps(payload)}),
                               "application/x-www-form-urlencoded")

    async def event(self, body: dict[str, Any], *, retry: int | None = None
                    ) -> tuple[int, str]:
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry else None
        return await self.post(json.dumps(body), "application/json", extra=extra)
