"""Issue 3, point 1 and the fault tests: 429 with Retry-After, 5xx and permanent errors.

Time moves with the desk's clock (``FrozenClock.advance``): nothing sleeps."""

from __future__ import annotations

from tests.platform.slack.harness import AGENT, ALICE, SUPPORT, TEAM_CHANNEL, Harness


async def test_rate_limited_post_is_retried_later_and_nothing_is_lost(h: Harness):
    h.fake.fail("chat.postMessage", status=429, retry_after=30)
    await h.open_ticket()
    assert await h.settle() > 0, "the deliveries wait"
    assert h.cards(SUPPORT) == [] and h.cards(TEAM_CHANNEL) == []
    h.clock.advance(29)
    assert await h.settle() > 0, "Retry-After is honoured: not before 30 s"
    h.clock.advance(2)
    assert await h.settle() == 0
    assert len(h.cards(SUPPORT)) == 1 and len(h.cards(TEAM_CHANNEL)) == 1
    assert len(h.dms(ALICE)) == 1, "the receipt arrives, once"
    attempts = [c for c in h.fake.calls if c.method == "chat.postMessage"]
    assert attempts[0].answer["error"] == "ratelimited"


async def test_rate_limit_in_a_thread_keeps_the_order_of_messages(h: Harness):
    await h.open_ticket()
    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    h.fake.fail("chat.postMessage", status=429, retry_after=10)
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "first")
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "second")
    assert h.thread(team_card) == []
    h.clock.advance(11)
    await h.settle()
    assert [p["text"] for p in h.thread(team_card)] == ["first", "second"]


async def test_server_errors_are_retried_with_backoff(h: Harness):
    h.fake.fail("chat.update", status=503, error="service_unavailable", times=2)
    await h.open_ticket()
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.press(AGENT, team_card, "Claim")
    assert "Ada Agent" not in str(h.current(team_card)["blocks"])
    for _ in range(4):
        h.clock.advance(60)
        await h.settle()
    assert "Ada Agent" in str(h.current(team_card)["blocks"])
    assert sum("is handling" in p["text"] for p in h.thread(team_card)) == 1, "posted once"


async def test_a_permanent_error_fails_that_delivery_only(h: Harness):
    h.fake.fail("chat.postMessage", error="channel_not_found")  # the ticket card
    await h.open_ticket()
    assert await h.settle() == 0, "given up, not retried forever"
    assert h.cards(SUPPORT) == []
    assert len(h.cards(TEAM_CHANNEL)) == 1, "the team still hears of it"
