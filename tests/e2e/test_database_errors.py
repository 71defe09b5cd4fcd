"""Issue 9, point 7: a bad ``HELPTHREAD_DATABASE_URL`` is one line naming the setting —
exit 2 when the setting is wrong, 1 when the server cannot be reached — from
``helpthread run``, ``helpthread shell`` and ``helpthread db upgrade``; never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.databases import PG_ADMIN_DSN, require_postgres

COMMANDS = [("run",), ("shell", "--as", "ana"), ("db", "upgrade")]
PG_BASE = PG_ADMIN_DSN.rsplit("/", 1)[0]


def _start(tmp_path: Path, url: str, command: tuple[str, ...]) -> tuple[int, list[str]]:
    env = {**clean_env(tmp_path), "HELPTHREAD_DATABASE_URL": url}
    done = subprocess.run([HELPTHREAD, *command], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, input="/ticket list\n")
    return done.returncode, done.stderr.strip().splitlines()


CASES = {  # name: (url, exit status, what the line says)
    "garbage": ("garbage", 2, "'garbage' is not a database URL"),
    "empty": ("", 2, "is empty"),
    "mysql": ("mysql://desk@127.0.0.1/helpthread", 2, "'mysql' databases are not supported"),
    "sync-driver": ("sqlite+pysqlite:///desk.db", 2, "write sqlite+aiosqlite"),
    "no-directory": ("sqlite+aiosqlite:///missing/desk.db", 2,
                     "the directory missing of the SQLite file"),
    "not-a-database": ("sqlite+aiosqlite:///notes.txt", 2, "notes.txt is not a SQLite database"),
    "no-server": ("postgresql://postgres@127.0.0.1:9/helpthread", 1,
                  "no PostgreSQL server answers"),
    "bad-sqlite-option": ("sqlite+aiosqlite:///file:desk.db?mode=bogus&uri=true", 2,
                          "no such access mode: bogus"),
    "port-out-of-range": ("postgres://postgres@127.0.0.1:99999/x", 2,
                          "the port must be a number from 1 to 65535"),
    "libpq-option": ("postgresql://postgres@127.0.0.1/x?sslcert=c.pem", 2,
                     "the option 'sslcert' is not one"),
}
# every case through `db upgrade`; `run` and `shell` share its path, so one case of each
# kind (refused while loading settings, on opening, unreachable) for them
MATRIX = [(("db", "upgrade"), name) for name in CASES] + [
    (command, name) for command in COMMANDS[:2]
    for name in ("garbage", "not-a-database", "no-server")]


@pytest.mark.parametrize(("command", "case"), MATRIX,
                         ids=[f"{' '.join(c[:1])}-{n}" for c, n in MATRIX])
def test_one_line_naming_the_setting(tmp_path: Path, command: tuple[str, ...],
                                     case: str) -> None:
    url, status, says = CASES[case]
    (tmp_path / "notes.txt").write_text("not a database\n" * 100)
    code, lines = _start(tmp_path, url, command)
    assert code == status, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("helpthread: HELPTHREAD_DATABASE_URL: ") and says in lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
async def test_a_database_that_does_not_exist(tmp_path: Path,
                                              command: tuple[str, ...]) -> None:
    await require_postgres()
    code, lines = _start(tmp_path, f"{PG_BASE}/helpthread_no_such_db", command)
    assert code == 2, lines
    assert len(lines) == 1 and "database 'helpthread_no_such_db' does not exist" in lines[0]


def test_slack_is_not_called_when_the_database_is_wrong(tmp_path: Path) -> None:
    """The database is opened before any platform: nothing reaches Slack's API (port 9
    answers nothing, so a call would end in 'cannot start Slack')."""
    (tmp_path / "helpthread.toml").write_text('[slack]\nsupport_channel = "C1"\n'
                                              'team_channel = "C2"\n')
    env = {**clean_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": "http://127.0.0.1:9/api/",
           "HELPTHREAD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'no' / 'desk.db'}"}
    done = subprocess.run([HELPTHREAD, "run"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, input="")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("helpthread: HELPTHREAD_DATABASE_URL: the directory")


def test_a_plain_sqlite_url_is_opened_with_aiosqlite(tmp_path: Path) -> None:
    code, lines = _start(tmp_path, "sqlite:///plain.db", ("db", "upgrade"))
    assert code == 0, lines
    assert (tmp_path / "plain.db").exists()


# A query option the driver cannot use, with the reason, before anything connects: the
# driver would otherwise fail in a traceback (asyncpg on "float + str", SQLAlchemy on a
# bare ValueError) or, for SQLite, ignore the option with only a warning.
OPTION_CASES = {  # name: (url, what the line says)
    "sslmode": ("postgresql://postgres@127.0.0.1/x?sslmode=bogus",
                "the option sslmode='bogus' is not one of disable, allow, prefer"),
    "ssl": ("postgresql://postgres@127.0.0.1/x?ssl=bogus", "the option ssl='bogus' is not"),
    "session-attrs": ("postgresql://postgres@127.0.0.1/x?target_session_attrs=zzz",
                      "the option target_session_attrs='zzz' is not one of any, primary"),
    "server-settings": ("postgresql://postgres@127.0.0.1/x?server_settings=x",
                        "the option server_settings='x' is a mapping"),
    "pg-timeout": ("postgresql://postgres@127.0.0.1/x?timeout=abc",
                   "the option timeout='abc' is not a number"),
    "sqlite-timeout": ("sqlite+aiosqlite:///desk.db?timeout=abc",
                       "the option timeout='abc' is not a number"),
    "sqlite-unknown": ("sqlite+aiosqlite:///desk.db?foo=1",
                       "the option 'foo' is not one SQLite's driver takes; it takes"),
    "sqlite-uri-only": ("sqlite+aiosqlite:///desk.db?mode=ro",
                        "the option 'mode' is a SQLite URI option; it needs uri=true"),
}
OPTION_COMMANDS = [("run",), ("db", "upgrade"), ("export",), ("import", "-")]


@pytest.mark.parametrize("case", OPTION_CASES)
def test_a_bad_query_option_is_named(tmp_path: Path, case: str) -> None:
    url, says = OPTION_CASES[case]
    for command in OPTION_COMMANDS if case in ("pg-timeout", "sqlite-timeout") \
            else OPTION_COMMANDS[:2]:
        code, lines = _start(tmp_path, url, command)
        assert code == 2, (command, lines)
        assert lines == [f"helpthread: HELPTHREAD_DATABASE_URL: {lines[0].split(': ', 2)[2]}"]
        assert says in lines[0], lines
    assert not (tmp_path / "desk.db").exists()


@pytest.mark.postgres
async def test_good_query_options_reach_the_driver_typed(tmp_path: Path) -> None:
    """Numbers and flags in the URL arrive as numbers and flags (asyncpg adds a
    timeout to a float)."""
    await require_postgres()
    url = (f"{PG_BASE}/helpthread_no_such_db?sslmode=disable&timeout=5&command_timeout=7"
           "&statement_cache_size=0&direct_tls=false")
    code, lines = _start(tmp_path, url, ("db", "upgrade"))
    assert code == 2, lines
    assert len(lines) == 1 and "database 'helpthread_no_such_db' does not exist" in lines[0]
    code, lines = _start(tmp_path, "sqlite:///plain.db?timeout=2.5&cached_statements=10",
                         ("db", "upgrade"))
    assert (code, lines) == (0, [])
