"""Issue 9, point 3 on Slack: cards offer exactly what core says (``TicketView.actions``),
read back from the blocks the fake Web API recorded; a redelivered press acts once.
Issue 11 adds "Ask to close" to the team card of an active ticket (the shared table in
``tests/platform/cards.py`` does not list it yet: it is added here)."""

from __future__ import annotations

from typing import Any

import pytest

from core.capabilities import TICKET_ACTIONS, audience_roles, available
from core.desk import Desk
from core.identity import Actor, UserRef
from core.policy import Action
from core.tickets import ACTIVE, Status
from tests.platform.cards import CARD_ACTIONS, CASES, bring_to
from tests.platform.cards import expected as table
from tests.platform.slack.harness import AGENT, ALICE, SUPPORT, TEAM_CHANNEL, Harness
from tests.support.fake_slack import TEAM
from tests.support.slack_requests import button_press

# How this test reads a Slack control back (its action_id), independent of the adapter.
SLACK_CONTROLS = {
    "ticket:claim": Action.CLAIM, "ticket:reply": Action.REPLY,
    "ticket:resolve": Action.RESOLVE, "ticket:close": Action.CLOSE,
    "ticket:reopen": Action.REOPEN, "ticket:priority": Action.SET_PRIORITY,
    "ticket:escalate": Action.ESCALATE, "ticket:ask_close": Action.ASK_CLOSE,
}
SLACK_CARD_ACTIONS = CARD_ACTIONS | {Action.ASK_CLOSE}
AGENT_ACTOR = Actor(UserRef("slack", TEAM, AGENT), "Ada Agent")


def expected(status: Status, card: str) -> list[Action]:
    """The shared table, plus "Ask to close" on an active ticket's team card until the
    table lists it."""
    shared = table(status, card)
    if card == "team" and status in ACTIVE and Action.ASK_CLOSE not in shared:
        return [*shared, Action.ASK_CLOSE]
    return shared


async def core_offers(desk: Desk, number: int, card: str) -> list[Action]:
    """What core lets the card's audience do now, of the actions Slack cards have
    controls for, in core's order."""
    async with desk.stores.transaction() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None
    allowed = available(audience_roles(card == "team"), ticket, desk.config, desk.clock.now())
    return [a for a in TICKET_ACTIONS if a in allowed and a in SLACK_CARD_ACTIONS]


def offered(message: dict[str, Any]) -> list[Action]:
    """The actions of the controls on a posted or updated message, in their order."""
    return [SLACK_CONTROLS[element["action_id"]]
            for block in message.get("blocks") or [] if block.get("type") == "actions"
            for element in block["elements"]]


async def card_after(h: Harness, status: Status, card: str) -> dict[str, Any]:
    await h.open_ticket(ALICE)
    await bring_to(h.runtime.desk, AGENT_ACTOR, 1, status)
    await h.settle()
    [message] = h.cards(TEAM_CHANNEL if card == "team" else SUPPORT)
    return h.current(message)


@pytest.mark.parametrize(("status", "card"), CASES)
async def test_card_offers_what_core_allows_its_audience(h: Harness, status: Status,
                                                         card: str) -> None:
    message = await card_after(h, status, card)
    assert (await h.runtime.desk.show(AGENT_ACTOR, 1)).ticket.status is status
    assert offered(message) == await core_offers(h.runtime.desk, 1, card)
    assert offered(message) == expected(status, card)


async def test_a_private_tickets_card_in_the_requesters_dm_offers_the_same(h: Harness) -> None:
    await h.open_ticket(ALICE, shared=False)
    await bring_to(h.runtime.desk, AGENT_ACTOR, 1, Status.RESOLVED)
    await h.settle()
    [receipt_card] = [m for m in h.dms(ALICE) if m.get("blocks") and not m.get("thread_ts")]
    assert offered(h.current(receipt_card)) == expected(Status.RESOLVED, "ticket")


async def test_the_same_press_delivered_twice_claims_once(h: Harness) -> None:
    await h.open_ticket(ALICE)
    [team_card] = h.cards(TEAM_CHANNEL)
    press = button_press(team_card, AGENT, "Claim", h.fake.response_url(), TEAM_CHANNEL)
    for _ in range(2):  # Slack resends a payload it thinks was lost: same trigger_id
        status, _body = await h.slack.interact(press)
        assert status == 200
        await h.settle()
    details = await h.runtime.desk.show(AGENT_ACTOR, 1)
    assert [e.kind.value for e in details.events] == ["opened", "claimed"]
    assert h.told() == [], "the redelivery is answered as the first press was: silently"

    again = button_press(team_card, AGENT, "Claim", h.fake.response_url(), TEAM_CHANNEL)
    await h.slack.interact(again)  # a new press (new trigger_id) is a new request
    await h.settle()
    assert any("already" in t.lower() for t in h.told()), h.told()


async def test_a_late_redelivered_priority_choice_does_not_undo_a_newer_one(
        h: Harness) -> None:
    await h.open_ticket(ALICE)
    [team_card] = h.cards(TEAM_CHANNEL)

    def choose(level: str) -> dict[str, Any]:
        return button_press(h.current(team_card), AGENT, "Priority", h.fake.response_url(),
                            TEAM_CHANNEL, option=level)

    urgent, high = choose("urgent"), choose("high")
    for press in (urgent, high, urgent):  # the first choice arrives again, late
        await h.slack.interact(press)
        await h.settle()
    details = await h.runtime.desk.show(AGENT_ACTOR, 1)
    assert details.ticket.priority == "high"
    assert [e.kind.value for e in details.events] == ["opened", "priority_changed",
                                                      "priority_changed"]
