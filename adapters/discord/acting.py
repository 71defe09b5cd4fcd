"""Who acts and how answers go back: shared by commands, buttons, selects and modals.

Identities are read from what Discord signed (the interaction's or message's member,
with its role ids as ``groups``); the core decides what they may do. Every answer
to an interaction is ephemeral; Discord wants the first one within 3 seconds
(https://discord.com/developers/docs/interactions/receiving-and-responding).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from adapters.discord import render
from core.errors import DeskError, NotFound
from core.identity import Actor, UserRef

if TYPE_CHECKING:
    from adapters.discord.bot import HelpthreadBot

PLATFORM = "discord"
ALREADY_ACKNOWLEDGED = 40060  # Discord: "Interaction has already been acknowledged"
log = logging.getLogger("helpthread.discord")


def bot_of(interaction: discord.Interaction[Any]) -> HelpthreadBot:
    return cast("HelpthreadBot", interaction.client)


def actor_of(user: discord.abc.User, guild_id: int, locale: str | None = None) -> Actor:
    """The acting person: ``discord:<guild id>:<user id>``, display name, role ids."""
    roles = frozenset(str(r.id) for r in getattr(user, "roles", ()))
    return Actor(UserRef(PLATFORM, str(guild_id), str(user.id)), user.display_name, roles,
                 locale)


def interaction_actor(interaction: discord.Interaction[Any], number: int | None = None) -> Actor:
    """The actor of an interaction from the configured guild. From anywhere else (another
    server, a DM) it is refused exactly like a ticket that does not exist."""
    guild_id = bot_of(interaction).guild_id
    if interaction.guild_id is None or interaction.guild_id != guild_id:
        raise NotFound(f"there is no ticket #{number}" if number is not None
                       else "Helpthread does not serve this server")
    return actor_of(interaction.user, guild_id, str(interaction.locale))


def request_key(interaction: discord.Interaction[Any]) -> str:
    """Makes a redelivered interaction idempotent in core (PRODUCT.md §8)."""
    return f"discord:interaction:{interaction.id}"


async def answer(interaction: discord.Interaction[Any], text: str | None = None, *,
                 embed: discord.Embed | None = None, view: discord.ui.View | None = None,
                 file: discord.File | None = None) -> None:
    """An ephemeral answer: the response if none was sent yet, else a follow-up."""
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
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
    except discord.HTTPException as err:
        if err.code != ALREADY_ACKNOWLEDGED:
            raise
        # a redelivered interaction: core already deduplicated the work; the first
        # delivery was answered
        log.info("discord.interaction_redelivered id=%s", interaction.id)


async def refuse(interaction: discord.Interaction[Any], err: DeskError) -> None:
    await answer(interaction, render.refusal(err))


async def act(interaction: discord.Interaction[Any], number: int | None,
              work: Callable[[Actor], Awaitable[str | None]]) -> None:
    """Run ``work`` as the interaction's actor; its text (if any) is the answer, a
    ``DeskError`` becomes an ephemeral refusal and nothing changes."""
    try:
        actor = interaction_actor(interaction, number)
        text = await work(actor)
    except DeskError as err:
        await refuse(interaction, err)
        return
    if text is not None:
        await answer(interaction, text)


async def thread_ticket(interaction: discord.Interaction[Any]) -> int | None:
    """The ticket whose ticket or team thread the interaction came from, if any."""
    channel = interaction.channel
    parent = getattr(channel, "parent_id", None)
    if channel is None or parent is None:
        return None
    binding = await bot_of(interaction).desk.binding_at(PLATFORM, str(parent), str(channel.id))
    return binding.ticket_number if binding else None
