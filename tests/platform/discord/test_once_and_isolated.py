"""Issue 10, points 4 and 5 on Discord, against the wire-level fake (real discord.py HTTP
client, real statuses and rate-limit headers): a throttled channel holds up no other,
and a delivery whose earlier attempt may have reached Discord is not posted twice.

Time moves with the desk's clock; no assertion is about how long anything took — only
about what Discord got, and in which order."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from adapters.discord.outbound import DiscordOutbound
from adapters.discord.platform import DiscordPlatform
from bot.runtime import Runtime
from core.clock import FrozenClock
from core.outbound import Delivered, DeliveryJob
from core.routing import Target
from tests.platform.discord.test_wire import ALICE_ACTOR, GUILD, _desk_on, _open
from tests.platform.discord.wire import FakeDiscord, running


@pytest.fixture
async def wire() -> AsyncIterator[FakeDiscord]:
    async with running(FakeDiscord(GUILD)) as server:
        yield server


@dataclass
class Rig:
    settings: Any
    platform: DiscordPlatform
    runtime: Runtime
    clock: FrozenClock


@pytest.fixture
async def desk(wire: FakeDiscord, sqlite_url: str) -> AsyncIterator[Rig]:
    clock = FrozenClock()
    settings, platform, runtime = await _desk_on(wire, sqlite_url, clock)
    try:
        yield Rig(settings, platform, runtime, clock)
    finally:
        await platform.stop()
        await runtime.close()


class Recorder:
    """The real Discord outbound, with every job it was handed kept as handed."""

    platform = "discord"

    def __init__(self, inner: DiscordOutbound) -> None:
        self.inner = inner
        self.jobs: list[DeliveryJob] = []
        self.made: list[Delivered] = []

    async def deliver(self, job: DeliveryJob) -> Delivered:
        self.jobs.append(replace(job, binding=copy.copy(job.binding)))
        delivered = await self.inner.deliver(job)
        self.made.append(delivered)
        return delivered


def threads_under(wire: FakeDiscord, parent: int) -> list[int]:
    return [cid for cid, c in wire.channels.items() if c.get("parent_id") == str(parent)]


def said(wire: FakeDiscord, channel: int) -> list[str]:
    """What the bot's messages in ``channel`` say (their embed's description)."""
    return [m["embeds"][0].get("description", "") for m in wire.messages.get(channel, [])
            if m["embeds"]]


def posts_to(wire: FakeDiscord, channel: int) -> list[int]:
    """Statuses of every message POST to ``channel``, in order."""
    return [r.status for r in wire.requests
            if r.method == "POST" and r.path == f"/channels/{channel}/messages"]


async def test_a_429_on_one_channel_holds_up_no_other_channel(wire: FakeDiscord,
                                                              desk: Rig) -> None:
    """Two tickets, each with its team thread; Discord throttles the first one's."""
    first = await _open(desk.runtime, "Login broken")
    second = await _open(desk.runtime, "Export failing")
    assert await desk.runtime.worker.run_until_idle() == 0
    throttled, flowing = threads_under(wire, desk.settings.discord.team_channel_id)
    wire.fail("POST", f"/channels/{throttled}/messages", 429, retry_after=2)
    for i in range(3):
        await desk.runtime.desk.comment(ALICE_ACTOR, first, f"comment {i}")
        await desk.runtime.desk.comment(ALICE_ACTOR, second, f"comment {i}")
    assert await desk.runtime.worker.run_until_idle() > 0
    comments = ["comment 0", "comment 1", "comment 2"]
    assert said(wire, flowing)[-3:] == comments, "the other channel flowed"
    assert "comment 0" not in said(wire, throttled), "the throttled one waits"
    assert posts_to(wire, throttled) == [429], "handed back at once: no retry inside"
    desk.clock.advance(1)
    assert await desk.runtime.worker.run_until_idle() > 0, "retry_after 2 s is honoured"
    assert posts_to(wire, throttled) == [429]
    desk.clock.advance(2)  # past retry_after and the worker's jitter on it
    assert await desk.runtime.worker.run_until_idle() == 0
    assert said(wire, throttled)[-3:] == comments, "then posted, in order"
    assert posts_to(wire, throttled) == [429, 200, 200, 200], "each once"
    assert posts_to(wire, flowing) == [200, 200, 200], "the other was never retried"


