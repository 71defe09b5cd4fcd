"""Issue 10, point 6 on Slack: 20 priority changes in a second, pressed on the team card
through Bolt, make at most two edits of each card and two notices in each thread; the
cards end showing the final priority, and the requester gets no DM about it."""

from __future__ import annotations

from typing import Any

from tests.platform.slack.harness import AGENT, ALICE, SUPPORT, TEAM_CHANNEL, Harness
from tests.support.slack_requests import button_press

LEVELS = ["high", "urgent", "low", "normal"] * 4 + ["high", "urgent", "low", "urgent"]


async def test_twenty_priority_changes_make_at_most_two_edits_per_card(h: Harness) -> None:
    await h.open_ticket(ALICE)
    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    dms_before = len(h.dms(ALICE))
    edits_before = len(h.fake.of("chat.update"))

    async def press(level: str) -> None:
        status, _ = await h.slack.interact(button_press(
            h.current(team_card), AGENT, "Priority", h.fake.response_url(), TEAM_CHANNEL,
            option=level))
        assert status == 200
        await h.platform.idle()  # the change is committed; the worker has not run

    await press(LEVELS[0])
    assert await h.settle() == 0  # the first change goes out at once
    for level in LEVELS[1:]:  # the other 19 land while nothing is delivered
        await press(level)
    assert await h.settle() == 0

    def edits(card: dict[str, Any]) -> list[dict[str, Any]]:
        return [u for u in h.fake.of("chat.update")[edits_before:]
                if u.get("ts") == card["ts"] and u.get("channel") == card["channel"]]

    def notices(card: dict[str, Any]) -> list[str]:
        return [p["text"] for p in h.thread(card) if "priority" in p["text"]]

    for card in (ticket_card, team_card):
        assert len(edits(card)) == 2, "one edit per round, not 20"
        assert "Urgent" in str(h.current(card)["blocks"]), "the final state"
        assert notices(card) == [
            "*Ada Agent* changed the priority of #1 from *normal* to *high*.",
            "*Ada Agent* changed the priority of #1 from *high* to *urgent*.",
        ]
    assert len(h.dms(ALICE)) == dms_before, "no DM to the requester about priority"
