"""``helpthread run`` killed (SIGKILL) while a delivery's call is in flight (issue 10,
point 4): the dead process's lease (``delivery.lease``, here 3 s) runs out, a new
process takes the whole queue, marks the interrupted delivery as possibly sent, and the
adapter finds the message that did reach Slack instead of posting it twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from core.clock import FrozenClock
from core.identity import Actor, UserRef
from core.routing import PlatformRoute
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import D, SqlStores
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.people import form, make_desk

CONFIG = '[slack]\nsupport_channel = "C1"\nteam_channel = "C2"\n[delivery]\nlease = "3s"\n'
ROUTE = PlatformRoute(platform="slack", workspace=TEAM, support_channel="C1",
                      default_team_channel="C2", private_in_dm=True,
                      thread_reaches_requester=False)


async def _seed(tmp_path: Path) -> str:
    """A shared ticket opened on Slack, its card, team card and receipt not yet sent."""
    url = clean_env(tmp_path)["HELPTHREAD_DATABASE_URL"]
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        clock = FrozenClock(datetime.now(UTC))  # the seed happens now: SLA timers are real
        desk = make_desk(SqlStores(engine), routes=[ROUTE], clock=clock)
        alice = Actor(UserRef("slack", TEAM, "U0ALICE"), "Alice")
        await desk.open_ticket(alice, form(visibility="shared"))
    finally:
        await engine.dispose()
    return url


async def _states(url: str) -> list[tuple[str, int, bool]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(D.c.state, D.c.attempts, D.c.maybe_sent)
                                      .order_by(D.c.id))
            return [(r.state, r.attempts, bool(r.maybe_sent)) for r in rows]
    finally:
        await engine.dispose()


async def _start(tmp_path: Path, fake: FakeSlack) -> asyncio.subprocess.Process:
    env = {**clean_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": fake.api_url, "HELPTHREAD_PORT": "0",
           "HELPTHREAD_HOST": "127.0.0.1"}
    return await asyncio.create_subprocess_exec(
        HELPTHREAD, "run", env=env, cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def test_a_killed_process_frees_its_queue_and_the_next_is_warned(
        tmp_path: Path) -> None:
    (tmp_path / "helpthread.toml").write_text(CONFIG)
    url = await _seed(tmp_path)
    fake = await FakeSlack().start()
    fake.hold("chat.postMessage")  # the card's call reaches Slack and hangs there
    first = second = None
    try:
        first = await _start(tmp_path, fake)
        for _ in range(1200):  # bounded: until the first card is in flight
            if fake.of("chat.postMessage"):
                break
            await asyncio.sleep(0.05)
        assert len(fake.of("chat.postMessage")) == 1
        os.kill(first.pid, signal.SIGKILL)
        await first.wait()
        assert await _states(url) == [("pending", 1, True), ("pending", 0, False),
                                      ("pending", 0, False)], "killed mid-call"
        fake.release("chat.postMessage")  # Slack answers a process that is gone

        second = await _start(tmp_path, fake)
        for _ in range(1200):  # bounded: until the new process has delivered them all
            if [s for s, _, _ in await _states(url)] == ["done"] * 3:
                break
            await asyncio.sleep(0.05)
        assert await _states(url) == [("done", 2, True), ("done", 1, True),
                                      ("done", 1, True)]
        channels = {c["channel"] for c in fake.of("chat.postMessage")}
        assert {"C1", "C2"} <= channels, "both cards, then the receipt"
        # the card in flight when the process died reached Slack; the next process
        # found it by its metadata and did not post it again (issue 10, point 4)
        cards = [m for m in fake.messages.get("C1", []) if not m.get("thread_ts")]
        assert len(cards) == 1, cards
    finally:
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 20)
        await fake.stop()
