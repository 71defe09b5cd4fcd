"""The shapes of Slack's payloads that the listeners read, checked before any listener
runs (issue 10, point 7): a signed payload of an unexpected shape — a list or a number
where an object or a text should be — is refused with a 400 naming what is wrong,
never a 500 or a traceback.

Only what our listeners read is described; anything else Slack sends passes. Every
value may be absent or null (Slack sends ``"value": null`` for an empty input).
"""

from __future__ import annotations

import json
import re
from typing import Any

# A type (str, int, dict, list), a dict of key → Shape, ("list", Shape), ("map", Shape),
# ("items", Shape): a list of at least one; TS: a Slack timestamp ("1700000000.000100");
# METADATA: a text that holds a JSON object (our forms' private_metadata), or nothing.
Shape = Any

TEXT: Shape = str
TS: Shape = ("ts", None)
METADATA: Shape = ("metadata", None)
TS_FORMAT = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}", re.ASCII)
OPTION: Shape = {"value": TEXT, "text": dict}
USER: Shape = {"id": TEXT, "team_id": TEXT, "name": TEXT, "username": TEXT}
FILE: Shape = {"id": TEXT, "name": TEXT, "title": TEXT, "permalink": TEXT,
               "url_private": TEXT}
MESSAGE: Shape = {"type": TEXT, "subtype": TEXT, "user": TEXT, "text": TEXT, "ts": TS,
                  "thread_ts": TS, "bot_id": TEXT, "user_team": TEXT, "team": TEXT,
                  "client_msg_id": TEXT, "channel": TEXT, "channel_type": TEXT,
                  "files": ("list", FILE), "attachments": ("list", dict),
                  "blocks": ("list", dict)}
EVENT: Shape = {**MESSAGE, "message": MESSAGE, "previous_message": MESSAGE, "tab": TEXT,
                "event_ts": TEXT}
INPUT: Shape = {"type": TEXT, "value": TEXT, "selected_option": OPTION,
                "selected_options": ("list", OPTION), "selected_user": TEXT,
                "selected_users": ("list", TEXT), "selected_date": TEXT}
VIEW: Shape = {"id": TEXT, "callback_id": TEXT, "private_metadata": METADATA, "hash": TEXT,
               "state": {"values": ("map", ("map", INPUT))}, "blocks": ("list", dict)}
ACTION: Shape = {"action_id": TEXT, "block_id": TEXT, "value": TEXT, "action_ts": TEXT,
                 "selected_option": OPTION}
PAYLOADS: dict[str, Shape] = {
    "event_callback": {"event": EVENT, "event_id": TEXT, "team_id": TEXT},
    "view_submission": {"user": USER, "view": VIEW, "team": {"id": TEXT}},
    "block_actions": {"user": USER, "actions": ("items", ACTION), "view": VIEW,
                      "message": MESSAGE, "channel": {"id": TEXT}, "team": {"id": TEXT},
                      "trigger_id": TEXT, "response_url": TEXT},
    "shortcut": {"user": USER, "trigger_id": TEXT, "team": {"id": TEXT}},
    "message_action": {"user": USER, "message": MESSAGE, "channel": {"id": TEXT},
                       "trigger_id": TEXT, "team": {"id": TEXT}},
}
NAMES = {str: "a text", int: "a number", dict: "an object", list: "a list"}


def problem(body: Any) -> str | None:
    """What is wrong with ``body`` (a parsed Slack payload), e.g. ``view.state.values.
    b1.a1.value is a list, not a text``; None when what we read has the shapes Slack
    documents. A slash command (form fields, always texts) is never wrong."""
    if not isinstance(body, dict):
        return f"the payload is {_kind(body)}, not an object"
    kind = body.get("type")
    if "command" in body or kind is None:
        return None
    if not isinstance(kind, str):
        return f"type is {_kind(kind)}, not a text"
    shape = PAYLOADS.get(kind)
    found = _check(body, shape, "") if shape is not None else None
    event = body.get("event")
    if found is None and kind == "event_callback" and isinstance(event, dict) \
            and event.get("type") == "message" and event.get("ts") is None:
        return "event.ts is missing"  # a message is known by its ts: nothing to store
    return found


def _check(value: Any, shape: Shape, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return _wrong(path, value, dict)
        for key, inner in shape.items():
            found = _check(value.get(key), inner, f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if shape == TS:
        if isinstance(value, str) and TS_FORMAT.fullmatch(value):
            return None
        return f"{path} is {_kind(value)}, not a Slack timestamp (like 1700000000.000100)"
    if shape == METADATA:
        return _metadata(path, value)
    if isinstance(shape, tuple):
        container, inner = shape
        if container == "items" and value == []:
            return f"{path} is an empty list"
        if container in ("list", "items"):
            if not isinstance(value, list):
                return _wrong(path, value, list)
            items: list[tuple[str, Any]] = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            if not isinstance(value, dict):
                return _wrong(path, value, dict)
            items = [(f"{path}.{k}", v) for k, v in value.items()]
        for where, item in items:
            found = _check(item, inner, where)
            if found:
                return found
        return None
    if shape is str and isinstance(value, str):
        return None
    if shape is not str and isinstance(value, shape) and not isinstance(value, bool):
        return None
    return _wrong(path, value, shape)


def _metadata(path: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return _wrong(path, value, str)
    if not value:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return f"{path} is not JSON"
    return None if isinstance(decoded, dict) else f"{path} holds {_kind(decoded)}, " \
        "not an object"


def _wrong(path: str, value: Any, wanted: type) -> str:
    return f"{path} is {_kind(value)}, not {NAMES.get(wanted, wanted.__name__)}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a true/false value"
    return NAMES.get(type(value), f"a {type(value).__name__}")
