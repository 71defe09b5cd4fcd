"""Issue 9, point 7: ``make demo`` runs the sample desk day on a throwaway database, so
tickets left in ./helpthread.db by an earlier run (or a ./helpthread.toml, or Slack
credentials in the environment) change nothing in it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "Makefile"


def _make_is_ready() -> bool:
    """``make`` is there and the virtualenv is installed (``demo`` would install it)."""
    if shutil.which("make") is None:
        return False
    stamp = ROOT / ".venv" / ".installed"
    done = subprocess.run(["make", "-q", "-f", str(MAKEFILE), str(stamp)],
                          capture_output=True, timeout=60)
    return done.returncode == 0


def _tickets(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("select number, subject from tickets order by number"))


@pytest.mark.skipif(not _make_is_ready(), reason="needs make and the installed .venv "
                                                 "(make test creates it)")
def test_make_demo_ignores_what_is_in_the_current_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in clean_env(tmp_path).items() if k != "HELPTHREAD_DATABASE_URL"}
    earlier = subprocess.run(  # an interactive session left tickets in ./helpthread.db
        [HELPTHREAD, "run"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, input='/as sam --agent\n/ticket new category=general subject="Old one" '
                          'description="Left from yesterday"\n/ticket new category=general '
                          'subject="Another" description="Also left"\n')
    assert earlier.returncode == 0, earlier.stderr
    before = _tickets(tmp_path / "helpthread.db")
    assert len(before) == 2
    (tmp_path / "helpthread.toml").write_text('[[categories]]\nkey = "other"\nname = "Other"\n')
    temp = tmp_path / "temp"
    temp.mkdir()

    done = subprocess.run(["make", "-s", "-f", str(MAKEFILE), "demo"], cwd=tmp_path,
                          env={**env, "TMPDIR": str(temp), "SLACK_BOT_TOKEN": "xoxb-1",
                               "HELPTHREAD_SLAA": "1",  # a misspelt setting: not the demo's
                               "HELPTHREAD_SLACK__SUPPORT_CHANNEL": "C1"},
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    for number, requester in enumerate(["priya", "marco", "lena", "omar", "jun"], start=1):
        assert f"(to {requester}) Opened #{number}:" in out
    assert "[#3 ticket thread] sam resolved #3: Refunded the duplicate capture" in out
    assert "[#1 ticket thread] ana resolved #1: Terms for program 1234 updated" in out
    assert "Refused" not in out and "Opened #6" not in out
    assert _tickets(tmp_path / "helpthread.db") == before  # untouched
    assert list(temp.iterdir()) == []  # the throwaway database is gone
