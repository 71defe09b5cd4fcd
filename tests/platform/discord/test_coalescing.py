"""Issue 10, point 6 on Discord (SimCord, real discord.py): 20 priority changes in a
second, chosen on the team card's select, make at most two edits of each card and two
notices in each thread; the cards end showing the final priority."""

from __future__ import annotations

import discord

from tests.platform.discord.conftest import World, open_ticket

LEVELS = ["high", "urgent", "low", "normal"] * 4 + ["high", "urgent", "low", "urgent"]


def card_fields(message: discord.Message) -> dict[str, str]:
    return {f.name: str(f.value) for f in message.embeds[0].fields}


async def test_twenty_priority_changes_make_at_most_two_edits_per_card(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    cards = {"ticket": w.ticket_card(n).id, "team": w.team_card(n).id}
    seen = len(w.env.http_requests)

    await w.bob.select(w.team_card(n), [LEVELS[0]])
    assert await w.deliver() == 0  # the first change goes out at once
    for level in LEVELS[1:]:  # the other 19 land while nothing is delivered
        await w.bob.select(w.team_card(n), [level])
    assert await w.deliver() == 0

    edits = [r for r in w.env.http_requests[seen:] if r.method == "PATCH"]
    for name, message_id in cards.items():
        mine = [r for r in edits if r.path.endswith(f"/messages/{message_id}")]
        assert len(mine) == 2, f"the {name} card: one edit per round, not 20"
    assert card_fields(w.team_card(n))["Priority"] == "urgent"
    assert card_fields(w.ticket_card(n))["Priority"] == "urgent"
    for thread in (w.ticket_thread(n), w.team_thread(n)):
        told = [m.embeds[0].description for m in thread.history()
                if m.embeds and "priority" in (m.embeds[0].description or "")]
        assert told == [f"Bob changed the priority of #{n} from normal to high.",
                        f"Bob changed the priority of #{n} from high to urgent."]
