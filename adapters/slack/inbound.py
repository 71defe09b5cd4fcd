"""What identifies a Slack message to the desk, and catch-up after downtime (issue 10,
points 2–3).

A thread message is keyed by its channel and ``ts`` (unique in a channel, Slack API:
"Retrieving individual messages"), its ``client_msg_id`` when the client set one, and
the ``event_id`` of the envelope it came in. Its ``ts`` is also its place in the thread.

Catch-up: on start (while live messages of a thread not yet read wait for it, a
little: ``core.ordering.Backlog``), for every thread of a ticket not closed (or closed within the
reopen window), ``conversations.replies`` is read after the newest message stored from
it (or, for a thread with none, after the newest event typed there / the opening) and
each message is stored in ``ts`` order, exactly as if its event had arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from typing import Any

from slack_sdk.errors import SlackApiError

from core.inbound import Receipt, ThreadCursor
from core.ordering import Backlog

log = logging.getLogger("helpthread.slack")

REPLIES_PAGE = 200  # conversations.replies ``limit`` (Slack: at most 1000, 200 advised)
REPLIES_PAGES_MAX = 50  # per thread and start: 10,000 messages, then the rest waits


class NotStored(Exception):
    """The desk could not store what Slack sent (its database is unavailable): Bolt
    answers 503 so that Slack sends it again."""


def ts_order(ts: str) -> int:
    """Slack's ``ts`` (``"1700000000.000100"``) as microseconds: its order in a thread."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def just_before(ts: str) -> str:
    """The ``ts`` one microsecond before ``ts``: ``oldest`` that includes ``ts``."""
    micros = ts_order(ts) - 1
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def message_receipt(channel: str, message: dict[str, Any], event_id: str | None = None, *,
                    in_order: bool = True) -> Receipt:
    """The keys of one message: ``slack:message:<channel>:<ts>`` first (the event's
    request key), then ``client_msg_id`` and the envelope's ``event_id`` if known.
    ``in_order`` False: stored ahead of its thread's backlog, it does not move the
    thread's catch-up cursor."""
    ts = str(message.get("ts"))
    keys = [f"slack:message:{channel}:{ts}"]
    if message.get("client_msg_id"):
        keys.append(f"slack:client_msg:{message['client_msg_id']}")
    if event_id:
        keys.append(f"slack:event:{event_id}")
    if not in_order:
        return Receipt(tuple(keys))
    return Receipt(tuple(keys), ts_order(ts), ts)


Store = Callable[..., Awaitable[bool]]
Turn = Callable[[Hashable], AbstractAsyncContextManager[None]]


class CatchUp:
    """Reads what was written in ticket threads while no process ran (``run``).
    ``store`` is ``Events.store``; ``turn`` is the per-thread turn live events take,
    so a thread's live messages wait while its backlog is stored before them."""

    def __init__(self, client: Any, team_id: str, store: Store, turn: Turn,
                 backlog: Backlog, missed: dict[str, str]) -> None:
        self.client = client
        self.team_id = team_id
        self.store = store
        self.turn = turn
        self.backlog = backlog
        self.missed = missed  # thread ts -> read from here too (``Events.missed``)

    async def run(self, cursors: list[ThreadCursor]) -> int:
        """Store every message written in ``cursors``' threads after each cursor, in
        ``ts`` order per thread; returns how many were stored. A thread Slack will not
        read (channel gone, app removed) is logged and skipped; ``NotStored`` (the desk
        is down) and Slack being unreachable are raised."""
        stored = 0
        self.backlog.expect([c.binding.thread for c in cursors])
        try:
            for cursor in cursors:
                try:
                    stored += await self._thread(cursor)
                except SlackApiError as err:
                    log.warning("slack.catch_up.skipped channel=%s thread=%s: %s",
                                cursor.binding.channel, cursor.binding.thread,
                                err.response.get("error"))
                self.backlog.done(cursor.binding.thread)
        finally:
            self.backlog.finish()
        return stored

    async def _thread(self, cursor: ThreadCursor) -> int:
        binding = cursor.binding
        channel, in_dm = binding.channel, binding.in_requester_dm
        if channel == "dm":  # a private ticket's thread: the requester's DM with the app
            if cursor.requester.platform != "slack":
                return 0
            opened = await self.client.conversations_open(users=cursor.requester.user_id)
            channel = str(opened["channel"]["id"])
        elif binding.watcher is not None:  # a watcher's own thread: their DM with the app
            opened = await self.client.conversations_open(users=binding.watcher.user_id)
            channel, in_dm = str(opened["channel"]["id"]), True
        async with self.turn((channel, binding.thread)):
            return await self._read(cursor, channel, in_dm)

    async def _read(self, cursor: ThreadCursor, channel: str, in_dm: bool) -> int:
        binding = cursor.binding
        oldest = cursor.message or f"{cursor.since.timestamp():.6f}"
        missed = self.missed.get(str(binding.thread))
        if missed is not None and ts_order(missed) < ts_order(oldest):
            oldest = missed
        stored = 0
        page: str | None = None
        for _ in range(REPLIES_PAGES_MAX):
            answer = await self.client.conversations_replies(
                channel=channel, ts=binding.thread, oldest=oldest, inclusive=False,
                limit=REPLIES_PAGE, cursor=page)
            replies = [m for m in answer.get("messages") or []
                       if isinstance(m, dict) and m.get("ts") != binding.thread
                       and ts_order(str(m.get("ts"))) > ts_order(oldest)]
            for message in sorted(replies, key=lambda m: ts_order(str(m["ts"]))):
                team = str(message.get("user_team") or message.get("team") or self.team_id)
                if await self.store(team, channel, {**message, "channel": channel},
                                    in_dm=in_dm or channel.startswith("D"), quiet=True):
                    stored += 1
            page = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not answer.get("has_more") or not page:
                break
        if missed is not None and self.missed.get(str(binding.thread)) == missed:
            del self.missed[str(binding.thread)]
        return stored
