"""One desk, many platforms (issue 4, point 10): the shell and Discord work one ticket."""

from __future__ import annotations

from tests.platform.discord.conftest import World, open_ticket, told


def said(channel) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(m.embeds[0].author.name or "", m.embeds[0].description or "")
            for m in channel.history() if m.embeds and m.embeds[0].author]


async def test_a_comment_from_the_shell_appears_in_the_discord_threads(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    sam = w.shell("sam", agent=True)
    await sam.handle(f"/ticket reply {n} Hello from the shell desk")
    await sam.handle(f"/ticket note {n} checked the logs")
    await w.deliver()
    assert ("sam (via shell)", "Hello from the shell desk") in said(w.ticket_thread(n))
    assert ("sam (via shell)", "Hello from the shell desk") in said(w.team_thread(n))
    assert ("sam (via shell)", "checked the logs") in said(w.team_thread(n))
    assert all("checked the logs" not in text for _, text in said(w.ticket_thread(n)))
    # and the Discord requester's answer reaches the shell's team thread
    await w.alice.send(w.ticket_thread(n), "Thanks, works now")
    await w.deliver()
    assert f"[#{n} team thread] Alice: Thanks, works now" in w.shell_out.getvalue()


async def test_a_shell_ticket_gets_a_discord_team_card_that_works(world: World) -> None:
    w = world
    sam = w.shell("sam")
    await sam.handle('/ticket new category=technical subject="VPN down" description="No VPN"')
    await w.deliver()
    card = w.team_card(1)
    assert {f.name: f.value for f in card.embeds[0].fields}["Requester"] == "sam"
    assert w.support.threads == []  # the requester is not on Discord: no ticket thread
    claimed = await w.bob.click(card, label="Claim")
    assert told(claimed).content == "You have #1; it is in progress."
    await w.deliver()
    assert "[#1 ticket thread] Bob claimed #1; it is in progress." in w.shell_out.getvalue()
