"""``[transcripts] discord_channel_id``: when a ticket closes, its agents' transcript is
posted in that channel with both files, pinging nobody (issue 12, point 5)."""

from __future__ import annotations

from dataclasses import replace

import discord

from adapters.discord.invite import BOT_PERMISSIONS
from adapters.discord.platform import build_discord
from adapters.discord.plugin import PLUGIN
from adapters.shell.outbound import Printer, ShellOutbound
from adapters.shell.plugin import PLUGIN as SHELL
from adapters.shell.plugin import ShellSettings
from bot.runtime import build
from tests.platform.discord.conftest import World, open_ticket


async def with_transcripts_channel(w: World, channel_id: int) -> None:
    """The world's process restarted with ``[transcripts] discord_channel_id`` in the
    route the desk plans by (``bot.registry.routes`` puts it there from the config)."""
    route = replace(PLUGIN.route(w.settings, ()), transcripts_channel=str(channel_id))
    runtime = await build(w.runtime.settings, w.config,
                          [route, SHELL.route(ShellSettings(), ())],
                          [ShellOutbound(Printer(w.shell_out))], migrate=False)
    platform = await build_discord(runtime.desk, w.settings, token="test-token")
    runtime.worker.serve(platform.outbound)
    await w.runtime.close()
    w.platform, w.runtime = platform, runtime
    await w.env.restart_bot(platform.bot)


async def test_a_closed_tickets_agents_transcript_is_posted_in_the_transcripts_channel(
        world: World) -> None:
    w = world
    exact = discord.PermissionOverwrite.from_pair(
        BOT_PERMISSIONS, discord.Permissions(discord.Permissions.all().value
                                             & ~BOT_PERMISSIONS.value))
    hidden = discord.PermissionOverwrite(view_channel=False)
    logs = w.guild.create_text_channel("transcripts", overwrites={
        w.guild.default_role: hidden, w.agents: discord.PermissionOverwrite(view_channel=True),
        w.guild.me: exact})
    await with_transcripts_channel(w, logs.id)
    n = await open_ticket(w, w.alice, subject="Printer @everyone on fire")
    await w.deliver()
    await w.bob.send(w.team_thread(n), "Internal: the toner is counterfeit")
    await w.bob.slash(w.team_thread(n), "ticket close", reason="Replaced")
    await w.deliver()
    [posted] = logs.history()
    assert posted.content == (f"#{n} · Printer @everyone on fire is closed; its transcript, "
                              "internal notes included.")
    assert posted.raw_mentions == [] and not posted.mention_everyone
    page, markdown = posted.attachments
    assert (page.filename, markdown.filename) == (f"ticket-{n}-transcript.html",
                                                  f"ticket-{n}-transcript.md")
    html = (await page.read()).decode()
    assert "toner is counterfeit" in html and f"closed #{n} · status: Closed" in html
    assert "toner is counterfeit" in (await markdown.read()).decode()
    await w.deliver()
    assert len(logs.history()) == 1, "posted once"
