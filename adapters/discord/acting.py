"""Who acts and how answers go back: shared by commands, buttons, selects and modals.

Identities are read from what Discord signed (the interaction's or message's member,
with its role ids as ``groups``); the core decides what they may do. Every answer
to an interaction is ephemeral; Discord wants the first one within 3 seconds
(https://discord.com/developers/docs/interactions/receiving-and-responding), so
work that touches the database or another platform is deferred first (``defer``):
an ephemeral "thinking" answer for commands and forms, a deferred update for card
controls; the result follows. Errors are answered in one place (``on_error``),
reached from the command group and tree, the modals, the views and the card
controls' base class — never from a ``try`` in each callback. Answers come first: a
deferral that is the first answer is sent from the gateway frame, before discord.py
builds the interaction (``early``); the work after a deferral waits while other
interactions are still unanswered (``answers.AnswersFirst``), and so does the delivery
worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, cast

import discord
from discord import app_commands

from adapters.discord import render
from core.errors import DeskError, Invalid, NotFound, no_ticket
from core.identity import Actor, UserRef

if TYPE_CHECKING:
    from adapters.discord.bot import HelpthreadBot

PLATFORM = "discord"
ALREADY_ACKNOWLEDGED = 40060  # Discord: "Interaction has already been acknowledged"
ERROR_ANSWERED = "helpthread.error_answered"  # in Interaction.extras
log = logging.getLogger("helpthread.discord")


def bot_of(interaction: discord.Interaction[Any]) -> HelpthreadBot:
    return cast("HelpthreadBot", interaction.client)


def actor_of(user: discord.abc.User, guild_id: int, locale: str | None = None) -> Actor:
    """The acting person: ``discord:<guild id>:<user id>``, display name, role ids."""
    roles = frozenset(str(r.id) for r in getattr(user, "roles", ()))
    return Actor(UserRef(PLATFORM, str(guild_id), str(user.id)), user.display_name, roles,
                 locale)


def interaction_actor(interaction: discord.Interaction[Any], number: int | None = None, *,
                      in_dm: bool = False) -> Actor:
    """The actor of an interaction from the configured guild. From anywhere else (another
    server, a DM) it is refused exactly like a ticket that does not exist — but with
    ``in_dm`` (the requester's own buttons on a notice sent by DM) a DM's user acts as
    that guild's user of the same id, with no roles: Discord user ids are global and
    signed, and what a requester does needs none."""
    guild_id = bot_of(interaction).guild_id
    if in_dm and interaction.guild_id is None:
        return actor_of(interaction.user, guild_id, str(interaction.locale))
    if interaction.guild_id is None or interaction.guild_id != guild_id:
        raise (no_ticket(number) if number is not None
               else NotFound("Helpthread does not serve this server"))
    return actor_of(interaction.user, guild_id, str(interaction.locale))


def request_key(interaction: discord.Interaction[Any]) -> str:
    """Makes a redelivered interaction idempotent in core (PRODUCT.md §8)."""
    return f"discord:interaction:{interaction.id}"


async def answer(interaction: discord.Interaction[Any], text: str | None = None, *,
                 embed: discord.Embed | None = None, view: discord.ui.View | None = None,
                 file: discord.File | None = None,
                 files: list[discord.File] | None = None) -> None:
    """An ephemeral answer: the response if none was sent yet, else a follow-up;
    ``file`` or ``files`` attached."""
    kwargs: dict[str, Any] = {"ephemeral": True,
                              "allowed_mentions": discord.AllowedMentions.none()}
    if text is not None:
        kwargs["content"] = text
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if file is not None:
        kwargs["file"] = file
    if files:
        kwargs["files"] = files
    try:
        if interaction.response.is_done():
            await bot_of(interaction).answer_connections.followup(interaction).send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
            bot_of(interaction).answers.answered()
    except discord.HTTPException as err:
        if err.code != ALREADY_ACKNOWLEDGED:
            raise
        # a redelivered interaction: core already deduplicated the work; the first
        # delivery was answered
        log.info("discord.interaction_redelivered id=%s", interaction.id)


async def refuse(interaction: discord.Interaction[Any], err: DeskError) -> None:
    await answer(interaction, render.refusal(err))


def refused_first_answer(interaction_id: int, err: discord.HTTPException) -> None:
    """Log why Discord refused an interaction's first answer: already acknowledged (a
    redelivery, whose first delivery answers) or anything else (10062 Unknown
    interaction: too late, the person was told it failed)."""
    if err.code == ALREADY_ACKNOWLEDGED:
        log.info("discord.interaction_redelivered id=%s", interaction_id)
    else:
        log.warning("discord.interaction_lost id=%s: %s", interaction_id, err)


async def defer(interaction: discord.Interaction[Any], *, update: bool = False) -> bool:
    """Answer ``interaction`` at once, before any work: an ephemeral "thinking" answer
    (commands, form submissions), or with ``update`` a deferred update that leaves the
    card as it is (card controls). The result then follows through ``answer``.
    Returns False for an interaction that was already answered — a redelivery, whose
    first delivery answers — or one Discord no longer knows (past its 3 seconds):
    nothing is done for it then. A deferral already sent from the gateway frame
    (``early``) is taken instead of sending another."""
    early = await bot_of(interaction).early.take(interaction)
    if early is not None:
        if early:
            bot_of(interaction).answers.answered()
        return early
    try:
        if update:
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        bot_of(interaction).answers.answered()
    except discord.HTTPException as err:
        refused_first_answer(interaction.id, err)
        return False
    return True


async def send_modal(interaction: discord.Interaction[Any], modal: discord.ui.Modal) -> bool:
    """Answer with ``modal``; False for a redelivered interaction (its first delivery
    showed the form) or one Discord no longer knows: nothing more is said to it."""
    try:
        await interaction.response.send_modal(modal)
        bot_of(interaction).answers.answered()
    except discord.HTTPException as err:
        refused_first_answer(interaction.id, err)
        return False
    return True


async def on_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """The layered hooks' one handler (the /ticket group and the command tree, modals,
    views, card controls): what ``act`` did not answer — a bug, an outage of Discord
    itself — is logged with the interaction's id and answered once ("that did not
    work"), so nobody is left thinking; a stray ``DeskError`` is still a refusal."""
    if interaction.extras.get(ERROR_ANSWERED):
        return  # a layer below (the /ticket group) answered it; the tree comes after
    interaction.extras[ERROR_ANSWERED] = True
    original = _original(error)
    if isinstance(original, DeskError):
        await refuse(interaction, original)
        return
    log.error("discord.interaction_failed id=%s", interaction.id, exc_info=original)
    try:
        await answer(interaction, render.FAILED)
    except discord.HTTPException as err:  # Discord itself failing: the log is all we have
        log.warning("discord.interaction_unanswered id=%s: %s", interaction.id, err)


