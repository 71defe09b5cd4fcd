"""Thread messages into the desk, and catch-up after downtime (issue 10, points 1–3).

A message is keyed by its snowflake id (``discord:message:<id>``): a gateway replay
after a RESUME, or catch-up reading it again, is the same comment. Its id is also its
place in the thread (snowflakes grow with time).

One thread's messages are stored one at a time in the order the gateway dispatched
them (``InOrder``). On every READY — a start, or a new session after the gateway lost
ours, when events may have been missed — catch-up reads each open ticket's threads
(``TextChannel.history`` after the newest message stored from it, oldest first) and
stores what it finds, holding the thread's turn so that live messages wait behind it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import render
from adapters.discord.acting import PLATFORM, actor_of
from core.characters import trim
from core.errors import DeskError, Unavailable
from core.events import Attachment
from core.identity import Actor
from core.inbound import Receipt, ThreadCursor
from core.ordering import Backlog, CatchUpRunner, InOrder

if TYPE_CHECKING:
    from adapters.discord.bot import HelpthreadBot

log = logging.getLogger("helpthread.discord")

TEXT_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


BACKLOG_WAIT_SECONDS = 2.0  # a live message waits at most this long for its backlog


def message_receipt(message: discord.Message, *, in_order: bool = True) -> Receipt:
    """``discord:message:<id>``; ``in_order`` False: stored ahead of its thread's
    backlog, it does not move the thread's catch-up cursor."""
    key = (f"discord:message:{message.id}",)
    return Receipt(key, message.id, str(message.id)) if in_order else Receipt(key)


