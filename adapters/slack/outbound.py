"""The Slack outbound port (``core.outbound.Outbound``): deliveries become Web API calls.

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
- Channel messages: an escalation mentions ``slack.escalation_group``; an SLA warning
  or breach (``Purpose.SLA``, in the team channel) mentions the assignee, or when
  nobody has it the agents' groups (``slack.agent_groups``; else ``agent_users``).
- Where core offers the reader the requester's answers (``TicketView.actions``: their
  DM thread, a DM notice to them — never a watcher), a close request carries
  "Yes, close it" / "No, I still need help" and a resolution "Good" / "Bad"
  (``levels.requester_buttons``; the ``asks`` listeners take the clicks).

Failures: nothing waits inside a delivery. HTTP 429 raises ``RetryLater`` at once with
Slack's ``Retry-After`` (the worker makes it that target's due time, so a throttled
channel holds up no other), and until then other deliveries to that channel get the
same due time without asking Slack again (it limits posting per channel); 5xx or
connection errors raise ``RetryLater``; errors that no retry can fix (``PERMANENT``)
raise ``Undeliverable``; other API errors (``not_in_channel``, ``invalid_auth``…) are
retried with backoff, since an operator can fix them. The client given must not retry
by itself (``retry_handlers=[]``): a repeated ``chat.postMessage`` after a lost answer
would post twice.

Posted once (``sent``): every message carries its delivery's id as ``metadata``; a
delivery that may already have reached Slack (``DeliveryJob.maybe_sent``, or an answer
lost in this process) looks for its message first and records it instead of posting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import levels, sent, views
from adapters.slack.pacing import AckFirst
from core.clock import Clock, SystemClock
from core.config import DeskConfig
from core.events import CARD_CHANGES, Audience, EventKind, Opened
from core.identity import SYSTEM, Actor, UserRef
from core.outbound import Delivered, DeliveryJob, RetryLater, Undeliverable
from core.routing import Binding, Purpose, Target
from core.transcripts import Transcript

log = logging.getLogger("helpthread.slack")

PERMANENT = frozenset({
    "channel_not_found", "is_archived", "user_not_found", "user_disabled", "cannot_dm_bot",
    "msg_too_long", "invalid_blocks", "invalid_blocks_format", "no_text", "invalid_arguments",
    "message_not_found", "cant_update_message", "restricted_action", "team_access_not_granted",
})
CONCURRENT_DELIVERIES = 8  # at most this many deliveries talk to Slack at once
# Transport failures after which Slack may have acted on the call (the request was sent,
# the answer lost); a refused connection (ClientConnectorError) reached nobody.
ANSWER_LOST = (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
               aiohttp.ClientPayloadError)


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


class BindingSource(Protocol):
    """What the outbound reads from the desk: where a ticket lives, its transcript."""

    async def bindings_of(self, number: int) -> list[Binding]: ...

    async def transcript(self, actor: Actor, number: int) -> Transcript: ...


class SlackOutbound:
    """Delivers the desk's Slack deliveries with ``client`` (its base URL honours
    ``SLACK_API_URL``); ``desk`` finds threads to link to; ``escalation_group``
    (``slack.escalation_group``) is mentioned in escalation notices, ``agent_groups``
    (else ``agent_users``) in SLA notices of unassigned tickets."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, config: DeskConfig,
                 pace: AckFirst | None = None, *, desk: BindingSource | None = None,
                 escalation_group: str | None = None, clock: Clock | None = None,
                 agent_groups: tuple[str, ...] = (), agent_users: tuple[str, ...] = ()
                 ) -> None:
        self.client = client
        self.agent_groups, self.agent_users = agent_groups, agent_users
        self.clock = clock or SystemClock()
        self.config = config
        self.pace = pace or AckFirst()
        self.desk = desk
        self.escalation_group = escalation_group
        self._dm_channels: dict[str, str] = {}
        self._permalinks: dict[tuple[str, str], str] = {}
        self._calls = asyncio.Semaphore(CONCURRENT_DELIVERIES)
        self._unsure: set[int] = set()  # deliveries whose answer was lost in this process
        # (delivery, part) → ts posted by an attempt that then failed: a delivery's later
        # attempt in this process never posts that part again (a late card, then a 429)
        self._made: dict[tuple[int, str], str] = {}
        # channel → until when Slack asked us not to post there (a 429's Retry-After):
        # the other deliveries to that channel get that due time without asking again
        self._resting: dict[str, datetime] = {}

    async def deliver(self, job: DeliveryJob) -> Delivered:
        await self.pace.give_way()  # at most pacing.MAX_DEFER, for no one target's sake
        async with self._calls:
            delivered = await self._deliver(job)
        self._forget(job.delivery.id)
        return delivered

    def _forget(self, delivery: int | None) -> None:
        """The delivery is done (or refused for good): nothing of it to remember."""
        self._unsure.discard(delivery or 0)
        for key in [k for k in self._made if k[0] == delivery]:
            del self._made[key]

    async def _deliver(self, job: DeliveryJob) -> Delivered:
        d = job.delivery
        try:
            if d.target is Target.BINDING:
                return await self._thread(job)
            if d.target is Target.DM and d.address:
                await self._direct(job, UserRef.parse(d.address).user_id)
            elif d.target is Target.CHANNEL and d.address and d.purpose == Purpose.SLA:
                await self._sla_notice(job, d.address)
            elif d.target is Target.CHANNEL and d.address \
                    and d.purpose == Purpose.TRANSCRIPT:
                await self._transcript(job, d.address)
            elif d.target is Target.CHANNEL and d.address:
                await self._escalation(job, d.address)
            else:
                raise Undeliverable(f"Slack cannot deliver to {d.target.value}")
            return Delivered()
        except SlackApiError as err:
            failure = translate(err)
            if isinstance(failure, Undeliverable):
                self._forget(d.id)
            raise failure from err
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
                          watching=binding.watcher is not None,
                          opened_by=opened_by, now=self.clock.now(), opened=job.opened)

    async def _post_card(self, channel: str, binding: Binding, job: DeliveryJob) -> str:
        text, blocks = self._card(binding, job)
        return await self._post(job, "card", channel, text=text, blocks=blocks)

    async def _update_card(self, channel: str, binding: Binding, job: DeliveryJob) -> None:
        text, blocks = views.card(job.ticket, team=binding.audience is Audience.INTERNAL,
                                  receipt=binding.in_requester_dm,
                                  watching=binding.watcher is not None,
                                  now=self.clock.now(), opened=job.opened)
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
        # Asked where the requester is told (a channel thread's news reaches her by DM);
        # whether to offer them at all is core's (``job.ticket.actions``).
        reaches_requester = job.binding is not None and job.binding.reaches_requester
        buttons = levels.requester_buttons(event, job.ticket) if reaches_requester else []
        text, blocks = views.thread_message(event, job.ticket, buttons)
        extra: dict[str, Any] = {"blocks": blocks} if blocks else {}
        if event.kind in (EventKind.COMMENTED, EventKind.NOTED) and event.actor:
            extra["username"] = event.actor.name[:80]
        await self._post(job, "post", channel, thread, text=text, **extra)

    async def _channel(self, binding: Binding, job: DeliveryJob) -> str:
        if binding.in_requester_dm:
            return await self._dm(job.ticket.requester.ref.user_id)
        if binding.watcher is not None:  # a watcher's own thread in their DM
            return await self._dm(binding.watcher.user_id)
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
            text, blocks = views.receipt(t, url, job.desk_name, job.opened)
        elif d.purpose == "assigned":
            url = await self._thread_url(t.number, Audience.INTERNAL)
            text, blocks = views.assigned(job.event, t, url)
        else:
            url = await self._thread_url(t.number, Audience.PUBLIC)
            buttons = levels.requester_buttons(job.event, t)  # only to whom core offers them
            text, blocks = views.notification(job.event, t, url, buttons)
        channel = await self._dm(user_id)
        await self._post(job, "post", channel, text=text, blocks=blocks)

    async def _sla_notice(self, job: DeliveryJob, channel: str) -> None:
        """An SLA warning or breach in the team channel ``channel``, calling who must act."""
        url = await self._thread_url(job.ticket.number, Audience.INTERNAL)
        mention = levels.mentions(job.ticket, self.agent_groups, self.agent_users)
        text, blocks = views.sla_notice(job.event, job.ticket, mention, url)
        await self._post(job, "post", channel, text=text, blocks=blocks)

    async def _escalation(self, job: DeliveryJob, channel: str) -> None:
        url = await self._thread_url(job.ticket.number, Audience.INTERNAL)
        text, blocks = views.escalation(job.event, job.ticket, self.escalation_group,
                                        url)
        await self._post(job, "post", channel, text=text, blocks=blocks)

    # ---- posting once ----------------------------------------------------------------

    async def _post(self, job: DeliveryJob, part: str, channel: str, thread: str | None = None,
                    **message: Any) -> str:
        """``chat.postMessage`` for ``part`` of ``job``'s delivery, marked with its id; the
        ``ts`` of the message. When an earlier attempt may have posted it, the message
        found in ``channel`` / ``thread`` is taken instead of posting again."""
        delivery = job.delivery.id
        if (delivery or 0, part) in self._made:
            return self._made[(delivery or 0, part)]
        if delivery is not None and (job.maybe_sent or delivery in self._unsure):
            found = await self._find(channel, delivery, part, thread)
            if found is not None:
                log.info("slack.delivery_found delivery=%s part=%s ts=%s: not posted again",
                         delivery, part, found)
                return found
        self._check_resting(channel)
        try:
            answer = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread, unfurl_links=False, unfurl_media=False,
                metadata=sent.metadata(delivery, part), **message)
        except SlackApiError as err:
            after = retry_after(err) if err.response.status_code == 429 else None
            if after:
                self._resting[channel] = self.clock.now() + timedelta(seconds=after)
            raise
        except ANSWER_LOST:
            if delivery is not None:
                self._unsure.add(delivery)
            raise
        if delivery is not None:
            self._made[(delivery, part)] = str(answer["ts"])
        return str(answer["ts"])

    async def _transcript(self, job: DeliveryJob, channel: str) -> None:
        """A closed ticket's transcript — the agents' copy, as the ticket is now — both
        files uploaded to ``channel`` (``[transcripts] slack_channel``). An upload whose
        answer was lost is made again: a transcript twice rather than none."""
        if self.desk is None:
            raise Undeliverable("no desk to read the transcript from")
        self._check_resting(channel)
        t = await self.desk.transcript(SYSTEM, job.ticket.number)
        await self.client.files_upload_v2(
            channel=channel, initial_comment=views.transcript_posted(job.ticket),
            file_uploads=[
                {"content": t.html, "filename": t.filename,
                 "title": f"Transcript of #{t.number} (HTML)"},
                {"content": t.markdown, "filename": t.markdown_filename,
                 "title": f"Transcript of #{t.number} (Markdown)"}])

    def _check_resting(self, channel: str) -> None:
        """Raise ``RetryLater`` while Slack's last 429 on ``channel`` still holds."""
        until = self._resting.get(channel)
        if until is None:
            return
        left = (until - self.clock.now()).total_seconds()
        if left > 0:
            raise RetryLater(f"Slack rate limit on {channel} (HTTP 429)", after=left)
        del self._resting[channel]

    async def _find(self, channel: str, delivery: int, part: str,
                    thread: str | None) -> str | None:
        """``sent.find_posted``; a rate limit or outage is raised (retried later), any
        other refusal (a scope missing…) is logged and the message posted: a message
        twice is better than none."""
        try:
            return await sent.find_posted(self.client, channel, delivery, part, thread)
        except SlackApiError as err:
            if err.response.status_code == 429 or err.response.status_code >= 500:
                raise
            log.warning("slack.delivery_search_refused delivery=%s: %s", delivery,
                        err.response.get("error"))
            return None

    async def _thread_url(self, number: int, audience: Audience) -> str | None:
        """A permalink to the ticket's Slack thread for ``audience``, if it has one."""
        if self.desk is None:
            return None
        for binding in await self.desk.bindings_of(number):
            if binding.platform == self.platform and binding.audience is audience \
                    and binding.thread and binding.watcher is None:
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
