"""``/ticket stats`` on Discord (issue 12, point 4), through discord.py on SimCord: an agent
gets an ephemeral embed of the figures with the chart attached as its image (a PNG that
decodes); a requester is refused and gets no file."""

from __future__ import annotations

from tests.platform.discord.conftest import World, open_ticket, told
from tests.support.png import assert_png


async def test_an_agent_gets_an_embed_with_the_chart_attached(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice, subject="Printer on fire", description="Smoke")
    await w.deliver()
    await w.bob.slash(w.team_thread(n), "ticket claim")
    await w.bob.slash(w.team_thread(n), "ticket reply", text="On my way")

    result = await w.bob.slash(w.team, "ticket stats", period="7d")
    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title is not None and embed.title.endswith(": stats, 7d")
    fields = {f.name: f.value for f in embed.fields}
    assert (fields["Opened"], fields["Resolved"], fields["Backlog"]) == ("1", "0", "1")
    assert fields["First response"].startswith("median 0s")
    assert fields["SLA met"] == "100% (1/1)\n0 breaches"
    assert fields["By agent"].startswith("**Bob**: 1 opened, 0 resolved, 1 backlog")
    assert embed.image.url is not None and embed.image.url.endswith("stats.png")
    [chart] = result.response.attachments
    assert chart.filename == "stats.png"
    assert_png(await chart.read())


async def test_a_requester_is_refused(world: World) -> None:
    w = world
    await open_ticket(w, w.alice)
    refused = await w.alice.slash(w.support, "ticket stats")
    assert told(refused).content.startswith("Refused: only agents")
    assert told(refused).attachments == []
