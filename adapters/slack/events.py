"""Events API: thread messages become comments or notes; the App Home tab (PRODUCT.md §5).

- A message in a ticket thread (a channel, the requester's DM: ``message.im``, or a
  watcher's own thread in their DM: ``core.routing.watcher_thread``) is a public
  comment; in a team thread it is an internal note. The desk decides what
  reaches where. Files shared with it are recorded as attachments (name, size,
  permalink).
- Acknowledged means stored (issue 10, point 1): the listener stores the message
  before it returns, and Bolt (``process_before_response=True``) answers Slack only
  then. When the desk cannot store it, Slack gets a 503 (``NotStored``) and sends it
  again; the author is also told. Name and group lookups on the way are bounded and
  never fail the store (``people``).
- A message is known by its channel and ``ts`` (and ``client_msg_id``, and the
  envelope's ``event_id``: ``inbound.message_receipt``), so a retry, the same message
  under a new envelope, or catch-up reading it again is one comment.
- One thread's messages are stored one at a time in the order they arrive, which is
  Slack's order for one sender; catch-up (``inbound.CatchUp``) reads by ``ts``.
- The app's own messages and every bot's are ignored (Bolt drops the app's own;
  anything with a ``bot_id`` is dropped here).
- Edits and deletions are not mirrored: the ticket's history is append-only. The
  author is told so (ephemeral), and can post a correction in the thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from adapters.slack import answers
from adapters.slack.context import Shared
from adapters.slack.inbound import NotStored, just_before, message_receipt
from adapters.slack.text import message_text
from core.characters import trim
from core.errors import DeskError, Unavailable
from core.events import Attachment
from core.ordering import Backlog, InOrder
from core.policy import Action
from core.routing import Binding

log = logging.getLogger("helpthread.slack")

MIRRORED_SUBTYPES = (None, "file_share", "thread_broadcast")
HINT_EVERY_SECONDS = 3600.0
# A live message waits at most this long for its thread's backlog to be read after a
# start (Slack wants its answer within 3 s); then it is stored anyway.
BACKLOG_WAIT_SECONDS = 1.5

EDIT_NOTE = ("Edits are not copied to ticket #{n}: it keeps what you first wrote. "
             "Post a new message in this thread to correct it.")
DELETE_NOTE = ("Deleting a message here does not remove it from ticket #{n}; its history "
               "keeps everything. Ask an agent if it must go.")
THREAD_HINT = ("Replies here do not reach your ticket. Write in the ticket's own thread "
               "(the link in the message above), so the team sees it.")
DM_HINT = ("To open a ticket, use `/ticket` or the *Open a ticket* shortcut. To add to a "
           "ticket, reply in its thread (under its card).")


def attachments_of(event: dict[str, Any]) -> tuple[Attachment, ...]:
    """Files shared with a message: name, size (bytes) and link."""
    return tuple(
        Attachment(name=str(f.get("name") or f.get("title") or f["id"]),
                   size=f["size"] if isinstance(f.get("size"), int) else None,
                   url=str(f.get("permalink") or f.get("url_private") or ""))
        for f in event.get("files") or [] if isinstance(f, dict) and f.get("id"))


class Events:
    def __init__(self, shared: Shared) -> None:
        self.s = shared
        self._hinted: dict[str, float] = {}
        self.in_order = InOrder()
        self.backlog = Backlog()
        # thread ts -> just before the oldest message the desk could not store (its
        # database down): catch-up reads from there once the desk answers again.
        self.missed: dict[str, str] = {}
        self.read_again: Callable[[], None] = lambda: None  # set by the platform

    def register(self, app: AsyncApp) -> None:
        # Not through ``inflight.track``: Bolt answers when ``on_message`` returns, which
        # is once the message is stored.
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.s.inflight.track(self.on_home))

    async def on_message(self, body: dict[str, Any], event: dict[str, Any],
                         request: AsyncBoltRequest) -> None:
        """Store a thread message before Slack is answered. Raises ``NotStored`` when
        the desk cannot store it now (Bolt answers 503 and Slack retries; only the first
        attempt tells the author)."""
        subtype = event.get("subtype")
        if subtype == "message_changed":
            self.s.inflight.spawn(self._changed(event))
            return
        if subtype == "message_deleted":
            self.s.inflight.spawn(self._deleted(event))
            return
        team = str(event.get("user_team") or event.get("team") or body.get("team_id")
                   or self.s.team_id)
        event_id = body.get("event_id")
        thread_ts = event.get("thread_ts") or event.get("ts")
        in_order = await self.backlog.settled(thread_ts, BACKLOG_WAIT_SECONDS)
        async with self.in_order.turn((event.get("channel"), thread_ts)):
            await self.store(team, str(event.get("channel")), event,
                             in_dm=event.get("channel_type") == "im",
                             event_id=str(event_id) if event_id else None,
                             in_order=in_order, quiet=_retried(request))

    async def store(self, team: str, channel: str, message: dict[str, Any], *, in_dm: bool,
                    event_id: str | None = None, quiet: bool = False,
                    in_order: bool = True) -> bool:
        """Store ``message`` (an event, or one read back by catch-up) if it was written in
        a ticket's thread; returns whether it was stored now (False: not a ticket's,
        refused, or stored before). A refusal is whispered to its author unless
        ``quiet``. Raises ``NotStored`` when the desk is unavailable."""
        if message.get("subtype") not in MIRRORED_SUBTYPES \
                or _from_bot(message, self.s.bot_user_id) or not message.get("user"):
            return False
        user = str(message.get("user"))
        thread = message.get("thread_ts")
        binding = None
        if thread and thread != message.get("ts"):
            try:
                binding = await self.s.desk.binding_at("slack", channel, str(thread),
                                                       in_dm=in_dm, author=user)
            except Unavailable as err:
                self._missing(str(thread), message)
                self._not_yet(channel, user, str(thread), quiet)
                raise NotStored(str(err)) from err
        if binding is None:
            if in_dm and not quiet:
                self.s.inflight.spawn(self._hint(channel, user,
                                                 str(thread) if thread else None))
            return False
        actor = await self.s.people.actor(team, user)
        files = attachments_of(message)
        text = trim(await self.s.people.readable(message_text(message)))
        if not text and files:
            text = "📎 " + ", ".join(f.name for f in files)
        receipt = message_receipt(channel, message, event_id, in_order=in_order)
        try:
            outcome = await self.s.desk.post_in_thread(
                actor, binding, text, attachments=files, request_key=receipt.keys[0],
                receipt=receipt)
        except Unavailable as err:
            self._missing(str(thread), message)
            self._not_yet(channel, user, str(thread), quiet)
            raise NotStored(str(err)) from err
        except DeskError as err:  # refused for good: acknowledged, nothing to store
            self._refused(channel, user, str(thread), err, quiet)
            return False
        self.s.name_later(actor)
        if self.missed:  # the desk answers again: read what it missed
            self.read_again()
        return not outcome.replayed

    def _missing(self, thread: str, message: dict[str, Any]) -> None:
        """Slack retries a 503'd event three times in about five minutes; a longer
        outage is covered by reading the thread again (``inbound.CatchUp``)."""
        self.missed.setdefault(thread, just_before(str(message.get("ts"))))

    def _not_yet(self, channel: str, user: str, thread: str, quiet: bool) -> None:
        """Slack retries it and the thread is read again: the author hears it will come."""
        if not quiet:
            self.s.inflight.spawn(self._whisper(channel, user, thread, answers.NOT_STORED_YET))

    def _refused(self, channel: str, user: str, thread: str, err: DeskError,
                 quiet: bool) -> None:
        if quiet:
            log.warning("slack.refused_quietly channel=%s thread=%s: %s", channel, thread, err)
            return
        self.s.inflight.spawn(self._whisper(channel, user, thread, answers.refusal(err)))

    async def _changed(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        before = event.get("previous_message") or {}
        if _from_bot(message, self.s.bot_user_id) or message.get("text") == before.get("text"):
            return  # unfurls and our own card updates also arrive as message_changed
        binding = await self._bound(event, message)
        if binding is not None and message.get("user"):
            await self._whisper(str(event.get("channel")), str(message["user"]),
                                str(message.get("thread_ts")),
                                EDIT_NOTE.format(n=binding.ticket_number))

    async def _deleted(self, event: dict[str, Any]) -> None:
        before = event.get("previous_message") or {}
        if _from_bot(before, self.s.bot_user_id) or not before.get("user"):
            return
        binding = await self._bound(event, before)
        if binding is not None:
            await self._whisper(str(event.get("channel")), str(before["user"]),
                                str(before.get("thread_ts")),
                                DELETE_NOTE.format(n=binding.ticket_number))

    async def _bound(self, event: dict[str, Any], message: dict[str, Any]) -> Binding | None:
        thread = message.get("thread_ts")
        if not thread or thread == message.get("ts"):
            return None
        author = str(message["user"]) if message.get("user") else None
        return await self.s.desk.binding_at("slack", str(event.get("channel")), str(thread),
                                            in_dm=event.get("channel_type") == "im",
                                            author=author)

    async def _whisper(self, channel: str, user: str, thread: str, text: str) -> None:
        try:
            await self.s.client.chat_postEphemeral(channel=channel, user=user, text=text,
                                                   thread_ts=thread)
        except SlackApiError as err:
            log.warning("ephemeral to %s failed: %s", user, err.response.get("error"))

    async def _hint(self, channel: str, user: str, thread: str | None) -> None:
        """A message in the app's DM that no ticket will read: a top-level one gets
        ``DM_HINT`` (at most hourly per person); a reply under a receipt or notice gets
        ``THREAD_HINT`` in that thread, once per thread — neither is dropped unseen."""
        key = f"{channel}:{thread}" if thread else user
        now = time.monotonic()
        if now - self._hinted.get(key, -HINT_EVERY_SECONDS) < HINT_EVERY_SECONDS:
            return
        self._hinted[key] = float("inf") if thread else now
        try:
            await self.s.client.chat_postMessage(channel=channel, thread_ts=thread,
                                                 text=THREAD_HINT if thread else DM_HINT)
        except SlackApiError as err:
            log.warning("DM hint to %s failed: %s", user, err.response.get("error"))

    async def on_home(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """App Home: my open tickets; for agents also the queue."""
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user"))
        actor = await self.s.people.actor(str(body.get("team_id") or self.s.team_id), user)
        mine = await self.s.desk.list_page(actor, "open", mine=True)
        queue = await self.s.desk.queue_page(actor) if self.s.desk.may(actor, Action.QUEUE) \
            else None
        await self.s.client.views_publish(user_id=user,
                                          view=answers.home(actor.name, mine, queue))


def _retried(request: AsyncBoltRequest) -> bool:
    """Slack's retry of an event (``X-Slack-Retry-Num`` ≥ 1; Socket Mode's retry_attempt,
    which Bolt puts in the same header): its author was told already."""
    attempt = request.headers.get("x-slack-retry-num") or ["0"]
    return str(attempt[0]) not in ("", "0")


def _from_bot(message: dict[str, Any], bot_user_id: str | None) -> bool:
    return bool(message.get("bot_id") or message.get("bot_profile")
                or message.get("subtype") == "bot_message"
                or (bot_user_id and message.get("user") == bot_user_id))