class Inbox:
    """Stores ``bot``'s thread messages (``store``) and catches up (``catch_up``)."""

    def __init__(self, bot: HelpthreadBot) -> None:
        self.bot = bot
        self.in_order = InOrder()
        self.backlog = Backlog()
        self.catching_up = CatchUpRunner(PLATFORM, self._read_threads,
                                    (DeskError, discord.HTTPException, OSError), self.backlog)
        # thread id -> just before the oldest message the desk could not store (its
        # database down): catch-up reads from there, not only after the cursor.
        self._missed: dict[int, int] = {}
        self._members: dict[int, discord.Member] = {}  # fetched during one catch-up

    async def on_message(self, message: discord.Message) -> None:
        if not self.wanted(message):
            return
        # A thread being caught up is read first (bounded); then the turn is taken
        # before any other await, in dispatch order.
        in_order = await self.backlog.settled(message.channel.id, BACKLOG_WAIT_SECONDS)
        async with self.in_order.turn(message.channel.id):
            await self.store(message, in_order=in_order)

    def wanted(self, message: discord.Message) -> bool:
        """A person's message in this guild that a ticket thread may record."""
        return not (message.author.bot or message.webhook_id is not None
                    or message.guild is None or message.guild.id != self.bot.guild_id
                    or message.type not in TEXT_MESSAGES)

    async def store(self, message: discord.Message, *, quiet: bool = False,
                    in_order: bool = True) -> bool:
        """Store ``message`` if it was written in a ticket's thread; returns whether it
        was stored now (False: not a ticket's, refused, or stored before). A refusal is
        answered under it unless ``quiet``; with ``quiet`` the desk being unavailable
        raises ``Unavailable``."""
        desk = self.bot.desk
        channel: Any = message.channel
        if isinstance(channel, discord.PartialMessageable):
            channel = await self.bot.fetch_channel(channel.id)
        parent = getattr(channel, "parent_id", None)
        if parent is None:
            return False
        try:
            binding = await desk.binding_at(PLATFORM, str(parent), str(channel.id))
        except DeskError:  # the store is down: read again once it answers; say so
            self._missed.setdefault(channel.id, message.id - 1)
            if quiet:
                raise
            self.start_catching_up()
            await message.reply(render.NOT_RECORDED_YET, mention_author=False)
            return False
        if binding is None:
            return False
        attachments = tuple(Attachment(a.filename, a.size, a.url) for a in message.attachments)
        text = trim(message.content) or render.attachments_only(len(attachments))
        if not text:
            return False  # a sticker or an embed-only message: nothing to record
        receipt = message_receipt(message, in_order=in_order)
        try:
            actor = await self._actor(message)
            outcome = await desk.post_in_thread(actor, binding, text, attachments=attachments,
                                                request_key=receipt.keys[0], receipt=receipt)
        except Unavailable:  # read again once the desk is back; say so
            self._missed.setdefault(channel.id, message.id - 1)
            if quiet:
                raise
            self.start_catching_up()
            await message.reply(render.NOT_RECORDED_YET, mention_author=False)
            return False
        except DeskError as err:
            await self._refused(message, err, quiet)
            return False
        if self._missed and not quiet:  # the desk answers again: read what it missed
            self.start_catching_up(at_once=True)
        return not outcome.replayed

    async def _actor(self, message: discord.Message) -> Actor:
        """The author as the guild knows them, with their roles: a message read back
        from history carries a user, not a member, so the member is looked up."""
        author: Any = message.author
        if not isinstance(author, discord.Member) and message.guild is not None:
            author = (message.guild.get_member(author.id) or self._members.get(author.id)
                      or author)
            if not isinstance(author, discord.Member):
                try:
                    author = await message.guild.fetch_member(author.id)
                    self._members[author.id] = author
                except discord.NotFound:  # left the guild: no roles any more
                    author = message.author
        return actor_of(author, self.bot.guild_id)

    async def _refused(self, message: discord.Message, err: DeskError, quiet: bool) -> None:
        if quiet:
            log.warning("discord.catch_up.refused message=%s: %s", message.id, err)
            return
        await message.reply(render.not_recorded(err), mention_author=False)

    # ---- catch-up -----------------------------------------------------------------

    def start_catching_up(self, *, at_once: bool = False) -> None:
        """Begin a catch-up unless one is running (called on every READY); ``at_once``:
        one waiting to try again is started over now (``core.ordering.CatchUpRunner``)."""
        self.catching_up.start(at_once=at_once)

    async def caught_up(self) -> int:
        """Wait for the running catch-up; returns the messages it stored (tests)."""
        return await self.catching_up.done()

    async def _read_threads(self) -> tuple[int, int]:
        self._members.clear()  # roles may have changed since the last catch-up
        await self.bot.desk.prune_inbound()
        cursors = await self.bot.desk.thread_cursors(PLATFORM)
        self.backlog.expect([int(c.binding.thread or 0) for c in cursors])
        stored = 0
        for cursor in cursors:
            stored += await self._thread(cursor)
            self.backlog.done(int(cursor.binding.thread or 0))
        return len(cursors), stored

    async def _thread(self, cursor: ThreadCursor) -> int:
        thread_id = int(cursor.binding.thread or 0)
        try:
            channel: Any = self.bot.get_channel(thread_id) \
                or await self.bot.fetch_channel(thread_id)
        except (discord.NotFound, discord.Forbidden) as err:  # deleted, or out of reach
            log.warning("discord.catch_up.skipped thread=%s: %s", thread_id, err.text)
            return 0
        # A thread with no cursor is read from its start: every message in it has a
        # larger id than the thread itself (and one stored before cursors existed has
        # the same request key, ``discord:message:<id>``, so it is not stored twice).
        after = discord.Object(int(cursor.message or thread_id))
        missed = self._missed.get(thread_id)
        if missed is not None and (cursor.message is None or missed < int(cursor.message)):
            after = discord.Object(missed)
        stored = 0
        async with self.in_order.turn(thread_id):
            try:
                async for message in channel.history(limit=None, after=after,
                                                     oldest_first=True):
                    if self.wanted(message) and await self.store(message, quiet=True):
                        stored += 1
            except discord.Forbidden as err:
                log.warning("discord.catch_up.skipped thread=%s: %s", thread_id, err.text)
        if self._missed.get(thread_id) == missed:
            self._missed.pop(thread_id, None)
        return stored
