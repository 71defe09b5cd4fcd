"""``[transcripts] slack_channel``: when a ticket closes, its agents' transcript is
uploaded to that channel (issue 12, point 5), through the real Bolt app and delivery
worker against the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.slack.plugin import PLUGIN
from tests.platform.slack.conftest import harness
from tests.platform.slack.harness import AGENT, CONFIG, SLACK, Harness
from tests.support.fake_slack import FakeSlack

LOGS = "C0LOGS"


@pytest.fixture
async def h(fake: FakeSlack, sqlite_url: str) -> AsyncIterator[Harness]:
    """The usual harness, with ``[transcripts] slack_channel = "C0LOGS"`` in the route
    the desk plans by (``bot.registry.routes`` puts it there from the config)."""
    route = replace(PLUGIN.route(SLACK, CONFIG.categories), transcripts_channel=LOGS)
    async with harness(fake, sqlite_url, route) as running:
        yield running


async def test_a_closed_tickets_agents_transcript_goes_to_the_transcripts_channel(
        h: Harness) -> None:
    await h.open_ticket(subject="Export <b>broken</b> & more")  # a form: plain text
    await h.command(AGENT, "note 1 internal only")
    await h.command(AGENT, "resolve 1 Cleared the cache")
    assert h.fake.shared_in(LOGS) == [], "resolved is not closed"
    await h.command(AGENT, "close 1 done")
    page, markdown = h.fake.shared_in(LOGS)
    assert (page["name"], markdown["name"]) == ("ticket-1-transcript.html",
                                                "ticket-1-transcript.md")
    assert page["comment"] == ("#1 · Export &lt;b&gt;broken&lt;/b&gt; &amp; more is closed; "
                               "its transcript, internal notes included.")
    html = page["content"].decode()
    assert "internal only" in html and "closed #1 · status: Closed" in html
    assert "Export &lt;b&gt;broken&lt;/b&gt; &amp; more" in html
    assert b"internal only" in markdown["content"]
    await h.command(AGENT, "reopen 1")
    await h.command(AGENT, "close 1 again")
    assert len(h.fake.shared_in(LOGS)) == 4, "each close posts the transcript as it is then"
