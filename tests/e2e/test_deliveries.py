"""``helpthread deliveries [--parked]`` and ``deliveries retry [ID…]`` as the real process
(issue 10, point 5): what waits and what is parked, re-queueing, refusals that change
nothing — and a run of the desk delivering what was re-queued."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FrozenClock
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.people import agent, form, make_desk, person


def _helpthread(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([HELPTHREAD, *args], env={**clean_env(tmp_path), "COLUMNS": "160"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, input=stdin)


async def _seed(tmp_path: Path) -> list[int]:
    """Two tickets on the shell platform; the first one's card to the team is parked
    (refused for good), as is one of the second's. Returns the parked ids."""
    url = clean_env(tmp_path)["HELPTHREAD_DATABASE_URL"]
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        clock = FrozenClock(datetime.now(UTC))  # the seed happens now: SLA timers are real
        desk = make_desk(SqlStores(engine), clock=clock)
        await desk.open_ticket(person("lena"), form("Pixel not firing"))
        await desk.open_ticket(person("omar"), form("Refund missing", category="billing"))
        await desk.reply(agent("sam"), 2, "Looking at it.")
        outbox = SqlOutbox(engine)
        now = desk.clock.now()
        taken = await outbox.claim(["shell"], now, now, "seed", 10)
        parked = [taken[1], taken[4]]
        for delivery in parked:
            await outbox.park(delivery, "Slack refused it: channel_not_found", now)
        await outbox.release([d for d in taken if d not in parked], "seed")
        return [d.id for d in parked if d.id is not None]
    finally:
        await engine.dispose()


@pytest.fixture
async def parked(tmp_path: Path) -> list[int]:
    return await _seed(tmp_path)


def test_lists_pending_and_parked_then_parked_only(tmp_path: Path, parked: list[int]) -> None:
    listed = _helpthread(tmp_path, "deliveries")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    for column in ("id", "ticket", "platform", "purpose", "state", "attempts", "due",
                   "last error"):
        assert column in out
    assert "channel_not_found" in out and "#2" in out and "card" in out
    assert out.count("parked") >= 2 and "pending" in out
    assert out.rstrip().endswith("6 pending, 2 parked.")

    only = _helpthread(tmp_path, "deliveries", "--parked")
    assert only.returncode == 0, only.stderr
    assert only.stdout.rstrip().endswith("0 pending, 2 parked.")
    rows = [line for line in only.stdout.splitlines() if "channel_not_found" in line]
    assert [int(line.split()[1]) for line in rows] == parked


def test_retry_of_an_id_that_is_not_parked_changes_nothing(tmp_path: Path,
                                                           parked: list[int]) -> None:
    refused = _helpthread(tmp_path, "deliveries", "retry", str(parked[0]), "1", "999")
    assert refused.returncode == 2
    assert "1 is pending, not parked" in refused.stderr
    assert "999 is no parked delivery" in refused.stderr
    assert "nothing was re-queued" in refused.stderr
    words = _helpthread(tmp_path, "deliveries", "retry", "seven")
    assert words.returncode == 2 and "seven" in words.stderr
    huge = _helpthread(tmp_path, "deliveries", "retry", "99999999999999999999")
    assert huge.returncode == 2, huge.stderr
    assert huge.stderr.strip().splitlines() == [
        "helpthread: deliveries retry: 99999999999999999999 is no parked delivery "
        "(delivered, or no such id); nothing was re-queued"]
    still = _helpthread(tmp_path, "deliveries", "--parked")
    assert still.stdout.rstrip().endswith("0 pending, 2 parked.")


def test_retry_requeues_named_then_all_and_a_run_delivers_them(tmp_path: Path,
                                                               parked: list[int]) -> None:
    one = _helpthread(tmp_path, "deliveries", "retry", str(parked[1]))
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith(f"Re-queued 1 parked delivery: {parked[1]}.")
    listed = _helpthread(tmp_path, "deliveries")
    assert listed.stdout.rstrip().endswith("7 pending, 1 parked.")

    rest = _helpthread(tmp_path, "deliveries", "retry")
    assert rest.returncode == 0, rest.stderr
    assert rest.stdout.startswith(f"Re-queued 1 parked delivery: {parked[0]}.")
    again = _helpthread(tmp_path, "deliveries", "retry")
    assert again.stdout.startswith("No parked deliveries to re-queue.")

    shell = _helpthread(tmp_path, "shell", "--as", "sam", "--agent")  # stdin ends at once
    assert shell.returncode == 0, shell.stderr
    assert "Pixel not firing" in shell.stdout and "Looking at it." in shell.stdout
    done = _helpthread(tmp_path, "deliveries")
    assert done.stdout.startswith("No pending or parked deliveries")
