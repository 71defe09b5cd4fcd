"""Issue 13, points 1 and 2 on Discord (SimCord: real discord.py): the top-level
``/add``, ``/remove``, ``/watch``, ``/unwatch``, ``/share``, ``/unshare`` beside the
unchanged ``/ticket`` group (25 subcommands, Discord's limit), and the form's
watchers field. A watcher of the server joins the ticket's private thread."""

from __future__ import annotations

import discord

from adapters.discord.commands import TicketGroup
from core.events import Commented, Noted
from tests.platform.discord.conftest import World, fill, modal_inputs, open_ticket, told


def members(w: World, number: int) -> set[int]:
    """Who is in ticket ``number``'s private thread, as Discord keeps it."""
    return set(w.env.backend.channels[w.ticket_thread(number).id].thread_members)


async def watcher_keys(w: World, number: int) -> list[str]:
    details = await w.runtime.desk.show(w.as_core_actor(w.bob, w.agents), number)
    return [p.ref.key for p in details.ticket.watchers]


def test_the_ticket_group_keeps_its_25_subcommands_and_the_new_ones_are_top_level(
        world: World) -> None:
    group = TicketGroup()
    assert len(group.commands) == 25
    names = {c.name for c in world.bot.tree.get_commands(guild=discord.Object(world.guild.id))}
    assert {"ticket", "add", "remove", "watch", "unwatch", "share", "unshare"} <= names


