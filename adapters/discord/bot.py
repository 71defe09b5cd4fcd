"""The Discord client: intents, the /ticket group, persistent controls, thread messages.

Messages typed in a ticket thread become public comments, in a team thread internal
notes (``inbound.Inbox``: keyed by message id, in thread order, caught up on every
READY); the bot ignores itself, other bots and webhooks. Reposted text never pings:
the client's default allowed mentions are none.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import discord
from discord import app_commands

from adapters.discord.acting import on_error
from adapters.discord.answers import AnswerConnections, AnswersFirst
from adapters.discord.cards import DYNAMIC_ITEMS
from adapters.discord.commands import TicketGroup
from adapters.discord.early import EarlyDeferrals, GatewayParses
from adapters.discord.inbound import Inbox
from adapters.discord.plugin import DiscordSettings
from adapters.discord.ratelimits import install as install_delivery_http
from adapters.discord.watchers import COMMANDS as WATCHER_COMMANDS
from core.config import DeskConfig
from core.desk import Desk
from core.lanes import ANSWER_LANE, answer_lane

log = logging.getLogger("helpthread.discord")

# seconds a call outside deliveries may wait out a 429 (30 is discord.py's minimum);
# deliveries wait for none (ratelimits.delivering)
MAX_RATELIMIT_WAIT = 30.0
RECEIPTS_KEPT = 1000  # openings remembered (15 minutes each) for the closed-DMs receipt


def intents() -> discord.Intents:
    """Guilds (channels, threads), guild messages, and the privileged Message Content
    intent: thread messages are read and recorded as comments."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


class HelpthreadBot(discord.Client):
    """One guild's Helpthread bot serving ``desk`` (``settings``: ``[discord]``)."""

    def __init__(self, config: DeskConfig, settings: DiscordSettings, desk: Desk | None = None,
                 *, sync_commands: bool = True) -> None:
        # no message cache (discord.py keeps the last 1000 messages it saw, each an
        # object graph the garbage collector walks): thread messages are read from
        # their events, interactions carry their message, nothing edits or deletes by it
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(),
                         max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
                         chunk_guilds_at_startup=False, max_messages=None)
        http = install_delivery_http(self, MAX_RATELIMIT_WAIT)  # before the tree takes it
        self.config = config
        self.settings = settings
        self.guild_id = int(settings.guild_id or 0)
        self.sync_commands = sync_commands
        self._desk: Desk | None = desk
        self.tree: app_commands.CommandTree[HelpthreadBot] = app_commands.CommandTree(self)
        self.tree.add_command(TicketGroup(), guild=discord.Object(self.guild_id))
        for command in WATCHER_COMMANDS:  # top-level: /ticket holds its 25 subcommands
            self.tree.add_command(command, guild=discord.Object(self.guild_id))
        self.tree.error(on_error)  # what the /ticket group did not answer (checks, …)
        # ticket number → the follow-up webhook of the interaction that opened it, and
        # when that expires (``remember_receipt``)
        self._receipts: OrderedDict[int, tuple[discord.Webhook, datetime]] = OrderedDict()
        self.on_request: Callable[[str, float | None], None] | None = None
        self.inbox = Inbox(self)
        self.answers = AnswersFirst()  # interactions read and not answered yet
        self.answer_connections = AnswerConnections()  # their answers' own HTTP pool
        http.give_way = self.answers.give_way
        self.early = EarlyDeferrals(
            DYNAMIC_ITEMS, self._connection._view_store._modals.__contains__,
            lambda: self.answer_connections.session_for(
                getattr(self.http, "_HTTPClient__session", None)),
            self.answers.answered, self.answers.waiting)
        self.parses = GatewayParses(self.early.read,
                                    lambda data: self.early.unparsed(data, self._connection))
        self.parses.install(self._connection.parsers)

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        """discord.py's event dispatch; an interaction is counted as waiting for its
        answer the moment it is read (``answers.arrived``), before its callbacks run,
        and its answers go out on connections of their own (``answers.AnswerConnections``).
        Read on the gateway's task, in the event loop's answer lane (``core.lanes``): an
        interaction's callbacks stay in it until it is answered, any other event's
        handlers leave it."""
        if event == "interaction" and args:
            if not self.early.sent_for(args[0].id):  # else counted from its frame
                self.answers.arrived(args[0])
            self.answer_connections.take(args[0])
        elif ANSWER_LANE.get():
            answer_lane(False).run(super().dispatch, event, *args, **kwargs)
            return
        super().dispatch(event, *args, **kwargs)

    async def close(self) -> None:
        """discord.py's close; the garbage collector is not left held (``answers``), nor
        does a gateway event read before it reach the closing client (``early``)."""
        self.answers.close()
        self.parses.close()
        await super().close()
        await self.answer_connections.close()

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise RuntimeError("the Discord bot has no desk attached")
        return self._desk

    @desk.setter
    def desk(self, desk: Desk) -> None:
        self._desk = desk

    async def setup_hook(self) -> None:
        """After login: register the persistent controls, sync /ticket to the guild."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        if self.sync_commands:
            synced = await self.tree.sync(guild=discord.Object(self.guild_id))
            log.info("discord.commands_synced guild=%s commands=%s", self.guild_id,
                     [c.name for c in synced])

    # ---- the closed-DMs receipt -------------------------------------------------

    def remember_receipt(self, number: int, interaction: discord.Interaction[Any]) -> None:
        """The interaction that opened ``number``: if the requester's DMs are closed the
        receipt is sent as an ephemeral follow-up to it (valid 15 minutes). Only its
        follow-up webhook and that deadline are kept — not the interaction, its payload
        and member (dozens of objects the garbage collector would walk) — and only
        until the deadline."""
        self._receipts[number] = (interaction.followup, interaction.expires_at)
        now = discord.utils.utcnow()
        while self._receipts and (len(self._receipts) > RECEIPTS_KEPT
                                  or next(iter(self._receipts.values()))[1] <= now):
            self._receipts.popitem(last=False)

    def receipt_followup(self, number: int) -> discord.Webhook | None:
        """The follow-up webhook of the interaction that opened ``number``, while fresh."""
        found = self._receipts.get(number)
        if found is None or found[1] <= discord.utils.utcnow():
            return None
        return found[0]

    # ---- thread messages ------------------------------------------------------------

    def observe(self, kind: str, seconds: float | None = None) -> None:
        """One request received (``kind``: ``command``, ``component``, ``modal_submit``,
        ``message``) and, for an interaction, the seconds until its first answer;
        ``on_request`` (set by whoever keeps metrics) hears it."""
        if self.on_request is not None:
            self.on_request(kind, seconds)

    async def on_message(self, message: discord.Message) -> None:
        if self.inbox.wanted(message):
            self.observe("message")
        await self.inbox.on_message(message)

    async def on_ready(self) -> None:
        """A new gateway session (start, or the old one lost): events in between may
        be missing, so the ticket threads are read again (``Inbox.catch_up``)."""
        self.inbox.start_catching_up()
