"""Watchers and sharing on Discord: ``/add``, ``/remove``, ``/watch``, ``/unwatch``,
``/share``, ``/unshare`` (PRODUCT.md §4: ``cc``, ``uncc``, ``watch``, ``unwatch``,
``share``, ``unshare``).

The ``/ticket`` group already holds Discord's limit of 25 subcommands, so these are
top-level commands, as Discord ticket bots have them (Discord Tickets' ``/add`` and
``/remove`` put a member on a ticket). Inside a ticket or team thread the number may
be left out. A watcher of this server is added to the ticket's private thread (the
outbound side, on the ``WatcherAdded`` event) and hears of it there; an e-mail
watcher by e-mail. Every call goes through the core (``act``), authorised there.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters.discord.acting import act, actor_of, bot_of, named_ticket, request_key
from core import commands as cmd
from core.errors import Invalid
from core.form_fields import watcher_words
from core.identity import Actor, Person
from core.tickets import Ticket, Visibility
from core.validation import shown
from core.watching import email_watcher, looks_like_email

Interaction = discord.Interaction[Any]
Number = app_commands.Range[int, 1, 999_999_999]
MENTION = re.compile(r"<@!?([0-9]{1,20})>|([0-9]{15,20})")
QUERY_LIMIT = 5


async def watcher_of(interaction: Interaction, text: str, field: str = "cc") -> Person:
    """A watcher as typed in a form or an option: a mention or user id of this server's
    member, ``@name``/a member's name, or an e-mail address. Raises ``Invalid(field)``."""
    typed = text.strip()
    bot = bot_of(interaction)
    mention = MENTION.fullmatch(typed)
    if not mention and looks_like_email(typed):
        return email_watcher(typed, field)
    guild = bot.get_guild(bot.guild_id)
    member: discord.Member | None = None
    if mention and guild is not None:
        uid = int(mention.group(1) or mention.group(2))
        member = guild.get_member(uid)
        if member is None:
            try:
                member = await guild.fetch_member(uid)
            except discord.NotFound:
                member = None
    elif guild is not None and typed:
        member = await _named(guild, typed.removeprefix("@"))
    if member is None:
        raise Invalid(field, f"{shown(typed)} is neither a member of this server nor an "
                      "e-mail address")
    return actor_of(member, bot.guild_id).person


async def _named(guild: discord.Guild, name: str) -> discord.Member | None:
    """The member called ``name`` (user name, global or server display name, any case):
    from the cache, else by asking the gateway (a name query needs no privileged
    intent). None when nobody — or more than one member — answers to it."""
    found = guild.get_member_named(name)
    if found is not None or not name:
        return found
    try:
        answers = await guild.query_members(query=name, limit=QUERY_LIMIT, cache=False)
    except (TimeoutError, discord.ClientException):
        return None
    wanted = name.casefold()
    exact = [m for m in answers
             if wanted in {m.name.casefold(), m.display_name.casefold(),
                           (m.global_name or "").casefold()}]
    return exact[0] if len(exact) == 1 else None


def _one(member: discord.Member | None, email: str | None) -> None:
    if (member is None) == (email is None):
        raise Invalid("cc", "give a member or an e-mail address (one of them)")


Work = Callable[[Actor, int], Awaitable[str]]


async def _run(interaction: Interaction, number: int | None, work: Work) -> None:
    async def bound(actor: Actor) -> str:
        return await work(actor, await named_ticket(interaction, number))
    await act(interaction, number, bound)


async def _person(interaction: Interaction, member: discord.Member | None,
                  email: str | None) -> Person:
    _one(member, email)
    if member is not None:
        return actor_of(member, bot_of(interaction).guild_id).person
    assert email is not None
    return email_watcher(email, "email")


@app_commands.command(name="add", description="Add a watcher to a ticket (the requester; "
                                              "agents)")
@app_commands.describe(member="A member to add", email="Or an e-mail address",
                       number="The ticket (inside its thread: that one)")