async def test_add_a_member_who_joins_the_thread_sees_comments_and_is_removed(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    assert w.dave.id not in members(w, n)
    added = await w.alice.slash(w.ticket_thread(n), "add", member=w.dave)
    assert told(added).content == f"Done: Dave watches #{n}."
    await w.deliver()
    assert w.dave.id in members(w, n), "the watcher joined the private thread"
    card = {f.name: f.value for f in w.ticket_card(n).embeds[0].fields}
    assert card["Watchers"] == "Dave", "listed on the card"
    shown = await w.dave.slash(w.support, "ticket show", number=n)
    assert {f.name: f.value for f in told(shown).embeds[0].fields}["Watchers"] == "Dave"
    await w.dave.send(w.ticket_thread(n), "Same problem here")  # a watcher may comment
    await w.bob.send(w.team_thread(n), "internal: known bug")
    await w.deliver()
    history = await w.history(n)
    assert any(isinstance(e.payload, Commented) and e.payload.text == "Same problem here"
               and e.actor and e.actor.name == "Dave" for e in history)
    thread_texts = [m.embeds[0].description or "" for m in w.ticket_thread(n).history()
                    if m.embeds]
    assert not any("known bug" in t for t in thread_texts), "a note never reaches them"
    assert any(isinstance(e.payload, Noted) for e in history)
    removed = await w.bob.slash(w.team_thread(n), "remove", member=w.dave)
    assert told(removed).content == f"Done: Dave no longer watches #{n}."
    await w.deliver()
    assert w.dave.id not in members(w, n), "removed from the thread"
    assert w.alice.id in members(w, n), "the requester stays"
    again = await w.dave.slash(w.support, "ticket show", number=n)
    assert told(again).content == f"Refused: there is no ticket #{n} you can see"


async def test_who_may_add_and_a_bad_address_is_refused_by_name(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    stranger = await w.dave.slash(w.support, "add", member=w.erin, number=n)
    assert told(stranger).content == f"Refused: there is no ticket #{n} you can see"
    bad = await w.alice.slash(w.support, "add", email="omar@@example.com", number=n)
    assert told(bad).content.startswith("**email**: 'omar@@example.com' is not a valid "
                                        "e-mail address")
    both = await w.alice.slash(w.support, "add", member=w.dave, email="a@example.com",
                               number=n)
    assert told(both).content == "**cc**: give a member or an e-mail address (one of them)"
    mail = await w.alice.slash(w.support, "add", email="Omar@Example.com", number=n)
    assert told(mail).content == f"Done: omar@example.com watches #{n}."
    await w.alice.slash(w.support, "add", member=w.dave, number=n)
    watcher = await w.dave.slash(w.support, "add", member=w.erin, number=n)
    assert told(watcher).content == (f"Refused: only agents or the requester of #{n} can "
                                     "add watchers")
    assert await watcher_keys(w, n) == ["email::omar@example.com",
                                        f"discord:{w.guild.id}:{w.dave.id}"]
    gone = await w.alice.slash(w.support, "remove", email="omar@example.com", number=n)
    assert told(gone).content == f"Done: omar@example.com no longer watches #{n}."
    assert w.expect_errors() == []


async def test_share_watch_unwatch_unshare(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    hidden = await w.dave.slash(w.support, "watch", number=n)
    assert told(hidden).content == f"Refused: there is no ticket #{n} you can see"
    shared = await w.alice.slash(w.ticket_thread(n), "share")
    assert told(shared).content == f"Done: #{n} is shared with the whole server."
    listed = await w.dave.slash(w.support, "ticket list", org=True)
    assert f"**#{n}**" in told(listed).content, "the server sees it now"
    refused = await w.dave.slash(w.support, "unshare", number=n)
    assert told(refused).content == (f"Refused: only agents or the requester of #{n} can "
                                     "share it or make it private")
    watching = await w.dave.slash(w.support, "watch", number=n)
    assert told(watching).content == f"Done: you are watching #{n}; you are added to its " \
                                     "thread."
    await w.deliver()
    assert w.dave.id in members(w, n)
    twice = await w.dave.slash(w.support, "watch", number=n)
    assert told(twice).content == f"Refused: you already follow #{n}"
    stop = await w.dave.slash(w.ticket_thread(n), "unwatch")
    assert told(stop).content == f"Done: you no longer watch #{n}."
    await w.deliver()
    assert w.dave.id not in members(w, n)
    private = await w.bob.slash(w.team_thread(n), "unshare")
    assert told(private).content == (f"Done: #{n} is private: its requester, watchers and "
                                     "agents see it.")
    await w.deliver()
    footer = w.ticket_card(n).embeds[0].footer.text or ""
    assert "shared" not in footer
    gone = await w.dave.slash(w.support, "ticket show", number=n)
    assert told(gone).content == f"Refused: there is no ticket #{n} you can see"


async def test_the_form_takes_watchers_in_a_text_field(world: World) -> None:
    w = world
    shown = await w.alice.slash(w.support, "ticket new", category="general")
    values = fill(shown, subject="VPN drops", description="Every hour",
                  watchers="dave, not-an-address@")
    refused = await w.alice.submit_modal(shown, values)
    assert told(refused).content.startswith("**Watchers** (cc): 'not-an-address@' is not "
                                            "a valid e-mail address")
    shown = await w.alice.slash(w.support, "ticket new", category="general")
    values = fill(shown, subject="VPN drops", description="Every hour",
                  watchers=f"<@{w.dave.id}>, omar@example.com")
    result = await w.alice.submit_modal(shown, values)
    text = told(result).content
    assert text.startswith("Opened #"), text
    n = int(text.removeprefix("Opened #").split(":")[0])
    await w.deliver()
    assert await watcher_keys(w, n) == [f"discord:{w.guild.id}:{w.dave.id}",
                                        "email::omar@example.com"]
    assert {w.alice.id, w.dave.id} <= members(w, n), "in the thread from the start"


async def test_a_full_form_takes_its_watcher_from_the_command_option(world: World) -> None:
    w = world
    shown = await w.alice.slash(w.support, "ticket new", category="refund", watcher=w.dave)
    inputs = modal_inputs(shown)
    assert len(inputs) == 5 and "cc" not in inputs, "no room left: the option names them"
    values = fill(shown, subject="Refund please", description="Charged twice",
                  receipt="R-1001", card_last4="1234")
    text = told(await w.alice.submit_modal(shown, values)).content
    assert text.startswith("Opened #"), text
    n = int(text.removeprefix("Opened #").split(":")[0])
    await w.deliver()
    assert await watcher_keys(w, n) == [f"discord:{w.guild.id}:{w.dave.id}"]
    assert w.dave.id in members(w, n)