async def test_an_emptied_bucket_is_a_due_time_not_a_wait(wire: FakeDiscord,
                                                          desk: Rig) -> None:
    """Discord says the team thread's bucket is empty for 20 s: the delivery that emptied
    it returns (discord.py would sleep the 20 s inside it), and the next delivery there
    is handed back without a request, while the ticket thread goes on."""
    n = await _open(desk.runtime, "Login broken")
    assert await desk.runtime.worker.run_until_idle() == 0
    [ticket_thread] = threads_under(wire, desk.settings.discord.support_channel_id)
    [team_thread] = threads_under(wire, desk.settings.discord.team_channel_id)
    wire.exhaust(f"/channels/{team_thread}/messages", reset_after=20)
    await desk.runtime.desk.comment(ALICE_ACTOR, n, "first")
    assert await desk.runtime.worker.run_until_idle() == 0
    await desk.runtime.desk.comment(ALICE_ACTOR, n, "second")
    assert await desk.runtime.worker.run_until_idle() > 0
    assert said(wire, ticket_thread)[-2:] == ["first", "second"]
    assert said(wire, team_thread)[-1] == "first"
    assert posts_to(wire, team_thread) == [200], "no request into an empty bucket"


async def test_every_message_carries_a_nonce_made_from_its_delivery(wire: FakeDiscord,
                                                                   desk: Rig) -> None:
    recorder = Recorder(desk.platform.outbound)
    desk.runtime.worker.serve(recorder)
    n = await _open(desk.runtime, "Login broken")
    await desk.runtime.desk.comment(ALICE_ACTOR, n, "any news?")
    assert await desk.runtime.worker.run_until_idle() == 0
    sent = [r.body for r in wire.requests if r.method == "POST"
            and r.path.endswith("/messages") and r.status < 300]
    assert len(sent) >= 5  # two cards, the receipt, the comment in both threads
    ids = {str(job.delivery.id) for job in recorder.jobs}
    for body in sent:
        assert body["enforce_nonce"] is True
        nonce = body["nonce"]
        assert len(nonce) <= 25 and nonce.split(".")[0].removeprefix("h") in ids
    assert len({body["nonce"] for body in sent}) == len(sent), "one nonce per message"


async def test_deliveries_that_reached_discord_are_not_made_again(wire: FakeDiscord,
                                                                  desk: Rig) -> None:
    """Every delivery is made again as after a crash (``maybe_sent``, a new process with
    nothing in memory): Discord ends up with the same threads and messages, and the same
    ids are recorded."""
    recorder = Recorder(desk.platform.outbound)
    desk.runtime.worker.serve(recorder)
    n = await _open(desk.runtime, "Login broken")
    await desk.runtime.desk.comment(ALICE_ACTOR, n, "any news?")
    assert await desk.runtime.worker.run_until_idle() == 0
    channels = dict(wire.channels)
    messages = {cid: list(found) for cid, found in wire.messages.items()}
    again = DiscordOutbound(desk.platform.bot)  # nothing remembered: as in a new process
    for job, first in zip(recorder.jobs, recorder.made, strict=True):
        assert await again.deliver(replace(job, maybe_sent=True)) == first
    assert wire.channels == channels, "no second thread"
    assert wire.messages == messages, "no second message"
    assert {j.delivery.target for j in recorder.jobs} >= {Target.BINDING, Target.DM}


async def test_a_delivery_that_never_reached_discord_is_posted_once(wire: FakeDiscord,
                                                                    desk: Rig) -> None:
    recorder = Recorder(desk.platform.outbound)
    desk.runtime.worker.serve(recorder)
    n = await _open(desk.runtime, "Login broken")
    assert await desk.runtime.worker.run_until_idle() == 0
    [team_thread] = threads_under(wire, desk.settings.discord.team_channel_id)
    wire.fail("POST", f"/channels/{team_thread}/messages", 503)
    await desk.runtime.desk.comment(ALICE_ACTOR, n, "still broken")
    assert await desk.runtime.worker.run_until_idle() > 0
    assert "still broken" not in said(wire, team_thread)
    [job] = [j for j in recorder.jobs if j.binding is not None
             and j.binding.thread == str(team_thread)]
    await DiscordOutbound(desk.platform.bot).deliver(replace(job, maybe_sent=True))
    assert said(wire, team_thread).count("still broken") == 1
    assert wire.messages[team_thread][-1]["nonce"] == f"h{job.delivery.id}.post"
