"""The ``/ticket`` app-command group (PRODUCT.md §4), answered ephemerally.

Each subcommand is one core call; inside a ticket or team thread the number may be
left out. Discord allows 25 subcommands in a group; this one has 25.
"""

from __future__ import annotations

import io
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord import paging, render
from adapters.discord.acting import (
    act,
    actor_of,
    answer,
    bot_of,
    named_ticket,
    on_error,
    request_key,
)
from adapters.discord.help import help_text
from adapters.discord.panel import panel_view
from adapters.discord.stats import send_stats
from adapters.discord.views import TicketForm
from core.grammar import ListTickets, Queue, Search
from core.identity import Actor
from core.policy import Action
from core.validation import clean_category

Interaction = discord.Interaction[Any]
Priority = Literal["low", "normal", "high", "urgent"]
RatingChoice = Literal["good", "bad"]
Period = Literal["7d", "30d", "90d"]  # core.grammar.STATS_PERIODS
Number = app_commands.Range[int, 1, 999_999_999]


def _done(ticket: Any) -> str:
    return f"Done: #{ticket.number} is {render.status(ticket.status).lower()}."


class TicketGroup(app_commands.Group):
    """``/ticket …``: every subcommand of PRODUCT.md §4."""

    def __init__(self) -> None:
        super().__init__(name="ticket", description="Helpthread support tickets",
                         guild_only=True)

    async def on_error(self, interaction: Interaction,
                       error: app_commands.AppCommandError) -> None:
        """Every /ticket subcommand's errors: refusals and failures, answered once."""
        await on_error(interaction, error)

    async def _run(self, interaction: Interaction, number: int | None, work: Any) -> None:
        """Defer, resolve the ticket number (the option, else the thread's), then run
        ``work(actor, number)``."""
        async def bound(actor: Actor) -> str | None:
            result: str | None = await work(actor, await named_ticket(interaction, number))
            return result
        await act(interaction, number, bound)

    # ---- opening -------------------------------------------------------------------

    @app_commands.command(name="new", description="Open a ticket (a form follows)")
    @app_commands.describe(category="What it is about", priority="How urgent it is",
                           account="Account, program or vendor id, if any",
                           subject="The subject (you can change it in the form)",
                           shared="Let your whole server see it (default: private)",
                           for_="Agents: open it on this member's behalf",
                           watcher="A member who follows it too (the form takes more)")
    @app_commands.rename(for_="for")
    async def new(self, interaction: Interaction, category: str,
                  priority: Priority | None = None, account: str | None = None,
                  subject: str | None = None, shared: bool = False,
                  for_: discord.Member | None = None,
                  watcher: discord.Member | None = None) -> None:
        # A modal must be the first answer, so it cannot follow a deferral: only quick
        # checks come before it (one read: the per-user limits).
        async def work(actor: Actor) -> None:
            bot = bot_of(interaction)
            chosen = clean_category(bot.config, category)
            requester = None
            if for_ is not None:
                bot.desk.require(actor, Action.OPEN_FOR_OTHERS)
                requester = actor_of(for_, bot.guild_id)
            else:
                await bot.desk.check_may_open(actor)
            values = {"subject": subject} if subject else None
            cc = actor_of(watcher, bot.guild_id).person if watcher is not None else None
            await interaction.response.send_modal(TicketForm(
                chosen, priority=priority, account=account, shared=shared,
                requester=requester, values=values, watcher=cc))
        await act(interaction, None, work, deferral=None)

    @new.autocomplete("category")
    async def _categories(self, interaction: Interaction,
                          current: str) -> list[app_commands.Choice[str]]:
        wanted = current.strip().casefold()
        return [app_commands.Choice(name=c.name, value=c.key)
                for c in bot_of(interaction).config.categories
                if wanted in c.key or wanted in c.name.casefold()][:25]

    @app_commands.command(name="panel", description="Agents: post an 'Open a ticket' panel")
    @app_commands.describe(channel="Where to post it (default: here)")
    async def panel(self, interaction: Interaction,
                    channel: discord.TextChannel | None = None) -> None:
        async def work(actor: Actor) -> str:
            bot_of(interaction).desk.require(actor, Action.POST_PANEL)
            target: Any = channel or interaction.channel
            await target.send(embed=render.panel_embed(bot_of(interaction).config.desk.name),
                              view=panel_view())
            return f"Panel posted in <#{target.id}>."
        await act(interaction, None, work)

    # ---- reading --------------------------------------------------------------------

    @app_commands.command(name="list", description="Your visible tickets, newest first")
    @app_commands.describe(page="Which page of 20 (default: the first)")
    async def list_(self, interaction: Interaction,
                    scope: Literal["open", "closed", "all"] = "open", mine: bool = False,
                    org: bool = False, unread: bool = False, page: Number = 1) -> None:
        async def work(actor: Actor) -> None:
            await paging.show(interaction, actor, ListTickets(scope, mine=mine, org=org,
                                                              unread=unread, page=page))
        await act(interaction, None, work)

    @app_commands.command(name="show", description="All about one ticket")
    async def show(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> None:
            bot = bot_of(interaction)
            details = await bot.desk.show(actor, n)
            await answer(interaction, embed=render.details_embed(details, bot.guild_id))
        await self._run(interaction, number, work)

    @app_commands.command(name="search",
                          description="Words, \"a phrase\", -word, #N, status:open category:…")
    @app_commands.describe(page="Which page of 20 (default: the first)")
    async def search(self, interaction: Interaction, query: str, page: Number = 1) -> None:
        async def work(actor: Actor) -> None:
            await paging.show(interaction, actor, Search(query, page))
        await act(interaction, None, work)

    @app_commands.command(name="queue", description="Agents: breached, at risk, then "
                                                    "unassigned tickets")
    @app_commands.describe(page="Which page of 20 (default: the first)")
    async def queue(self, interaction: Interaction, page: Number = 1) -> None:
        async def work(actor: Actor) -> None:
            await paging.show(interaction, actor, Queue(page))
        await act(interaction, None, work)

    @app_commands.command(name="stats", description="Agents: how the desk is doing, with a "
                                                    "chart")
    @app_commands.describe(period="How far back (default: 30 days)")
    async def stats(self, interaction: Interaction, period: Period = "30d") -> None:
        async def work(actor: Actor) -> None:
            await send_stats(interaction, actor, period)
        await act(interaction, None, work)

    @app_commands.command(name="transcript",
                          description="The whole ticket as a file (an HTML page and Markdown)")
    async def transcript(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> None:
            t = await bot_of(interaction).desk.transcript(actor, n)
            await answer(interaction, f"Transcript of #{n}, as of now.", files=[
                discord.File(io.BytesIO(t.html.encode()), filename=t.filename),
                discord.File(io.BytesIO(t.markdown.encode()), filename=t.markdown_filename)])
        await self._run(interaction, number, work)

    @app_commands.command(name="help", description="What the /ticket commands do")
    async def help(self, interaction: Interaction) -> None:
        await answer(interaction, help_text(bot_of(interaction).desk.config.desk.name))

    # ---- conversation ----------------------------------------------------------------

    @app_commands.command(name="reply", description="Agents: a public reply to the requester")
    async def reply(self, interaction: Interaction, text: str,
                    number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            await bot_of(interaction).desk.reply(actor, n, text,
                                                 request_key=request_key(interaction))
            return f"Reply posted to #{n}."
        await self._run(interaction, number, work)

    @app_commands.command(name="note", description="Agents: an internal note")
    async def note(self, interaction: Interaction, text: str,
                   number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            await bot_of(interaction).desk.note(actor, n, text,
                                                request_key=request_key(interaction))
            return f"Internal note added to #{n}."
        await self._run(interaction, number, work)

    # ---- status and assignment ------------------------------------------------------

    @app_commands.command(name="claim", description="Agents: take a ticket")
    async def claim(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.claim(
                actor, n, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="assign", description="Agents: give a ticket to an agent")
    async def assign(self, interaction: Interaction, agent: discord.Member,
                     number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            bot = bot_of(interaction)
            ticket = await bot.desk.assign(
                actor, n, actor_of(agent, bot.guild_id), request_key=request_key(interaction))
            return f"Done: #{ticket.number} is assigned to {agent.display_name}."
        await self._run(interaction, number, work)

    @app_commands.command(name="unassign", description="Agents: hand a ticket back")
    async def unassign(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.unassign(
                actor, n, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="wait", description="Agents: ask the requester for information")
    async def wait(self, interaction: Interaction, question: str,
                   number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.request_info(
                actor, n, question, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="hold", description="Agents: park it on a third party")
    async def hold(self, interaction: Interaction, reason: str,
                   number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.hold(
                actor, n, reason, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="resume", description="Agents: back to work")
    async def resume(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.resume(
                actor, n, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="priority", description="Agents: change the priority")
    async def priority(self, interaction: Interaction, level: Priority,
                       number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            ticket = await bot_of(interaction).desk.set_priority(
                actor, n, level, request_key=request_key(interaction))
            return f"Done: #{ticket.number} is now {ticket.priority} priority."
        await self._run(interaction, number, work)

    @app_commands.command(name="escalate", description="Raise a ticket's escalation level")
    async def escalate(self, interaction: Interaction, reason: str,
                       number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            ticket = await bot_of(interaction).desk.escalate(
                actor, n, reason, request_key=request_key(interaction))
            return f"Done: #{ticket.number} is escalated (level {ticket.escalation_level})."
        await self._run(interaction, number, work)

    @app_commands.command(name="resolve", description="Agents: resolve with a note")
    async def resolve(self, interaction: Interaction, note: str,
                      number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.resolve(
                actor, n, note, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="close", description="Close a ticket (agents; your own)")
    async def close(self, interaction: Interaction, reason: str | None = None,
                    number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.close(
                actor, n, reason, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    @app_commands.command(name="reopen", description="Reopen a ticket (agents; your own)")
    async def reopen(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            return _done(await bot_of(interaction).desk.reopen(
                actor, n, request_key=request_key(interaction)))
        await self._run(interaction, number, work)

    # ---- close requests and satisfaction (PRODUCT.md §7) -------------------------------

    @app_commands.command(name="ask-close",
                          description="Agents: ask the requester to confirm closing")
    @app_commands.describe(message="A word to the requester (optional)")
    async def ask_close(self, interaction: Interaction, number: Number | None = None,
                        message: str | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            await bot_of(interaction).desk.ask_close(actor, n, message,
                                                     request_key=request_key(interaction))
            return f"Done: the requester of #{n} is asked to confirm closing it."
        await self._run(interaction, number, work)

    @app_commands.command(name="keep-open",
                          description="Your ticket: you still need help (not closing)")
    async def keep_open(self, interaction: Interaction, number: Number | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            await bot_of(interaction).desk.keep_open(actor, n,
                                                     request_key=request_key(interaction))
            return f"Understood: #{n} stays open; the team will get back to you."
        await self._run(interaction, number, work)

    @app_commands.command(name="rate", description="Your resolved ticket: how did we do?")
    @app_commands.describe(rating="Good or bad", comment="Anything to add (optional)")
    async def rate(self, interaction: Interaction, rating: RatingChoice,
                   number: Number | None = None, comment: str | None = None) -> None:
        async def work(actor: Actor, n: int) -> str:
            await bot_of(interaction).desk.rate(actor, n, rating, comment,
                                                request_key=request_key(interaction))
            return f"Thanks: your rating of #{n} ({rating}) is recorded."
        await self._run(interaction, number, work)
