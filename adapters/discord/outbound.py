"""Discord's outbound port: cards, private threads, thread messages, DMs, escalations.

The delivery worker hands over one ``DeliveryJob`` at a time (per ticket in order).
Nothing waits for a rate limit inside a delivery (``ratelimits.delivering``): a 429 or
an emptied bucket becomes ``RetryLater(after=retry_after)`` at once, the due time of
that target only. discord.py still retries a 5xx itself; what outlasts that becomes
``RetryLater``; a refusal that will not change becomes ``Undeliverable``.

Posted once: every message is sent with a ``nonce`` made from the delivery's id (and
``enforce_nonce``, which discord.py sets with any nonce), so Discord answers a repeat
within its window (a few minutes) with the message it already made. A thread started
from a card is found again by the card's id; a delivery that may already have reached
Discord (``DeliveryJob.maybe_sent``) looks for its private thread among the guild's
active threads before making one. Steps already done for a delivery are remembered in
this process too, so a retry does not make a second thread or post twice.
"""

from __future__ import annotations

import io
import logging
import secrets
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from adapters.discord import deflection, render
from adapters.discord.cards import card_view
from adapters.discord.closing import close_request_view, rating_view
from adapters.discord.ratelimits import delivering
from core.events import CARD_CHANGES, Audience, Event, EventKind, WatcherAdded, WatcherRemoved
from core.identity import SYSTEM, Person, UserRef
from core.outbound import Delivered, DeliveryJob, RetryLater, Undeliverable
from core.policy import Action
from core.routing import Purpose, Target
from core.views import TicketView

if TYPE_CHECKING:
    from adapters.discord.bot import HelpthreadBot

log = logging.getLogger("helpthread.discord")

PLATFORM = "discord"
ARCHIVE_AFTER_MINUTES = 10080  # a week of quiet before Discord hides a thread (its maximum)
# Discord error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
MISSING_ACCESS, MISSING_PERMISSIONS, CANNOT_DM = 50001, 50013, 50007
RETRY_PERMISSIONS_AFTER = 300.0  # seconds: an operator may fix the bot's permissions
THREAD_ALREADY_CREATED = 160004  # a message can start one thread; its id is the message's
NONCE_MAX = 25  # characters (Discord: Create Message, ``nonce``)


def nonce(delivery: int | None, part: str) -> str | int:
    """The nonce of message ``part`` of ``delivery`` (``h<id>.<part>``): the same on every
    attempt, in every process. Raises ``ValueError`` past ``NONCE_MAX``. Without a
    delivery id (never stored), a random one as discord.py would pick."""
    if delivery is None:
        return secrets.randbits(64)
    made = f"h{delivery}.{part}"
    if len(made) > NONCE_MAX:
        raise ValueError(f"nonce {made!r} is longer than Discord's {NONCE_MAX} characters")
    return made


