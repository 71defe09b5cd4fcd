"""Deflection on Discord (real discord.py in SimCord): the receipt's "These may help"
fields and the team card's similar past tickets, kept when the card is edited; user text
shown as itself, pinging nobody; another requester's private ticket never offered."""

from __future__ import annotations

from tests.platform.discord.conftest import World, open_ticket

HOSTILE_NOTE = "Reset the password for @everyone <@&1> **now**; the link lasts 30 minutes."


def fields(message: object) -> dict[str, str]:
    embed = message.embeds[0]  # type: ignore[attr-defined]
    return {f.name: f.value for f in embed.fields}


async def test_receipt_offers_what_may_help_and_the_team_card_similar_tickets(
        world: World) -> None:
    w = world
    bob = w.as_core_actor(w.bob, w.agents)
    first = await open_ticket(w, w.alice, subject="Cannot log in",
                              description="The password reset link expired")
    await w.runtime.desk.resolve(bob, first, HOSTILE_NOTE)
    daves = await open_ticket(w, w.dave, subject="Cannot log in either",
                              description="My password reset link expired too")
    await w.runtime.desk.resolve(bob, daves, "Sent dave a fresh reset link.")
    await w.deliver()
    number = await open_ticket(w, w.alice, subject="Login fails",
                               description="The reset link for my password has expired")
    await w.deliver()

    receipt = w.alice.user.dm_channel.history()[-1]
    assert receipt.embeds[0].title.startswith(f"We have your ticket #{number}")
    shown = fields(receipt)
    assert "These may help" in shown
    assert f"#{first} · Cannot log in" in shown
    assert not any(name.startswith(f"#{daves} ") for name in shown)  # dave's, private
    note = shown[f"#{first} · Cannot log in"]
    assert "@everyone" not in note and "**now**" not in note  # embeds ping nobody anyway
    assert "password" in note

    card = fields(w.team_card(number))
    similar = [name for name in card if name.startswith("Similar: ")]
    assert f"Similar: #{daves} · Cannot log in either" in similar  # agents see every one
    assert f"Similar: #{first} · Cannot log in" in similar
    await w.runtime.desk.claim(bob, number)
    await w.deliver()
    edited = fields(w.team_card(number))
    assert edited["Status"] == "In progress"
    assert [n for n in edited if n.startswith("Similar: ")] == similar  # kept on the edit
    assert not any(n.startswith("Similar") for n in fields(w.ticket_card(number)))
