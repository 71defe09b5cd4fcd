"""The Slack outbound port (``core.delivery.Outbound``): deliveries become Web API calls.

- A binding's first delivery posts its card (``chat.postMessage``); the card's ``ts``
  is the thread (``Delivered.thread``/``card_message``). A private ticket's binding
  lives in the requester's DM with the app (``conversations.open``).
- Later deliveries post into the thread; events that change the card
  (``core.events.CARD_CHANGES``) first re-render it in place (``chat.update``), so
  a retry after a failure never posts twice what was already posted.
- Comments appear under their author's name (``username``, scope
  ``chat:write.customize``); everything the app says is in its own name.
- DMs (receipt, notifications, assignment) and the escalation channel link to the
  thread with ``chat.getPermalink``.

Failures: HTTP 429 beyond a short ``Retry-After`` and 5xx or connection errors raise
``RetryLater`` (the worker honours ``Retry-After``); errors that no retry can fix
(``PERMANENT``) raise ``Undeliverable``; other API errors (``not_in_channel``,
``invalid_auth``…) are retried with backoff, since an operator can fix them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import views
from adapters.slack.pacing import AckFirst
from core.config import DeskConfig
from core.delivery import Delivered, DeliveryJob, RetryLater, Undeliverable
from core.events import CARD_CHANGES, Audience, EventKind, Opened
from core.identity import UserRef
from core.routing import Binding, Target

log = logging.getLogger("helpthread.slack")

PERMANENT = frozenset({
    "channel_not_found", "is_archived", "user_not_found", "user_disabled", "cannot_dm_bot",
    "msg_too_long", "invalid_blocks", "invalid_blocks_format", "no_text", "invalid_arguments",
    "message_not_found", "cant_update_message", "restricted_action", "team_access_not_granted",
})
CONCURRENT_DELIVERIES = 8  # at most this many deliveries talk to Slack at once
SHORT_WAIT_SECONDS = 2.0  # a Retry-After up to this is waited out inside the call


def retry_after(err: SlackApiError) -> float | None:
    """The ``Retry-After`` header of a 429 answer, in seconds."""
    headers = getattr(err.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def translate(err: SlackApiError) -> Exception:
    """A Web API failure as the delivery worker's ``RetryLater`` or ``Undeliverable``."""
    status = err.response.status_code
    code = err.response.get("error") if isinstance(err.response.data, dict) else None
    if status == 429 or code == "ratelimited":
        return RetryLater("Slack rate limit (HTTP 429)", after=retry_after(err))
    if status >= 500:
        return RetryLater(f"Slack answered HTTP {status}")
    if code in PERMANENT:
        return Undeliverable(f"Slack refused it: {code}")
    return RetryLater(f"Slack refused it for now: {code}")


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, limited to ``Retry-After`` ≤ ``max_wait`` seconds: a
    longer wait is handed back to the delivery worker instead of holding the call."""

    def __init__(self, max_wait: float = SHORT_WAIT_SECONDS, max_retry_count: int = 1) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        for key, value in response.headers.items():
            if key.lower() == "retry-after":
                try:
                    return float(value[0] if isinstance(value, list) else value) \
                        <= self.max_wait
                except (TypeError, ValueError):
                    return False
        return True


class BindingSource(Protocol):
    async def bindings_of(self, number: int) -> list[Binding]: ...


class SlackOutbound:
    """Delivers the desk's Slack deliveries with ``client`` (its base URL honours
    ``SLACK_API_URL``); ``desk`` finds threads to link to; ``escalation_group``
    (``slack.escalation_group``) is mentioned in escalation notices."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, config: DeskConfig,
                 pace: AckFirst | None = None, *, desk: BindingSource | None = None,
                 escalation_group: str | None = None) -> None:
        self.client = client
        self.config = config
        self.pace = pace or AckFirst()
        self.desk = desk
        self.escalation_group = escalation_group
        self._dm_channels: dict[str, str] = {}
        self._permalinks: dict[tuple[str, str], str] = {}
        self._calls = asyncio.Semaphore(CONCURRENT_DELIVERIES)

    async def deliver(self, job: DeliveryJob) -> Delivered:
        await self.pace.give_way()
        async with self._calls:
            return await self._deliver(job)

    async def _deliver(self, job: DeliveryJob) -> Delivered:
        d = job.delivery
        try:
            if d.target is Target.BINDING:
                return await self._thread(job)
            if d.target is Target.DM and d.address:
                await self._direct(job, UserRef.parse(d.address).user_id)
            elif d.target is Target.CHANNEL and d.address:
                await self._escalation(job, d.address)
            else:
                raise Undeliverable(f"Slack cannot deliver to {d.target.value}")
            return Delivered()
        except SlackApiError as err:
            raise translate(err) from err
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as err:
            raise RetryLater(f"cannot reach Slack: {type(err).__name__}: {err}") from err

    # ---- threads -------------------------------------------------------------------

    async def _thread(self, job: DeliveryJob) -> Delivered:
        binding = job.binding
        if binding is None:
            raise Undeliverable("thread delivery without a binding")
        channel = await self._channel(binding, job)
        if binding.thread is None:
            ts = await self._post_card(channel, binding, job)
            if job.event.kind is not EventKind.OPENED:
                await self._post_event(channel, ts, job)
            return Delivered(thread=ts, card_message=ts)
        if job.event.kind in CARD_CHANGES and binding.card_message:
            await self._update_card(channel, binding, job)
        if job.event.kind is not EventKind.OPENED:
            await self._post_event(channel, binding.thread, job)
        return Delivered()

    def _card(self, binding: Binding, job: DeliveryJob) -> tuple[str, views.Blocks]:
        opened_by = None
        if isinstance(job.event.payload, Opened) and job.event.payload.on_behalf \
                and job.event.actor:
            opened_by = job.event.actor.name
        return views.card(job.ticket, team=binding.audience is Audience.INTERNAL,
                          receipt=binding.in_requester_dm,
                          opened_by=opened_by)

    async def _post_card(self, channel: str, binding: Binding, job: DeliveryJob) -> str:
        text, blocks = self._card(binding, job)
        answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                                    unfurl_links=False, unfurl_media=False)
        return str(answer["ts"])

    async def _update_card(self, channel: str, binding: Binding, job: DeliveryJob) -> None:
        text, blocks = views.card(job.ticket, team=binding.audience is Audience.INTERNAL,
                                  receipt=binding.in_requester_dm)
        try:
            await self.client.chat_update(channel=channel, ts=str(binding.card_message),
                                          text=text, blocks=blocks)
        except SlackApiError as err:
            if err.response.get("error") not in PERMANENT:
                raise
            # The card was deleted or can no longer be edited: the thread still gets the news.
            log.warning("card of #%s not updated: %s", job.ticket.number,
                        err.response.get("error"))

    async def _post_event(self, channel: str, thread: str, job: DeliveryJob) -> None:
        event = job.event
        text = views.event_text(event, job.ticket)
        extra: dict[str, Any] = {}
        if event.kind in (EventKind.COMMENTED, EventKind.NOTED) and event.actor:
            extra["username"] = event.actor.name[:80]
        await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=text,
                                           unfurl_links=False, unfurl_media=False, **extra)

    async def _channel(self, binding: Binding, job: DeliveryJob) -> str:
        if binding.in_requester_dm:
            return await self._dm(job.ticket.requester.ref.user_id)
        return binding.channel

    async def _dm(self, user_id: str) -> str:
        """The app's DM channel with ``user_id`` (``conversations.open``; cached)."""
        if user_id not in self._dm_channels:
            answer = await self.client.conversations_open(users=user_id)
            self._dm_channels[user_id] = str(answer["channel"]["id"])
        return self._dm_channels[user_id]

    # ---- DMs and the escalation channel ---------------------------------------------

    async def _direct(self, job: DeliveryJob, user_id: str) -> None:
        d, t = job.delivery, job.ticket
        if d.purpose == "receipt":
            url = await self._thread_url(t.number, Audience.PUBLIC)
            text, blocks = views.receipt(t, url, job.desk_name)
        elif d.purpose == "assigned":
            url = await self._thread_url(t.number, Audience.INTERNAL)
            text, blocks = views.assigned(job.event, t, url)
        else:
            url = await self._thread_url(t.number, Audience.PUBLIC)
            text, blocks = views.notification(job.event, t, url)
        channel = await self._dm(user_id)
        await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                           unfurl_links=False, unfurl_media=False)

    async def _escalation(self, job: DeliveryJob, channel: str) -> None:
        url = await self._thread_url(job.ticket.number, Audience.INTERNAL)
        text, blocks = views.escalation(job.event, job.ticket, self.escalation_group,
                                        url)
        await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                           unfurl_links=False, unfurl_media=False)

    async def _thread_url(self, number: int, audience: Audience) -> str | None:
        """A permalink to the ticket's Slack thread for ``audience``, if it has one."""
        if self.desk is None:
            return None
        for binding in await self.desk.bindings_of(number):
            if binding.platform == self.platform and binding.audience is audience \
                    and binding.thread:
                channel = binding.channel
                if binding.in_requester_dm:
                    return None  # the requester's own DM: the receipt is the card itself
                key = (channel, binding.thread)
                if key not in self._permalinks:
                    try:
                        answer = await self.client.chat_getPermalink(
                            channel=channel, message_ts=binding.thread)
                    except SlackApiError as err:
                        log.warning("no permalink for #%s: %s", number,
                                    err.response.get("error"))
                        return None
                    self._permalinks[key] = str(answer["permalink"])
                return self._permalinks[key]
        return None
