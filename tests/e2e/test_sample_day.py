"""Issue 2, point 11: the sample desk day runs start to finish through ``helpthread run``."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.e2e.conftest import SAMPLES

DAY = SAMPLES / "desk-day.txt"


def block_after(output: str, prompt: str) -> str:
    """The lines printed after the echoed ``prompt`` line, up to the next prompt."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(prompt))
    out = []
    for line in lines[start + 1:]:
        if re.match(r"^[a-z]+( #\d+)?> ", line):
            break
        out.append(line)
    return "\n".join(out)


def test_the_desk_day(run_helpthread: Callable[..., CompletedProcess[str]],
                      tmp_path: Path) -> None:
    done = run_helpthread(DAY.read_text())
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "4242" not in out and "4242" not in done.stderr

    # five tickets, numbered #1–#5, each requester with a receipt
    for number, requester in enumerate(["priya", "marco", "lena", "omar", "jun"], start=1):
        assert f"(to {requester}) Opened #{number}:" in out
        assert f"[DM to {requester}] We have your ticket #{number}:" in out
        assert f"[#{number} team thread] New ticket:" in out
    assert "Opened #6" not in out

    # the claims, replies, notes and resolutions took effect, each where it belongs
    assert "[#2 ticket thread] sam claimed #2" in out
    assert "[#2 ticket thread] sam: Thanks Marco." in out
    assert "[#2 team thread] sam (internal note): Same symptom" in out
    assert "[#2 ticket thread] sam (internal note)" not in out
    assert "[#2 team thread] marco: The new domain is checkout.example-shop.test" in out
    assert "[#3 ticket thread] sam resolved #3: Refunded the duplicate capture" in out
    assert "[#4 ticket thread] ana: Thanks Omar" in out
    assert "[#1 ticket thread] ana resolved #1: Terms for program 1234 updated" in out
    assert "Refused" not in out

    # the requester's own view of #3: resolved, no internal note
    shown = block_after(out, "lena #3> /ticket show 3")
    assert "resolved" in shown and "Refunded the duplicate capture" in shown
    assert "Receipt checked against the payment log" not in shown
    assert "internal note" not in shown

    # priya's list and search find her resolved ticket
    assert "#1 [resolved] PID 1234 Terms and Conditions Update" in block_after(
        out, "priya #1> /ticket list all")
    assert "#1 [resolved]" in block_after(out, "priya #1> /ticket search terms")

    # and the database agrees; nothing is left undelivered
    db = sqlite3.connect(tmp_path / "desk.db")
    statuses = dict(db.execute("select number, status from tickets"))
    assert statuses == {1: "resolved", 2: "in_progress", 3: "resolved", 4: "in_progress",
                        5: "open"}
    assert db.execute("select count(*) from deliveries where state != 'done'").fetchone() == (0,)
    assert db.execute("select count(*) from tickets where fields like '%4242%'").fetchone() == (1,)
