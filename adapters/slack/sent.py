"""Posted once: every message a delivery posts carries the delivery's id as Slack message
``metadata``, so a delivery whose earlier attempt may have reached Slack (the process
died after posting, or the answer was lost) looks for its message before posting again.

Slack shows ``metadata`` only to ``conversations.history`` / ``conversations.replies``
calls with ``include_all_metadata=true``. The search is bounded: the newest
``HISTORY_LOOKBACK`` top-level messages of a channel, the first ``REPLY_PAGES`` pages of
a thread. A message older than that, or deleted since, is not found and is posted again.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

EVENT_TYPE = "helpthread_delivery"
HISTORY_LOOKBACK = 100  # newest top-level messages of a channel searched for a card or DM
REPLY_PAGE = 200  # replies per conversations.replies page (Slack's advised maximum)
REPLY_PAGES = 5  # a thread of up to 1,000 replies is searched whole


def metadata(delivery: int | None, part: str) -> dict[str, Any] | None:
    """The ``metadata`` of a message posted for ``delivery``; ``part`` tells apart the
    messages of one delivery (``card``, ``post``). None without a delivery id."""
    if delivery is None:
        return None
    return {"event_type": EVENT_TYPE, "event_payload": {"delivery": delivery, "part": part}}


def _carries(message: dict[str, Any], delivery: int, part: str) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return bool(meta.get("event_type") == EVENT_TYPE and payload.get("delivery") == delivery
                and payload.get("part") == part)


async def find_posted(client: AsyncWebClient, channel: str, delivery: int, part: str,
                      thread: str | None = None) -> str | None:
    """The ``ts`` of the message ``delivery`` posted as ``part`` in ``channel`` (under
    ``thread`` when given), or None when none is found within the bounds. Raises
    ``SlackApiError`` as the Web API does (the caller decides what a refusal means)."""
    if thread is None:
        answer = await client.conversations_history(channel=channel, limit=HISTORY_LOOKBACK,
                                                    include_all_metadata=True)
        return _ts_in(answer.get("messages") or [], delivery, part)
    cursor: str | None = None
    for _ in range(REPLY_PAGES):
        answer = await client.conversations_replies(channel=channel, ts=thread,
                                                    limit=REPLY_PAGE, cursor=cursor,
                                                    include_all_metadata=True)
        found = _ts_in(answer.get("messages") or [], delivery, part)
        if found is not None:
            return found
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not answer.get("has_more") or cursor is None:
            return None
    return None


def _ts_in(messages: list[dict[str, Any]], delivery: int, part: str) -> str | None:
    for message in messages:
        if _carries(message, delivery, part):
            return str(message["ts"])
    return None
