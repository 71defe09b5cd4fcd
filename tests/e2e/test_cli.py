"""The command line itself: what ``db upgrade`` says it did, and ``--help`` that shows
flags as flags (issue 9, point 7)."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env


def _helpthread(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HELPTHREAD, *args], env={**clean_env(tmp_path), "COLUMNS": "100"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_db_upgrade_says_what_it_applied_then_that_nothing_was_pending(tmp_path: Path) -> None:
    first = _helpthread(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[:2] == ["applied:", "  0001 Initial tables: tickets, bindings, events, "
                                     "deliveries, read marks, counters"]
    # each title whole, on one line: 0010's was once cut mid-word ("two indexes a)")
    assert lines[10] == ("  0010 The search index's language and two indexes for "
                         "requesters' searches (issue 12)")
    assert lines[11].startswith("  0011 ")
    assert lines[12].startswith("database now at 0011: ") and len(lines) == 13
    again = _helpthread(tmp_path, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("database already up to date at 0011")
    assert "applied" not in again.stdout


def test_db_upgrade_hides_the_password(tmp_path: Path) -> None:
    done = subprocess.run(
        [HELPTHREAD, "db", "upgrade"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env={**clean_env(tmp_path),
                          "HELPTHREAD_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:9/x"})
    assert done.returncode == 1 and "hunter2" not in done.stdout + done.stderr


@pytest.mark.parametrize("command", [(), ("run",), ("shell",), ("doctor",), ("db",),
                                     ("db", "upgrade"), ("slack-manifest",),
                                     ("discord-invite",), ("deliveries",),
                                     ("deliveries", "retry")], ids=" ".join)
def test_help_shows_flags_as_flags(tmp_path: Path, command: tuple[str, ...]) -> None:
    done = _helpthread(tmp_path, *command, "--help")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s+--help\s+Show this message", done.stdout, re.M), done.stdout
    assert "<bool>" not in done.stdout and "BOOLEAN" not in done.stdout


def test_version_prints_the_installed_version_and_nothing_runs(tmp_path: Path) -> None:
    expected = f"helpthread {metadata.version('helpthread')}\n"
    for args in (("--version",), ("--version", "run"), ("--version", "export")):
        done = _helpthread(tmp_path, *args)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), args
    assert list(tmp_path.iterdir()) == []  # eager: `run` never started
    listed = _helpthread(tmp_path, "--help")
    assert re.search(r"^\s+--version\s+Print the installed version", listed.stdout, re.M)


def test_the_command_list_names_doctor(tmp_path: Path) -> None:
    done = _helpthread(tmp_path, "--help")
    assert re.search(r"^\s+doctor\s+Check the config, the database and each", done.stdout,
                     re.M), done.stdout
    done = _helpthread(tmp_path, "doctor", "--help")
    assert re.search(r"^\s+--offline\s+Ask no server", done.stdout, re.M), done.stdout


def test_shell_help_names_its_options(tmp_path: Path) -> None:
    done = _helpthread(tmp_path, "shell", "--help")
    assert re.search(r"^\s+--as NAME\s+Who you are", done.stdout, re.M), done.stdout
    assert re.search(r"^\s+--agent\s+Act as an agent", done.stdout, re.M), done.stdout


@pytest.mark.parametrize("name", ["a\x07b\x1b[31mRED", "", "<!channel>", "n" * 41])
def test_shell_as_takes_the_names_slash_as_takes(tmp_path: Path, name: str) -> None:
    """A persona name reaches the terminal in every prompt: refused like ``/as`` refuses
    it, never printed raw (found by a new user's trial)."""
    done = subprocess.run([HELPTHREAD, "shell", "--as", name], input="", cwd=tmp_path,
                          env=clean_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("helpthread: --as: ") and "\x1b" not in done.stderr
    assert done.stdout == ""
