"""Mirroring between ticket and team threads, notes, replies, attachments, no pings."""

from __future__ import annotations

import logging

import discord
import pytest

from tests.platform.discord.conftest import World, fill, open_ticket, told


def texts(channel) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.embeds[0].description or "" for m in channel.history() if m.embeds]


def authors(channel) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.embeds[0].author.name or "" for m in channel.history() if m.embeds]


async def test_ticket_thread_message_is_mirrored_to_the_team_thread(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.alice.send(w.ticket_thread(n), "Here is a screenshot",
                       attachments=[("error.png", b"\x89PNG....")])
    await w.deliver()
    team = w.team_thread(n).history()[-1]
    assert team.embeds[0].author.name == "Alice"
    assert team.embeds[0].description == "Here is a screenshot"
    assert "error.png" in team.embeds[0].fields[0].value
    # not echoed back into the thread it was typed in
    assert "Here is a screenshot" not in texts(w.ticket_thread(n))
    comment = (await w.history(n))[-1]
    assert comment.payload.attachments[0].name == "error.png"


async def test_team_thread_message_is_an_internal_note_and_goes_nowhere_else(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    before = len(w.ticket_thread(n).history())
    await w.bob.send(w.team_thread(n), "Looks like the SSO bug again")
    await w.deliver()
    assert len(w.ticket_thread(n).history()) == before
    assert all("SSO" not in m.embeds[0].description for m in
               w.alice.user.dm_channel.history() if m.embeds)
    assert (await w.history(n))[-1].kind.value == "noted"


async def test_reply_button_reaches_the_ticket_thread_under_the_agents_name(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    shown = await w.bob.click(w.team_card(n), label="Reply")
    assert shown.modal is not None
    done = await w.bob.submit_modal(shown, fill(shown, text="Please try again now"))
    assert told(done).ephemeral and told(done).content == f"Reply posted to #{n}."
    await w.deliver()
    last = w.ticket_thread(n).history()[-1]
    assert last.embeds[0].author.name == "Bob"
    assert last.embeds[0].description == "Please try again now"
    assert "Please try again now" in texts(w.team_thread(n))


async def test_reply_command_inside_the_team_thread_needs_no_number(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    done = await w.bob.slash(w.team_thread(n), "ticket reply", text="On it")
    assert told(done).content == f"Reply posted to #{n}."
    await w.deliver()
    assert texts(w.ticket_thread(n))[-1] == "On it"


async def test_user_text_never_pings(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice, subject="@everyone help",
                          description=f"<@&{w.agents.id}> @here please")
    await w.deliver()
    await w.alice.send(w.ticket_thread(n), f"@everyone <@&{w.agents.id}> <@{w.bob.id}>")
    await w.deliver()
    # what the bot wrote (Discord's own "started a thread" notices are not its messages)
    bot_messages = [m for ch in (w.ticket_thread(n), w.team_thread(n), w.team)
                    for m in ch.history() if m.author.id == w.bot.user.id
                    and m.type is discord.MessageType.default]
    assert bot_messages
    for m in bot_messages:
        assert not m.mention_everyone, m
        assert m.role_mentions == [] and m.mentions == [], m
    assert w.ticket_thread(n).name == "#1 @everyone help"


async def test_redelivered_message_does_not_make_a_second_comment(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    message = await w.alice.send(w.ticket_thread(n), "only once")
    await w.bot.on_message(message)  # the gateway delivers the same message again
    await w.deliver()
    assert [e.text for e in await w.history(n)].count("only once") == 1
    assert texts(w.team_thread(n)).count("only once") == 1


async def _redeliver_last_interaction(w: World) -> None:
    """The gateway delivers the last interaction again (e.g. replayed after a resume)."""
    payload = next(p for kind, name, p in reversed(w.env.backend.transcript)
                   if name == "INTERACTION_CREATE")
    w.env.backend.emit("INTERACTION_CREATE", payload)
    await w.env.settle()


async def test_redelivered_interactions_do_not_duplicate_tickets_or_replies(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "helpthread.discord")
    w = world
    n = await open_ticket(w, w.alice)
    await _redeliver_last_interaction(w)  # the form submission, again (discord.py drops it)
    await w.deliver()
    await w.bob.slash(w.team_thread(n), "ticket reply", text="Only one reply")
    await _redeliver_last_interaction(w)  # the command runs again: core deduplicates it
    await w.deliver()
    assert caplog.text.count("discord.interaction_redelivered") == 1
    assert [e.kind.value for e in await w.history(n)] == ["opened", "commented"]
    assert len(w.support.threads) == 1
    assert texts(w.ticket_thread(n)).count("Only one reply") == 1
