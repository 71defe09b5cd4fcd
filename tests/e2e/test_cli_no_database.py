"""Commands that work on the desk already there create no database (a new user's trial):
with HELPTHREAD_DATABASE_URL naming a SQLite file that does not exist (a typo), or run
from a directory without ./helpthread.db, ``export``, ``report``, ``deliveries``, ``db
embed``… made and migrated an empty desk and exited 0 ("everything was delivered",
every count 0; ``export | import -`` "moved" nothing). Now: one line naming the file and
what to check, exit 2 (a wrong setting), and no file made."""

from __future__ import annotations

import subprocess
from itertools import takewhile
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.databases import PG_ADMIN_DSN, require_postgres

COMMANDS = [("export",), ("export", "--format", "csv"), ("export", "--out", "t.jsonl"),
            ("export", "--since", "7d"), ("report",),
            ("report", "--png", "r.png", "--html", "r.html"), ("deliveries",),
            ("deliveries", "--parked"), ("deliveries", "retry"), ("deliveries", "retry", "1"),
            ("db", "embed")]
SEMANTIC = {"HELPTHREAD_DEFLECTION__RANKING": "semantic"}  # `db embed` works only then


def _run(cwd: Path, command: tuple[str, ...], url: str | None) -> subprocess.CompletedProcess[str]:
    env = {**clean_env(cwd), **SEMANTIC}
    if url is None:  # the default: ./helpthread.db
        del env["HELPTHREAD_DATABASE_URL"]
    else:
        env["HELPTHREAD_DATABASE_URL"] = url
    return subprocess.run([HELPTHREAD, *command], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, input="")


def _refused(done: subprocess.CompletedProcess[str], command: tuple[str, ...],
             path: Path) -> str:
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    name = " ".join(takewhile(lambda word: word.isalpha(), command))  # `deliveries retry`
    assert lines[0].startswith(f"helpthread: HELPTHREAD_DATABASE_URL: the SQLite file {path} "
                               f"does not exist; `helpthread {name}` works on an existing "
                               "desk and creates no database: check HELPTHREAD_DATABASE_URL"), \
        lines[0]
    assert lines[0].endswith("; `helpthread run` creates the database"), lines[0]
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_sqlite_file_that_does_not_exist_is_refused_and_not_made(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    for url, path in ((f"sqlite:///{tmp_path / 'typo.db'}", tmp_path / "typo.db"),
                      (f"sqlite+aiosqlite:///{tmp_path / 'x' / 'typo.db'}",
                       tmp_path / "x" / "typo.db")):
        line = _refused(_run(tmp_path, command, url), command, path)
        assert "the directory helpthread runs in" not in line  # an absolute path
    assert list(tmp_path.iterdir()) == []  # no database, journal, --out or .partial file


@pytest.mark.parametrize("command", [("export",), ("report",), ("deliveries",),
                                     ("deliveries", "retry")], ids=" ".join)
def test_a_directory_without_helpthread_db_is_refused(tmp_path: Path,
                                                      command: tuple[str, ...]) -> None:
    line = _refused(_run(tmp_path, command, None), command, tmp_path / "helpthread.db")
    assert f"and the directory helpthread runs in (the path is relative to it: {tmp_path})" \
        in line
    assert list(tmp_path.iterdir()) == []


def test_a_relative_url_names_the_directory_and_a_made_desk_is_read(tmp_path: Path) -> None:
    url = "sqlite+aiosqlite:///desk.db"
    line = _refused(_run(tmp_path, ("report",), url), ("report",), tmp_path / "desk.db")
    assert f"(the path is relative to it: {tmp_path})" in line
    assert _run(tmp_path, ("db", "upgrade"), url).returncode == 0  # makes the database
    for command in (("export",), ("report",), ("deliveries",), ("deliveries", "retry")):
        done = _run(tmp_path, command, url)
        assert done.returncode == 0, (command, done.stderr)


@pytest.mark.postgres
@pytest.mark.parametrize("command", [("export",), ("report",), ("deliveries",)],
                         ids=" ".join)
async def test_a_postgres_database_that_does_not_exist_is_refused(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    await require_postgres()
    url = f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/helpthread_no_such_db"
    done = _run(tmp_path, command, url)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "helpthread: HELPTHREAD_DATABASE_URL: database 'helpthread_no_such_db' does not "
        "exist on the server at "), lines