def _original(error: BaseException) -> BaseException:
    """The error a callback raised, out of discord.py's wrappers."""
    while True:
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
            error = error.__cause__
        else:
            return error


Deferral = Literal["thinking", "update"] | None
Refused = Callable[[DeskError], Awaitable[None]]


async def act(interaction: discord.Interaction[Any], number: int | None,
              work: Callable[[Actor], Awaitable[str | None]], *,
              deferral: Deferral = "thinking", refused: Refused | None = None,
              in_dm: bool = False) -> None:
    """The one path of every interaction: answer at once (``deferral``: "thinking" for
    commands and forms, "update" for card controls, None where a modal must be the
    first answer and only quick checks come before it), then — once no other interaction
    waits for its first answer (``answers.AnswersFirst.give_way``) — run ``work`` as the
    interaction's actor (``in_dm``: also from a DM, ``interaction_actor``); its text,
    if any, is the result. A ``DeskError`` is the refusal (``refused``, or the common
    rendering) and nothing changed. Anything else propagates to the layered hooks
    (``on_error``)."""
    started = time.perf_counter()
    if deferral is not None:
        deferred = await defer(interaction, update=deferral == "update")
        _observed(interaction, started if deferred else None)
        if not deferred:
            return
        # the work waits while other interactions wait for their first answer
        await bot_of(interaction).answers.give_way()
    try:
        text = await work(interaction_actor(interaction, number, in_dm=in_dm))
    except DeskError as err:
        await (refused(err) if refused is not None else refuse(interaction, err))
        return
    finally:
        if deferral is None:  # the first answer was the work's (a modal) or a refusal
            _observed(interaction, started)
    if text is not None:
        await answer(interaction, text)


KINDS = {discord.InteractionType.application_command: "command",
         discord.InteractionType.component: "component",
         discord.InteractionType.modal_submit: "modal_submit"}


def _observed(interaction: discord.Interaction[Any], started: float | None) -> None:
    """Tell the bot's metrics hook of this interaction and, when it was answered, how
    long its first answer took from the moment the callback began."""
    seconds = None if started is None else time.perf_counter() - started
    bot_of(interaction).answers.answered()
    bot_of(interaction).observe(KINDS.get(interaction.type, "other"), seconds)


async def thread_ticket(interaction: discord.Interaction[Any]) -> int | None:
    """The ticket whose ticket or team thread the interaction came from, if any."""
    channel = interaction.channel
    parent = getattr(channel, "parent_id", None)
    if channel is None or parent is None:
        return None
    binding = await bot_of(interaction).desk.binding_at(PLATFORM, str(parent), str(channel.id))
    return binding.ticket_number if binding else None


async def named_ticket(interaction: discord.Interaction[Any], number: int | None) -> int:
    """The ticket a command names: its ``number`` option, else the ticket whose thread it
    was used in. Raises ``Invalid("number")`` when neither names one."""
    if number is not None:
        return number
    found = await thread_ticket(interaction)
    if found is None:
        raise Invalid("number", "say which ticket (or use the command inside its thread)")
    return found
