"""The panel, persistent controls across a restart, forged controls, closed DMs."""

from __future__ import annotations

import discord

from adapters.discord.views import ClaimButton
from tests.platform.discord.conftest import World, fill, modal_inputs, open_ticket, told


async def test_panel_button_category_select_then_form(world: World) -> None:
    w = world
    posted = await w.bob.slash(w.support, "ticket panel")
    assert posted.ephemeral and posted.response.content == f"Panel posted in <#{w.support.id}>."
    panel = w.support.history()[-1]
    assert panel.embeds[0].title == "Helpthread: open a ticket"
    menu = await w.alice.click(panel, label="Open a ticket")
    assert menu.ephemeral
    shown = await w.alice.select(menu.response, ["refund"])
    assert shown.modal["title"] == "New ticket: Refund"
    assert set(modal_inputs(shown)) == {"subject", "description", "receipt", "amount",
                                        "card_last4"}
    opened = await w.alice.submit_modal(shown, fill(shown, subject="Double charge",
                                                     description="Twice", receipt="R-9"))
    assert opened.response.content.startswith("Opened #1: Double charge")
    await w.deliver()
    assert w.ticket_thread(1).history(viewer=w.alice)


async def test_old_card_buttons_work_after_a_restart(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    card = w.team_card(n)
    await w.restart()
    done = await w.bob.click(card, label="Claim")
    assert told(done).content == f"You have #{n}; it is in progress."
    await w.deliver()
    assert w.ticket_thread(n).history(viewer=w.bob)
    await w.alice.click(w.ticket_card(n), label="Close")  # the ticket card's button too
    await w.alice.send(w.ticket_thread(n), "Sorry, one more thing")  # and thread messages
    await w.deliver()
    said = [m.embeds[0].description for m in w.team_thread(n).history() if m.embeds]
    assert f"alice closed #{n}." in [s.lower() for s in said]
    assert "Sorry, one more thing" in said


async def _forged_claim(w: World, channel_id: int, number: int) -> discord.Message:
    """A message carrying a Claim control for ``number``, however it got there."""
    view = discord.ui.View(timeout=None)
    view.add_item(ClaimButton(number))
    channel = w.bot.get_channel(channel_id)
    message = await channel.send("Claim me", view=view)
    await w.env.settle()
    return message


async def test_a_control_naming_a_ticket_that_does_not_exist_is_refused(world: World) -> None:
    w = world
    await _forged_claim(w, w.support.id, 4242)
    refused = await w.bob.click(w.support.history()[-1], label="Claim")
    assert told(refused).ephemeral
    assert told(refused).content == "Refused: there is no ticket #4242 you can see"


async def test_a_control_used_on_another_server_is_refused_the_same_way(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    other = w.env.create_guild("Elsewhere")
    lobby = other.create_text_channel("lobby")
    mallory = other.add_member(w.env.create_user("mallory"),
                               roles=[other.create_role("Agents")])
    await w.env.settle()
    await _forged_claim(w, lobby.id, n)
    refused = await mallory.click(lobby.history()[-1], label="Claim")
    assert told(refused).ephemeral
    assert told(refused).content == f"Refused: there is no ticket #{n} you can see"
    assert [e.kind.value for e in await w.history(n)] == ["opened"]


async def test_closed_dms_get_the_receipt_as_an_ephemeral_message(world: World) -> None:
    w = world
    dm = w.alice.user.dm_channel
    w.env.inject_error("POST", f"/channels/{dm.id}/messages", status=403, code=50007,
                       message="Cannot send messages to this user")
    shown = await w.alice.slash(w.support, "ticket new", category="general")
    opened = await w.alice.submit_modal(shown, fill(shown, subject="No DMs",
                                                     description="Mine are closed"))
    await w.deliver()
    assert dm.history() == []
    receipt = opened.followups[-1]
    assert receipt.ephemeral
    assert receipt.embeds[0].title == "We have your ticket #1: No DMs"


async def test_agent_opens_a_ticket_for_a_member(world: World) -> None:
    w = world
    refused = await w.dave.slash(w.support, "ticket new", category="general", **{"for": w.alice})
    assert told(refused).content.startswith("Refused: only agents")
    shown = await w.bob.slash(w.support, "ticket new", category="account", **{"for": w.dave})
    opened = await w.bob.submit_modal(shown, fill(shown, subject="Locked out",
                                                   description="Called us by phone"))
    assert opened.response.content.startswith("Opened #1")
    await w.deliver()
    assert w.ticket_thread(1).history(viewer=w.dave)
    card = w.ticket_card(1)
    assert {f.name: f.value for f in card.embeds[0].fields}["Requester"] == "Dave"