@app_commands.guild_only()
async def add(interaction: Interaction, member: discord.Member | None = None,
              email: str | None = None, number: Number | None = None) -> None:
    async def work(actor: Actor, n: int) -> str:
        watcher = await _person(interaction, member, email)
        await bot_of(interaction).desk.run(actor, cmd.AddWatcher(n, watcher),
                                           request_key=request_key(interaction))
        return f"Done: {discord.utils.escape_markdown(watcher.name)} watches #{n}."
    await _run(interaction, number, work)


@app_commands.command(name="remove", description="Remove a watcher from a ticket (the "
                                                 "requester; agents)")
@app_commands.describe(member="A member to remove", email="Or an e-mail address",
                       number="The ticket (inside its thread: that one)")
@app_commands.guild_only()
async def remove(interaction: Interaction, member: discord.Member | None = None,
                 email: str | None = None, number: Number | None = None) -> None:
    async def work(actor: Actor, n: int) -> str:
        watcher = await _person(interaction, member, email)
        await bot_of(interaction).desk.run(actor, cmd.RemoveWatcher(n, watcher),
                                           request_key=request_key(interaction))
        return f"Done: {discord.utils.escape_markdown(watcher.name)} no longer watches #{n}."
    await _run(interaction, number, work)


@app_commands.command(name="watch", description="Follow a ticket you can see: every public "
                                                "update")
@app_commands.describe(number="The ticket (inside its thread: that one)")
@app_commands.guild_only()
async def watch(interaction: Interaction, number: Number | None = None) -> None:
    async def work(actor: Actor, n: int) -> str:
        await bot_of(interaction).desk.watch(actor, n, request_key=request_key(interaction))
        return f"Done: you are watching #{n}; you are added to its thread."
    await _run(interaction, number, work)


@app_commands.command(name="unwatch", description="Stop following a ticket")
@app_commands.describe(number="The ticket (inside its thread: that one)")
@app_commands.guild_only()
async def unwatch(interaction: Interaction, number: Number | None = None) -> None:
    async def work(actor: Actor, n: int) -> str:
        await bot_of(interaction).desk.unwatch(actor, n, request_key=request_key(interaction))
        return f"Done: you no longer watch #{n}."
    await _run(interaction, number, work)


def _shared(ticket: Ticket) -> str:
    if ticket.visibility is Visibility.SHARED:
        return f"Done: #{ticket.number} is shared with the whole server."
    return f"Done: #{ticket.number} is private: its requester, watchers and agents see it."


@app_commands.command(name="share", description="Let the whole server see a ticket (the "
                                                "requester; agents)")
@app_commands.describe(number="The ticket (inside its thread: that one)")
@app_commands.guild_only()
async def share(interaction: Interaction, number: Number | None = None) -> None:
    async def work(actor: Actor, n: int) -> str:
        return _shared(await bot_of(interaction).desk.set_visibility(
            actor, n, "shared", request_key=request_key(interaction)))
    await _run(interaction, number, work)


@app_commands.command(name="unshare", description="Make a ticket private again (the "
                                                  "requester; agents)")
@app_commands.describe(number="The ticket (inside its thread: that one)")
@app_commands.guild_only()
async def unshare(interaction: Interaction, number: Number | None = None) -> None:
    async def work(actor: Actor, n: int) -> str:
        return _shared(await bot_of(interaction).desk.set_visibility(
            actor, n, "private", request_key=request_key(interaction)))
    await _run(interaction, number, work)


COMMANDS: tuple[app_commands.Command[Any, Any, Any], ...] = (
    add, remove, watch, unwatch, share, unshare)


async def form_watchers(interaction: Interaction, text: str) -> tuple[Person, ...]:
    """The ticket form's watchers field: members and e-mail addresses separated by
    commas. Raises ``Invalid("cc", …)`` naming the first that is neither."""
    return tuple([await watcher_of(interaction, w) for w in watcher_words(text)])
