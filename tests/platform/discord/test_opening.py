"""``/ticket new`` → form → refusal naming the field → ticket, receipt, threads, cards."""

from __future__ import annotations

import pytest
import simcord

from tests.platform.discord.conftest import World, fill, modal_inputs, open_ticket, told


async def test_new_ticket_form_validation_receipt_thread_and_team_card(world: World) -> None:
    w = world
    shown = await w.alice.slash(w.support, "ticket new", category="refund", priority="high")
    inputs = modal_inputs(shown)
    assert len(inputs) == 5  # subject, description and the refund category's 3 fields
    assert shown.modal["title"] == "New ticket: Refund"

    bad = fill(shown, subject="Refund please", description="Charged twice",
               receipt="R-1001", card_last4="12ab")
    refused = await w.alice.submit_modal(shown, bad)
    assert told(refused).ephemeral
    assert told(refused).content.startswith(
        "**Last 4 digits of the card** (card_last4): is not a valid")
    assert "Nothing was opened" in told(refused).content
    await w.deliver()
    assert w.support.threads == []

    again = await w.alice.click(refused.response, label="Edit and submit again")
    prefilled = modal_inputs(again)
    assert prefilled["subject"]["value"] == "Refund please"
    assert prefilled["receipt"]["value"] == "R-1001"
    good = fill(again, subject="Refund please", description="Charged twice",
                receipt="R-1001", card_last4="1234")
    opened = await w.alice.submit_modal(again, good)
    assert opened.ephemeral and opened.response.content.startswith("Opened #1: Refund please")
    await w.deliver()

    thread = w.ticket_thread(1)
    assert thread.name == "#1 Refund please"
    assert thread.history(viewer=w.alice), "alice is in her private ticket thread"
    card = w.ticket_card(1)
    assert card.embeds[0].title == "#1 · Refund please"
    shown_fields = {f.name: f.value for f in card.embeds[0].fields}
    assert shown_fields["Priority"] == "high" and shown_fields["Status"] == "Open"
    assert "1234" not in str(card.embeds[0].to_dict()), "sensitive field never echoed"
    assert [c.label for row in card.components for c in row.children] == ["Close"]

    team_card = w.team_card(1)
    labels = [getattr(c, "label", None) for row in team_card.components for c in row.children]
    assert labels[:5] == ["Claim", "Reply", "Resolve", "Close", "Escalate"]  # core's order
    assert w.team_thread(1).name == "#1 Refund please"

    dm = w.alice.user.dm_channel.history()
    assert dm and dm[-1].embeds[0].title == "We have your ticket #1: Refund please"
    assert str(thread.id) in dm[-1].embeds[0].description


async def test_every_bad_field_of_the_form_is_named_at_once(world: World) -> None:
    shown = await world.alice.slash(world.support, "ticket new", category="refund")
    bad = fill(shown, subject="   ", description="   ", receipt="R-1",
               card_last4="12ab")  # Discord itself refuses a required input left empty
    content = told(await world.alice.submit_modal(shown, bad)).content
    assert content.startswith("**Subject** (subject): ")
    assert "\n**Description** (description): " in content
    assert "\n**Last 4 digits of the card** (card_last4): is not a valid" in content


async def test_private_thread_is_hidden_from_other_members(world: World) -> None:
    number = await open_ticket(world, world.alice)
    await world.deliver()
    thread = world.ticket_thread(number)
    with pytest.raises(simcord.SetupError):
        thread.history(viewer=world.dave)
    with pytest.raises(simcord.SetupError):
        world.team.history(viewer=world.alice)


async def test_a_requester_at_the_limit_is_refused_before_the_modal(world: World) -> None:
    w = world
    for i in range(5):  # the default limit: 5 open tickets
        await open_ticket(w, w.alice, subject=f"Problem {i}")
    refused = await w.alice.slash(w.support, "ticket new", category="general")
    assert refused.modal is None and told(refused).ephemeral
    assert told(refused).content.startswith("Refused: you already have 5 open tickets")
