"""``/ticket stats`` on Slack (issue 12, point 4), through Bolt and the fake Web API: an
agent gets the figures as blocks (ephemeral) and the chart uploaded into their DM with
the app by the files upload sequence; a requester is refused and nothing is uploaded; a
refused upload is said, not swallowed."""

from __future__ import annotations

from typing import Any

from tests.platform.slack.harness import AGENT, ALICE, Harness
from tests.support.png import assert_png


def _texts(blocks: list[dict[str, Any]]) -> str:
    return str(blocks)


async def test_an_agent_gets_blocks_and_the_chart_in_a_dm(h: Harness):
    await h.open_ticket(subject="Export broken")
    await h.command(AGENT, "claim 1")
    h.clock.advance(2 * 3600)
    await h.command(AGENT, "reply 1 Looking at it now")
    await h.command(AGENT, "stats 7d")
    answer = h.fake.responses[-1]
    assert answer["response_type"] == "ephemeral"
    blocks = answer["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Stats, 7d"}}
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[:3] == ["*Opened*\n1", "*Resolved*\n0", "*Backlog*\n1"]
    assert fields[3] == "*First response*\nmedian 2h · p90 2h (1)"
    assert "*SLA met*\n100% (1/1) · 0 breaches" in fields
    assert "*General question*: opened 1" in _texts(blocks)
    assert "*Ada Agent*: opened 1, resolved 0, backlog 1 · 1st reply 2h" in _texts(blocks)
    assert answer["text"].startswith("Stats, 7d: 1 opened, 0 resolved, 1 in the backlog")
    [chart] = h.fake.shared
    assert chart.channel == "D" + AGENT[1:] and chart.name == "helpthread-stats-7d.png"
    assert chart.comment is not None and chart.comment.startswith("Stats, 7d:")
    assert_png(chart.data)


async def test_a_requester_is_refused_and_a_refused_upload_is_said(h: Harness):
    await h.open_ticket()
    await h.command(ALICE, "stats")
    assert "only agents" in h.told()[-1].lower() and h.fake.shared == []
    h.fake.fail("files.getUploadURLExternal", error="not_allowed")
    await h.command(AGENT, "stats 30d")
    assert h.told()[-2].startswith("Stats, 30d:")  # the figures came first
    assert "Slack refused part of that (not_allowed)" in h.told()[-1]
    await h.command(AGENT, "stats 12d")
    assert "period" in h.told()[-1] and len(h.fake.shared) == 0
