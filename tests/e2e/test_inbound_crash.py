"""Issue 10, points 1–3, through the real ``helpthread run`` process in Slack HTTP mode
against the fake Slack: SIGKILL in the middle of a burst of 200 thread messages, and
a restart. Every message Slack was told was received is stored, every message written
while no process ran is caught up, and each is stored and mirrored once, in order.

The team thread's mirrors are throttled (HTTP 429, ``Retry-After: 3``) during the
burst, and the kill waits for a moment when the ticket's delivery queue is parked on
that retry: the kill lands between deliveries, not inside one. A kill during a
delivery in flight is the outbox's own test (its lease and re-post check, issue 10
point 4).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.running import HelpthreadProcess, until
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import (
    SignedSlack,
    by_label,
    command_body,
    event_body,
    view_action,
    view_submission,
)

SECRET = "e2e-signing-secret-0123456789abcdef"
ALICE = "U0ALICE"
SUPPORT, TEAM = "C0SUPPORT", "C0TEAM"
BURST = 200
KILLED_AT = 120  # the message in flight when the process is killed
WRITTEN_WHILE_DOWN = 30  # the next ones: Slack could not deliver them (no process)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(users={ALICE: "Alice"})
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


async def _open_ticket(slack: SignedSlack, fake: FakeSlack, desk: HelpthreadProcess
                       ) -> tuple[str, str]:
    """Alice opens a shared ticket; returns the ts of the ticket card and the team card."""
    await slack.command(command_body(ALICE, "new", fake.response_url()))
    await until(lambda: fake.views(), "the form", desk)
    await slack.interact(view_action(fake.views()[-1], ALICE, "Category", "general"))
    await until(lambda: fake.views("views.update"), "the category's form", desk)
    form = fake.views("views.update")[-1]
    values = {"Category": "general", "Subject": "Charged twice",
              "Description": "My card was charged twice.", "Priority": "Normal",
              "Sharing": ["Share with my organisation"]}
    status, _ = await slack.interact(view_submission(form, ALICE, by_label(form, values)))
    assert status == 200
    cards = {SUPPORT: [], TEAM: []}  # type: dict[str, list[dict[str, Any]]]

    def posted() -> bool:
        for channel in cards:
            cards[channel] = [p for p in fake.posts(channel) if not p.get("thread_ts")]
        return all(cards.values())

    await until(posted, "the ticket's cards", desk)
    return cards[SUPPORT][0]["ts"], cards[TEAM][0]["ts"]


async def test_sigkill_mid_burst_then_restart_loses_nothing_and_doubles_nothing(
        fake: FakeSlack, tmp_path: Path) -> None:
    desk = HelpthreadProcess(tmp_path, {
        "SLACK_BOT_TOKEN": "xoxb-e2e", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url, "HELPTHREAD_SLACK__SUPPORT_CHANNEL": SUPPORT,
        "HELPTHREAD_SLACK__TEAM_CHANNEL": TEAM})
    await desk.start()
    try:
        async with SignedSlack(f"{desk.url}/slack/events", SECRET) as slack:
            thread, team_card = await _open_ticket(slack, fake, desk)
            fake.fail("chat.postMessage", status=429, retry_after=3, times=10**9)
            texts = [f"message {i:03d}" for i in range(BURST)]

            def written(i: int) -> dict[str, Any]:
                return event_body(fake.write(ALICE, SUPPORT, thread, texts[i]))

            events: dict[int, dict[str, Any]] = {}
            acknowledged: list[int] = []
            began = time.perf_counter()
            for i in range(KILLED_AT):  # Slack sends a thread's events one after another
                events[i] = written(i)
                status, _ = await slack.event(events[i])
                assert status == 200, desk.log()
                acknowledged.append(i)
            per_ack = (time.perf_counter() - began) / KILLED_AT
            await until(desk.parked, "a parked delivery queue", desk)
            events[KILLED_AT] = written(KILLED_AT)
            in_flight = asyncio.create_task(slack.event(events[KILLED_AT]))
            await asyncio.sleep(0.002)  # sent, perhaps stored, perhaps answered
            desk.kill()
            try:
                status, _ = await in_flight
                if status == 200:
                    acknowledged.append(KILLED_AT)
            except aiohttp.ClientError:
                pass  # Slack saw no answer: it will send it again
            assert desk.process is not None
            await desk.process.wait()
            stored_before = desk.comments()
            assert [text for _, text in stored_before[:len(acknowledged)]] == \
                [texts[i] for i in acknowledged], "each acknowledged message was stored"

            # Written while no process runs: Slack cannot deliver these events.
            down = range(KILLED_AT + 1, KILLED_AT + 1 + WRITTEN_WHILE_DOWN)
            for i in down:
                written(i)
            fake.clear("chat.postMessage")
            await desk.start()
            status, _ = await slack.event(events[KILLED_AT], retry=1)  # Slack's retry
            assert status == 200, desk.log()
            for i in range(down.stop, BURST):  # the burst goes on
                status, _ = await slack.event(written(i))
                assert status == 200, desk.log()

        await until(lambda: len(desk.comments()) >= BURST, "all comments stored", desk)
        assert desk.comments() == [("Alice", text) for text in texts], \
            "each message stored once, in the thread's order"
        mirrors = lambda: [m["text"] for m in fake.posts(TEAM, thread=team_card)]  # noqa: E731
        await until(lambda: len(mirrors()) >= BURST, "every comment mirrored", desk,
                    lambda: [(c.method, c.args.get("channel"), c.answer.get("ok"))
                             for c in fake.calls][-20:])
        await asyncio.sleep(0.5)  # a doubled post would show up by now; none may
        assert mirrors() == texts, "each mirrored once, in order"
    finally:
        await desk.stop()
    print(f"\nacknowledged before the kill: {len(acknowledged)}; stored then: "
          f"{len(stored_before)}; written while down: {WRITTEN_WHILE_DOWN}; "
          f"store + acknowledge, one after another: {per_ack * 1000:.1f} ms a message")
