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


LONG_ERROR = ("Cannot connect to host smtp.example.com:587 ssl:default [bold][Multiple "
              "exceptions: [Errno 111] Connect call failed ('127.0.0.1', 587),\t[Errno 99] "
              "Cannot assign requested address]\nretried 8 times; C:\\mail\\relay")


async def _seed(tmp_path: Path, error: str = "Slack refused it: channel_not_found") -> list[int]:
    """Two tickets on the shell platform; the first one's card to the team is parked
    (refused for good, with ``error``), as is one of the second's. Returns the parked
    ids."""
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
            await outbox.park(delivery, error, now)
        await outbox.release([d for d in taken if d not in parked], "seed")
        return [d.id for d in parked if d.id is not None]
    finally:
        await engine.dispose()


@pytest.fixture
async def parked(tmp_path: Path) -> list[int]:
    return await _seed(tmp_path)


def _rows(out: str) -> list[list[str]]:
    """Piped output: a header line, then one tab-separated line a delivery."""
    header, *rows = out.splitlines()
    assert header.split("\t") == ["id", "ticket", "platform", "purpose", "state", "attempts",
                                   "due", "last error"]
    return [row.split("\t") for row in rows]


def test_lists_pending_and_parked_then_parked_only(tmp_path: Path, parked: list[int]) -> None:
    listed = _helpthread(tmp_path, "deliveries")
    assert listed.returncode == 0, listed.stderr
    rows = _rows(listed.stdout)
    assert len(rows) == 8 and all(len(row) == 8 for row in rows)
    assert {row[1] for row in rows} == {"#1", "#2"} and "card" in {row[3] for row in rows}
    assert [row[4] for row in rows].count("parked") == 2
    assert listed.stderr.strip() == "6 pending, 2 parked."  # stdout is only the rows

    only = _helpthread(tmp_path, "deliveries", "--parked")
    assert only.returncode == 0, only.stderr
    assert only.stderr.strip() == "0 pending, 2 parked."
    rows = _rows(only.stdout)
    assert [int(row[0]) for row in rows] == parked
    assert {row[7] for row in rows} == {"Slack refused it: channel_not_found"}


async def test_piped_listing_shows_a_long_error_whole_on_one_line(tmp_path: Path) -> None:
    parked = await _seed(tmp_path, LONG_ERROR)
    listed = _helpthread(tmp_path, "deliveries", "--parked")
    assert listed.returncode == 0, listed.stderr
    escaped = (LONG_ERROR.replace("\\", "\\\\").replace("\t", "\\t")
               .replace("\n", "\\n"))
    assert [(int(row[0]), row[7]) for row in _rows(listed.stdout)] == [
        (d, escaped) for d in parked]
    assert "─" not in listed.stdout and "│" not in listed.stdout  # no box table


async def test_an_empty_piped_listing_says_so_on_stderr(tmp_path: Path) -> None:
    await upgrade_async(clean_env(tmp_path)["HELPTHREAD_DATABASE_URL"])
    listed = _helpthread(tmp_path, "deliveries")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == ""
    assert listed.stderr.startswith("No pending or parked deliveries")


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
    assert still.stderr.strip() == "0 pending, 2 parked."


def test_retry_requeues_named_then_all_and_a_run_delivers_them(tmp_path: Path,
                                                               parked: list[int]) -> None:
    one = _helpthread(tmp_path, "deliveries", "retry", str(parked[1]))
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith(f"Re-queued 1 parked delivery: {parked[1]}.")
    listed = _helpthread(tmp_path, "deliveries")
    assert listed.stderr.strip() == "7 pending, 1 parked."

    rest = _helpthread(tmp_path, "deliveries", "retry")
    assert rest.returncode == 0, rest.stderr
    assert rest.stdout.startswith(f"Re-queued 1 parked delivery: {parked[0]}.")
    again = _helpthread(tmp_path, "deliveries", "retry")
    assert again.stdout.startswith("No parked deliveries to re-queue.")

    shell = _helpthread(tmp_path, "shell", "--as", "sam", "--agent")  # stdin ends at once
    assert shell.returncode == 0, shell.stderr
    assert "Pixel not firing" in shell.stdout and "Looking at it." in shell.stdout
    done = _helpthread(tmp_path, "deliveries")
    assert done.stdout == "" and done.stderr.startswith("No pending or parked deliveries")