class DiscordOutbound:
    """Implements ``core.outbound.Outbound`` for Discord through the bot's REST client."""

    platform = PLATFORM

    def __init__(self, bot: HelpthreadBot) -> None:
        self.bot = bot
        self._progress: dict[int, dict[str, int]] = {}  # delivery id → ids made so far
        self._threads: dict[int, int] = {}  # ticket number → its private thread id

    async def give_way(self) -> None:
        """Called by the delivery worker before each step: interactions not yet answered
        go first (``answers.AnswersFirst``)."""
        await self.bot.answers.give_way()

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if self.bot.user is None:
            raise RetryLater("Discord is not logged in yet", after=5.0)
        try:
            with delivering():
                return await self._deliver(job)
        except discord.RateLimited as err:
            raise RetryLater(f"Discord rate limit for {err.retry_after:.1f}s",
                             after=err.retry_after) from err
        except discord.HTTPException as err:
            if err.status == 429 or err.status >= 500:
                raise RetryLater(f"Discord answered {err.status}: {err.text}") from err
            if err.code in (MISSING_ACCESS, MISSING_PERMISSIONS):
                log.error("discord.missing_permissions delivery=%s: %s", job.delivery.id, err)
                raise RetryLater(f"the bot lacks a permission: {err.text}",
                                 after=RETRY_PERMISSIONS_AFTER) from err
            raise Undeliverable(f"Discord refused ({err.status}, code {err.code}): "
                                f"{err.text}") from err
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise RetryLater(f"cannot reach Discord: {type(err).__name__}: {err}") from err

    async def _deliver(self, job: DeliveryJob) -> Delivered:
        target = job.delivery.target
        if target is Target.BINDING:
            assert job.binding is not None
            if job.binding.thread is None:
                return await self._card(job)
            await self._in_thread(job)
            return Delivered()
        if target is Target.DM:
            await self._dm(job)
        elif target is Target.CHANNEL and job.delivery.purpose is Purpose.SLA:
            await self._sla_notice(job)
        elif target is Target.CHANNEL and job.delivery.purpose is Purpose.TRANSCRIPT:
            await self._transcript(job)
        elif target is Target.CHANNEL:
            await self._escalation(job)
        else:
            raise Undeliverable(f"Discord cannot deliver to {target.value}")
        return Delivered()

    # ---- helpers ------------------------------------------------------------------------

    async def _channel(self, channel_id: int) -> Any:
        """A channel or thread, from the cache or REST (archived threads are not cached)."""
        return self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)

    def _messageable(self, channel_id: int) -> Any:
        """A channel or thread to post in and edit messages of: from the cache, else by
        its id alone (no lookup first; a thread that is gone fails the post itself)."""
        return self.bot.get_channel(channel_id) or self.bot.get_partial_messageable(
            channel_id, guild_id=self.bot.guild_id)

    def _member_id(self, person: Person | None) -> int | None:
        """The Discord user id of ``person`` if they are a member of this guild."""
        if person is None:
            return None
        ref = person.ref
        if ref.platform != PLATFORM or ref.workspace != str(self.bot.guild_id):
            return None
        return int(ref.user_id)

    def _avatar(self, person: Person | None) -> str | None:
        uid = self._member_id(person)
        user = self.bot.get_user(uid) if uid else None
        return user.display_avatar.url if user else None

    async def _add(self, thread: Any, user_id: int | None) -> None:
        """Add a member to a private thread; one who left the server is skipped."""
        if user_id is None:
            return
        try:
            await self.bot.http.add_user_to_thread(thread.id, user_id)
        except discord.NotFound:
            log.warning("discord.thread_member_gone thread=%s user=%s", thread.id, user_id)

    def _step(self, job: DeliveryJob) -> dict[str, int]:
        assert job.delivery.id is not None
        return self._progress.setdefault(job.delivery.id, {})

    def _done(self, job: DeliveryJob) -> None:
        self._progress.pop(job.delivery.id or 0, None)

    # ---- cards and threads -----------------------------------------------------------

    async def _card(self, job: DeliveryJob) -> Delivered:
        """First delivery to a binding: the card and its thread. A ticket thread is a
        private thread under the support channel with the card as its first message and
        the requester added; a team thread starts from the card in the team channel."""
        assert job.binding is not None
        t, step = job.ticket, self._step(job)
        parent = await self._channel(int(job.binding.channel))
        d = job.delivery.id
        if job.binding.audience is Audience.PUBLIC:
            if "thread" not in step and job.maybe_sent:
                found = await self._made_thread(parent.id, render.thread_name(t))
                if found is not None:
                    step["thread"] = found
            if "thread" in step:  # made by an earlier attempt
                thread = self._messageable(step["thread"])
            else:
                thread = await parent.create_thread(
                    name=render.thread_name(t), type=discord.ChannelType.private_thread,
                    invitable=False, auto_archive_duration=ARCHIVE_AFTER_MINUTES)
                step["thread"] = thread.id
            await self._add(thread, self._member_id(t.requester))
            for watcher in t.watchers:  # cc'd on the form: in the thread from the start
                await self._add(thread, self._member_id(watcher))
            card = await thread.send(embed=render.card_embed(t, team=False),
                                     view=card_view(t), nonce=nonce(d, "card"))
            self._threads[t.number] = thread.id
        else:
            if "card" not in step:
                step["card"] = (await parent.send(embed=deflection.add_similar(
                                                      render.card_embed(t, team=True),
                                                      job.opened),
                                                  view=card_view(t),
                                                  nonce=nonce(d, "card"))).id
            card = parent.get_partial_message(step["card"])
            thread = await self._thread_from(card, render.thread_name(t))
        if job.event.kind is not EventKind.OPENED:  # the card came late: say what happened
            await thread.send(embed=render.event_embed(job.event, t,
                                                       self._avatar(job.event.actor)),
                              nonce=nonce(d, "post"))
        self._done(job)
        return Delivered(thread=str(thread.id), card_message=str(card.id))

    async def _thread_from(self, card: Any, name: str) -> Any:
        """The team thread started from ``card``: made now, or — when an earlier attempt
        made it — the one Discord already has (its id is the card's)."""
        try:
            return await card.create_thread(name=name,
                                            auto_archive_duration=ARCHIVE_AFTER_MINUTES)
        except discord.HTTPException as err:
            if err.code != THREAD_ALREADY_CREATED:
                raise
            return await self._channel(card.id)

    async def _made_thread(self, parent_id: int, name: str) -> int | None:
        """The id of an active thread under ``parent_id`` named ``name`` that this bot
        made (an earlier attempt of the delivery), if any."""
        assert self.bot.user is not None
        active = await self.bot.http.get_active_threads(self.bot.guild_id)
        for thread in active.get("threads", []):
            if str(thread.get("parent_id")) == str(parent_id) and thread.get("name") == name \
                    and str(thread.get("owner_id")) == str(self.bot.user.id):
                return int(thread["id"])
        return None

    async def _in_thread(self, job: DeliveryJob) -> None:
        """Post the event in the thread; update the card in place if the event changes
        what it shows; add the assignee to a ticket thread once claimed/assigned."""
        binding, t, event, step = job.binding, job.ticket, job.event, self._step(job)
        assert binding is not None and binding.thread is not None
        thread = self._messageable(int(binding.thread))
        public = binding.audience is Audience.PUBLIC
        if "posted" not in step:
            embed = render.event_embed(event, t, self._avatar(event.actor))
            asks = answers_view(event, t) if public else None
            if asks is not None and event.kind is EventKind.RESOLVED:
                render.ask_to_rate(embed)
            await thread.send(embed=embed, **({"view": asks} if asks else {}),
                              nonce=nonce(job.delivery.id, "post"))
            step["posted"] = 1
        if event.kind in CARD_CHANGES and binding.card_message:
            holder = thread if public else self._messageable(int(binding.channel))
            embed = render.card_embed(t, team=not public)
            if not public:
                deflection.add_similar(embed, job.opened)
            await holder.get_partial_message(int(binding.card_message)).edit(
                embed=embed, view=card_view(t))
        if public and event.kind in (EventKind.CLAIMED, EventKind.ASSIGNED):
            await self._add(thread, self._member_id(t.assignee))
        if public:
            await self._follow(thread, event, t)
        self._done(job)

    async def _follow(self, thread: Any, event: Event, t: TicketView) -> None:
        """A watcher of this server joins the ticket's private thread when added, and
        leaves it when removed (unless they are its requester or assignee)."""
        payload = event.payload
        if not isinstance(payload, WatcherAdded | WatcherRemoved) or not payload.key:
            return
        ref = UserRef.parse(payload.key)
        uid = self._member_id(Person(ref, payload.watcher))
        if uid is None:
            return
        if isinstance(payload, WatcherAdded):
            await self._add(thread, uid)
            return
        keeps = {p.ref for p in (t.requester, t.assignee) if p is not None}
        if ref not in keeps:
            try:
                await self.bot.http.remove_user_from_thread(thread.id, uid)
            except discord.NotFound:
                log.warning("discord.thread_member_gone thread=%s user=%s", thread.id, uid)

    # ---- direct messages and escalations ------------------------------------------------

    async def _dm(self, job: DeliveryJob) -> None:
        """A receipt, notice or assignment by DM. A requester whose DMs are closed gets
        the receipt as an ephemeral follow-up to the form they submitted, if it is still
        fresh (15 minutes); otherwise the ticket thread already reaches them."""
        d, t = job.delivery, job.ticket
        assert d.address is not None
        uid = int(UserRef.parse(d.address).user_id)
        thread = self._threads.get(t.number)
        link = render.thread_url(self.bot.guild_id, thread) if thread else None
        asks = None
        if d.purpose == "receipt":
            embed = deflection.add_helpful(render.receipt_embed(t, link, job.desk_name),
                                           job.opened, t.number)
        else:
            embed = render.notice_embed(job.event, t, link)
            asks = answers_view(job.event, t)  # offered to this reader by core, or not
            if asks is not None and job.event.kind is EventKind.RESOLVED:
                render.ask_to_rate(embed)
        # the DM channel from the cache, or made from the id: no lookup of the user first
        channel = await self.bot.create_dm(discord.Object(uid))
        try:
            if asks is None:
                await channel.send(embed=embed, nonce=nonce(d.id, "dm"))
            else:
                await channel.send(embed=embed, view=asks, nonce=nonce(d.id, "dm"))
        except discord.Forbidden as err:
            if err.code != CANNOT_DM:
                raise
            followup = self.bot.receipt_followup(t.number) if d.purpose == "receipt" else None
            if followup is None:
                raise Undeliverable(f"user {uid} does not accept direct messages") from err
            await followup.send(embed=embed, ephemeral=True)

    async def _escalation(self, job: DeliveryJob) -> None:
        """An escalation notice in the escalation channel, pinging only the escalation
        role (``discord.escalation_role_id``; the role must allow being mentioned)."""
        role = self.bot.settings.escalation_role_id
        await self._notice(job, f"<@&{role}>" if role else "",
                           pinging(roles=[role] if role else []))

    async def _sla_notice(self, job: DeliveryJob) -> None:
        """An SLA warning or breach in the team channel (PRODUCT.md §7), pinging who must
        act: the assignee when they are a member of this guild; unassigned, the agent
        role (``discord.agent_role_id``). An assignee on another platform is named, not
        pinged here: their own platform's team channel gets the notice too."""
        t = job.ticket
        assignee = self._member_id(t.assignee)
        role = self.bot.settings.agent_role_id
        if assignee is not None:
            await self._notice(job, f"<@{assignee}>", pinging(users=[assignee]))
        elif t.assignee is None and role:
            await self._notice(job, f"<@&{role}>", pinging(roles=[role]))
        else:
            named = f"({t.assignee.name}'s)" if t.assignee else ""
            await self._notice(job, named, pinging())

    async def _notice(self, job: DeliveryJob, mention: str,
                      mentions: discord.AllowedMentions) -> None:
        """A team-channel notice: ``mention`` and the event as text (pinging exactly
        ``mentions``), the team card below, linked to the ticket's team thread here."""
        assert job.delivery.address is not None
        channel = await self._channel(int(job.delivery.address))
        link = await self._team_thread_link(job)
        embed = render.card_embed(job.ticket, team=True)
        embed.url = link
        await channel.send(render.notice_text(mention, job.event, job.ticket, link,
                                              job.desk_name),
                           embed=embed, allowed_mentions=mentions,
                           nonce=nonce(job.delivery.id, "post"))

    async def _transcript(self, job: DeliveryJob) -> None:
        """A closed ticket's transcript — the agents' copy, as the ticket is now — with
        both files, in ``[transcripts] discord_channel_id``; pings nobody."""
        assert job.delivery.address is not None
        channel = await self._channel(int(job.delivery.address))
        t = await self.bot.desk.transcript(SYSTEM, job.ticket.number)
        await channel.send(
            render.transcript_posted(job.ticket), allowed_mentions=pinging(),
            nonce=nonce(job.delivery.id, "post"), files=[
                discord.File(io.BytesIO(t.html.encode()), filename=t.filename),
                discord.File(io.BytesIO(t.markdown.encode()), filename=t.markdown_filename)])

    async def _team_thread_link(self, job: DeliveryJob) -> str | None:
        """The link to the ticket's team thread on this guild, once it has one."""
        for binding in await self.bot.desk.bindings_of(job.ticket.number):
            if binding.platform == PLATFORM and binding.audience is Audience.INTERNAL \
                    and binding.workspace == str(self.bot.guild_id) and binding.thread:
                return render.thread_url(self.bot.guild_id, binding.thread)
        return None


def pinging(*, users: list[int] = [], roles: list[int] = []) -> discord.AllowedMentions:  # noqa: B006
    """Allowed mentions of exactly ``users`` and ``roles``: never @everyone/@here, nobody
    named in user text, no reply ping."""
    return discord.AllowedMentions(
        everyone=False, replied_user=False,
        users=[discord.Object(u) for u in users] if users else False,
        roles=[discord.Object(r) for r in roles] if roles else False)


def answers_view(event: Event, t: TicketView) -> discord.ui.View | None:
    """The requester's buttons under a message that asks them something: "Yes, close it"
    / "No, I still need help" under a close request, Good / Bad under a resolution —
    while core still offers that answer (``t.actions``, the requester's view)."""
    if event.kind is EventKind.CLOSE_REQUESTED and Action.KEEP_OPEN in t.actions:
        return close_request_view(t.number)
    if event.kind is EventKind.RESOLVED and Action.RATE in t.actions:
        return rating_view(t.number)
    return None
