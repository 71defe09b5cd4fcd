"""Issue 10, points 4 and 5 on Slack: a throttled channel holds up no other, and a
delivery whose earlier attempt may have reached Slack is not posted twice.

Time moves with the desk's clock (``FrozenClock.advance``): nothing sleeps, and no
assertion is about how long anything took — only about what Slack got, and in which
order."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from adapters.slack.outbound import SlackOutbound
from adapters.slack.sent import EVENT_TYPE
from core.outbound import Delivered, DeliveryJob
from core.routing import Target
from tests.platform.slack.harness import AGENT, ALICE, BILLING, SUPPORT, TEAM_CHANNEL, Harness


class Recorder:
    """The real Slack outbound, with every job it was handed kept (as handed: the
    binding copied before the worker records the ids the delivery made)."""

    platform = "slack"

    def __init__(self, inner: SlackOutbound) -> None:
        self.inner = inner
        self.jobs: list[DeliveryJob] = []

    async def deliver(self, job: DeliveryJob) -> Delivered:
        self.jobs.append(replace(job, binding=copy.copy(job.binding)))
        return await self.inner.deliver(job)


@pytest.fixture
def recorder(h: Harness) -> Recorder:
    recording = Recorder(h.platform.outbound)
    h.runtime.worker.serve(recording)  # type: ignore[arg-type]
    return recording


def calls_to(h: Harness, channel: str) -> list[dict[str, Any]]:
    """Every chat.postMessage call to ``channel``, answered or refused, in order."""
    return [c.answer for c in h.fake.calls
            if c.method == "chat.postMessage" and c.args.get("channel") == channel]


async def test_a_429_on_one_channel_holds_up_no_other_channel(h: Harness) -> None:
    await h.open_ticket(subject="Login broken")
    await h.open_ticket(category="Refund", subject="Charged twice",
                        **{"Receipt number": "R-1"})
    [general, refund] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    [billing_card] = h.cards(BILLING)
    h.fake.fail("chat.postMessage", status=429, retry_after=2, channel=TEAM_CHANNEL)
    for n in range(3):
        await h.say(ALICE, SUPPORT, general["ts"], f"general {n}")  # mirrored to C0TEAM
        await h.say(ALICE, SUPPORT, refund["ts"], f"refund {n}")  # mirrored to C0BILLING
    assert [p["text"] for p in h.thread(billing_card)] == ["refund 0", "refund 1", "refund 2"]
    assert h.thread(team_card) == [], "the throttled channel waits for its due time"
    refused = [a for a in calls_to(h, TEAM_CHANNEL) if not a.get("ok")]
    assert len(refused) == 1, "the 429 was handed back at once: no retry inside the call"
    assert len(calls_to(h, TEAM_CHANNEL)) == 2, "the team card, then the refused comment"
    h.clock.advance(1)
    assert await h.settle() > 0, "Retry-After: 2 is honoured"
    assert h.thread(team_card) == []
    h.clock.advance(2)  # past Retry-After and the worker's jitter on it
    assert await h.settle() == 0
    assert [p["text"] for p in h.thread(team_card)] == ["general 0", "general 1", "general 2"]
    assert len(calls_to(h, BILLING)) == 4, "the billing channel was never retried"


async def test_every_post_of_a_delivery_carries_its_id_as_metadata(h: Harness,
                                                                  recorder: Recorder) -> None:
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    await h.say(ALICE, SUPPORT, card["ts"], "any news?")
    ids = {job.delivery.id for job in recorder.jobs}
    posted = h.fake.posts(SUPPORT) + h.fake.posts(TEAM_CHANNEL) + h.dms(ALICE)
    assert len(posted) >= 4  # two cards, the mirrored comment, the receipt
    for post in posted:
        assert post["metadata"]["event_type"] == EVENT_TYPE
        assert post["metadata"]["event_payload"]["delivery"] in ids


async def test_a_card_that_reached_slack_is_found_not_posted_again(
        h: Harness, recorder: Recorder) -> None:
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    [job] = [j for j in recorder.jobs if j.delivery.target is Target.BINDING
             and j.binding is not None and j.binding.channel == SUPPORT]
    again = await h.platform.outbound.deliver(replace(job, maybe_sent=True))
    assert again == Delivered(thread=card["ts"], card_message=card["ts"]), "its ts recorded"
    assert h.cards(SUPPORT) == [card], "not posted twice"
    searched = h.fake.last("conversations.history")
    assert searched["channel"] == SUPPORT and searched["include_all_metadata"] in ("1", "true")


async def test_a_thread_message_and_a_dm_that_reached_slack_are_not_posted_again(
        h: Harness, recorder: Recorder) -> None:
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.say(ALICE, SUPPORT, card["ts"], "any news?")
    [mirror] = [j for j in recorder.jobs if j.binding is not None
                and j.binding.channel == TEAM_CHANNEL and j.binding.thread]
    [receipt] = [j for j in recorder.jobs if j.delivery.target is Target.DM]
    assert await h.platform.outbound.deliver(replace(mirror, maybe_sent=True)) == Delivered()
    await h.platform.outbound.deliver(replace(receipt, maybe_sent=True))
    assert [p["text"] for p in h.thread(team_card)] == ["any news?"]
    assert len(h.dms(ALICE)) == 1
    assert h.fake.last("conversations.replies")["ts"] == team_card["ts"]


async def test_a_delivery_that_never_reached_slack_is_posted_once(
        h: Harness, recorder: Recorder) -> None:
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    h.fake.fail("chat.postMessage", error="not_in_channel", channel=TEAM_CHANNEL)
    await h.say(ALICE, SUPPORT, card["ts"], "still broken")
    assert h.thread(team_card) == [], "Slack refused it: nothing there"
    [mirror] = [j for j in recorder.jobs if j.binding is not None
                and j.binding.channel == TEAM_CHANNEL and j.binding.thread]
    await h.platform.outbound.deliver(replace(mirror, maybe_sent=True))
    [posted] = h.thread(team_card)
    assert posted["text"] == "still broken"
    assert posted["metadata"]["event_payload"]["delivery"] == mirror.delivery.id


async def test_an_answer_lost_after_slack_posted_is_not_posted_again(h: Harness) -> None:
    """Slack took the message, then the connection dropped before its answer: the retry
    finds the message by its metadata instead of posting it a second time."""
    await h.open_ticket()
    [card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    h.fake.fail("chat.postMessage", answer_lost=True, channel=TEAM_CHANNEL)
    await h.say(ALICE, SUPPORT, card["ts"], "hello?")
    assert [p["text"] for p in h.thread(team_card)] == ["hello?"], "Slack has it"
    h.clock.advance(60)
    assert await h.settle() == 0
    assert [p["text"] for p in h.thread(team_card)] == ["hello?"], "posted once"
    assert h.fake.of("conversations.replies"), "looked for before posting again"


async def test_a_late_card_is_not_posted_again_when_the_message_under_it_is_throttled(
        h: Harness) -> None:
    """The ticket card could not be posted; the claim's delivery posts it late, then
    Slack throttles the claim's message under it: the retry posts only that message."""
    h.fake.fail("chat.postMessage", error="channel_not_found", channel=SUPPORT)
    await h.open_ticket()
    assert h.cards(SUPPORT) == []
    [team_card] = h.cards(TEAM_CHANNEL)
    h.fake.fail("chat.postMessage", status=429, retry_after=5, channel=SUPPORT,
                when=lambda args: bool(args.get("thread_ts")))
    await h.press(AGENT, team_card, "Claim")
    [card] = h.cards(SUPPORT)
    assert h.thread(card) == [], "throttled"
    h.clock.advance(6)
    assert await h.settle() == 0
    assert h.cards(SUPPORT) == [card], "the card once"
    assert ["is handling" in p["text"] for p in h.thread(card)] == [True]


async def test_a_channel_slack_throttled_is_left_alone_until_its_retry_after(
        h: Harness) -> None:
    """Slack limits posting per channel: after its 429 on the team channel, the next
    delivery there (another ticket's) waits for the same Retry-After without asking."""
    await h.open_ticket(subject="Login broken")
    await h.open_ticket(subject="Export failing")
    first, second = h.cards(SUPPORT)
    first_team, second_team = h.cards(TEAM_CHANNEL)
    h.fake.fail("chat.postMessage", status=429, retry_after=5, channel=TEAM_CHANNEL)
    await h.say(ALICE, SUPPORT, first["ts"], "one")
    await h.say(ALICE, SUPPORT, second["ts"], "two")
    assert len(calls_to(h, TEAM_CHANNEL)) == 3, "two cards, one 429: then no more asking"
    h.clock.advance(6)  # past Retry-After and the worker's jitter on it
    assert await h.settle() == 0
    assert [p["text"] for p in h.thread(first_team)] == ["one"]
    assert [p["text"] for p in h.thread(second_team)] == ["two"]
    assert len(calls_to(h, TEAM_CHANNEL)) == 5
