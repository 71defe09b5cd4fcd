"""Issue 9, point 3 on Discord: cards offer exactly what core says (``TicketView.actions``),
read back from the components of the messages the bot sent and edited; a redelivered
interaction acts once."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from core.policy import Action
from core.tickets import Status
from tests.platform.cards import CASES, bring_to, core_offers, expected
from tests.platform.discord.conftest import World, open_ticket, told

# How this test reads a Discord control back (the verb of its ``ticket:<verb>:<n>``
# custom_id), independent of the adapter.
DISCORD_CONTROLS = {
    "claim": Action.CLAIM, "reply": Action.REPLY, "resolve": Action.RESOLVE,
    "close": Action.CLOSE, "reopen": Action.REOPEN, "priority": Action.SET_PRIORITY,
    "escalate": Action.ESCALATE, "ask-close": Action.ASK_CLOSE,
}


def offered(message: discord.Message) -> list[Action]:
    """The actions of the message's controls, row by row."""
    found = []
    for row in message.components:
        for control in getattr(row, "children", ()):
            _, verb, _number = str(control.custom_id).split(":")
            found.append(DISCORD_CONTROLS[verb])
    return found


@pytest.mark.parametrize(("status", "card"), CASES)
async def test_card_offers_what_core_allows_its_audience(world: World, status: Status,
                                                         card: str) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    agent = w.as_core_actor(w.bob, w.agents)
    await bring_to(w.runtime.desk, agent, n, status)
    await w.deliver()
    assert (await w.runtime.desk.show(agent, n)).ticket.status is status
    message = w.team_card(n) if card == "team" else w.ticket_card(n)
    shown = sorted(offered(message), key=list(Action).index)  # a select takes a row of its own
    assert shown == sorted(await core_offers(w.runtime.desk, n, card), key=list(Action).index)
    assert shown == sorted(expected(status, card), key=list(Action).index)


def last_interaction(w: World) -> dict[str, Any]:
    """The INTERACTION_CREATE payload SimCord last sent the bot."""
    return next(dict(payload) for _, event, payload in reversed(w.env.backend.transcript)
                if event == "INTERACTION_CREATE")


async def redeliver(w: World, payload: dict[str, Any]) -> None:
    """Discord sends the same interaction (same id) again."""
    w.env.backend.emit("INTERACTION_CREATE", payload)
    await w.env.settle()


async def test_the_same_claim_interaction_delivered_again_claims_once(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    first = await w.bob.click(w.team_card(n), label="Claim")
    assert told(first).content == f"You have #{n}; it is in progress."
    claim = last_interaction(w)
    await redeliver(w, claim)  # at once: nothing new
    await w.runtime.desk.unassign(w.as_core_actor(w.bob, w.agents), n)
    await redeliver(w, claim)  # late, after bob handed it back: still the old claim
    await w.deliver()
    assert [e.kind.value for e in await w.history(n)] == ["opened", "claimed", "unassigned"]


async def test_a_late_redelivered_priority_choice_does_not_undo_a_newer_one(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.bob.select(w.team_card(n), ["urgent"])
    urgent = last_interaction(w)
    await w.bob.select(w.team_card(n), ["high"])
    await redeliver(w, urgent)
    await w.deliver()
    details = await w.runtime.desk.show(w.as_core_actor(w.bob, w.agents), n)
    assert details.ticket.priority == "high"
    assert [e.kind.value for e in details.events] == ["opened", "priority_changed",
                                                      "priority_changed"]
