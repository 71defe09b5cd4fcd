"""``helpthread export`` and ``helpthread import`` as the real processes (issue 12, point 6):
``export | import -`` moves a SQLite desk to PostgreSQL; CSV to a file; a non-empty
database, a bad line and a bad option are refused with one line and exit 2."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from core.clock import FrozenClock
from core.store.engine import make_engine
from core.store.export_format import CSV_COLUMNS
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.people import agent, form, make_desk, person


async def _seed(tmp_path: Path) -> None:
    url = clean_env(tmp_path)["HELPTHREAD_DATABASE_URL"]
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        desk = make_desk(SqlStores(engine), clock=FrozenClock(datetime.now(UTC)))
        await desk.open_ticket(person("lena"), form("Pixel not firing"))
        await desk.open_ticket(person("omar"), form(
            "Refund missing", "Order 77.", category="refund",
            fields={"receipt": "R-1", "card_last4": "4242"}))
        await desk.reply(agent("sam"), 2, "Looking at it.")
    finally:
        await engine.dispose()


def _run(tmp_path: Path, *args: str, url: str | None = None,
         stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path)
    if url is not None:
        env["HELPTHREAD_DATABASE_URL"] = url
    return subprocess.run([HELPTHREAD, *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, input=stdin)


async def test_export_piped_into_import_moves_the_desk_to_postgres(
        tmp_path: Path, postgres_url: str) -> None:
    await _seed(tmp_path)
    exported = _run(tmp_path, "export", "--include-sensitive")
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == ""  # piped: no progress bar, nothing extra
    lines = exported.stdout.splitlines()
    assert json.loads(lines[-1]) == {"end": {"tickets": 2, "next_number": 3}}
    assert "4242" in exported.stdout
    imported = _run(tmp_path, "import", "-", url=postgres_url, stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == \
        "Imported 2 tickets (up to #2); new tickets continue at #3."
    again = _run(tmp_path, "export", "--include-sensitive", url=postgres_url)
    body = [json.loads(line) for line in again.stdout.splitlines()[1:]]
    assert [b["ticket"] for b in body[:2]] == [json.loads(line)["ticket"] for line in lines[1:3]]
    assert body[2:] == [json.loads(line) for line in lines[3:]]
    refused = _run(tmp_path, "import", "-", url=postgres_url, stdin=exported.stdout)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "helpthread: import: the database already holds 2 tickets (#1-#2); import loads an "
        "export into an empty database only (name a new one in HELPTHREAD_DATABASE_URL)"]


async def test_csv_to_a_file_and_refusals(tmp_path: Path) -> None:
    await _seed(tmp_path)
    done = _run(tmp_path, "export", "--format", "csv", "--out", "tickets.csv")
    assert done.returncode == 0, done.stderr
    with (tmp_path / "tickets.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == list(CSV_COLUMNS) and [r[0] for r in rows[1:]] == ["1", "2"]
    assert "4242" not in (tmp_path / "tickets.csv").read_text()  # sensitive: left out
    assert not (tmp_path / "tickets.csv.partial").exists()
    future = _run(tmp_path, "export", "--since", "2999-01-01")  # as `report --since` says
    assert future.returncode == 2 and "2999-01-01 is in the future" in future.stderr
    bad = _run(tmp_path, "export", "--format", "xml")
    assert bad.returncode == 2 and "use jsonl or csv" in bad.stderr
    since = _run(tmp_path, "export", "--since", "last tuesday")
    assert since.returncode == 2 and "--since 'last tuesday': write it like 7d" in since.stderr
    (tmp_path / "broken.jsonl").write_text('{"helpthread_export": 1}\n{"ticket": 5}\n')
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    broken = _run(tmp_path, "import", "broken.jsonl", url=empty)
    assert broken.returncode == 2
    assert broken.stderr.strip() == ("helpthread: import: broken.jsonl: line 2: a tickets "
                                     "row is not a JSON object; nothing was imported")
    missing = _run(tmp_path, "import", "nowhere.jsonl", url=empty)
    assert missing.returncode == 2 and "cannot read nowhere.jsonl" in missing.stderr


def test_an_out_that_cannot_be_written_is_one_line_and_no_file(tmp_path: Path) -> None:
    """``--out`` in no directory, under a plain file, naming a directory, on a file system
    nobody writes: one line naming ``--out`` and why, exit 2 (as ``report --png``), no
    traceback and no ``.partial`` left behind; the database is not even created."""
    (tmp_path / "plain.txt").write_text("x")
    (tmp_path / "folder").mkdir()
    url = f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}"
    for out, why in ((str(tmp_path / "nowhere" / "x.jsonl"), ": no such directory "),
                     ("plain.txt/x.jsonl", ": plain.txt is not a directory"),
                     ("folder", ": cannot write it (a directory)"),
                     ("/sys/x.jsonl", ": cannot write ")):
        done = _run(tmp_path, "export", "--out", out, url=url)
        assert done.returncode == 2, (out, done.stderr)
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith(f"helpthread: export: --out {out}{why}"), lines[0]
    assert not (tmp_path / "untouched.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []
    assert list((tmp_path / "folder").iterdir()) == []


def test_an_import_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain.txt").write_text("x")
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    for path, why in (("nowhere.jsonl", "cannot read nowhere.jsonl"),
                      (str(tmp_path / "nowhere" / "x.jsonl"), "cannot read"),
                      ("plain.txt/x.jsonl", "cannot read plain.txt/x.jsonl"),
                      ("folder", "cannot read folder (a directory)")):
        done = _run(tmp_path, "import", path, url=url)
        assert done.returncode == 2, (path, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith("helpthread: import: ") and why in lines[0], lines[0]
    assert not (tmp_path / "empty.db").exists()  # refused before the database


async def test_a_value_the_desk_cannot_read_is_refused_by_line_and_column(
        tmp_path: Path) -> None:
    """The new user's case: a ticket's status edited to "weird", an event's data to
    "notjson{" — refused with the line and column, nothing imported, the desk still
    empty and importable."""
    await _seed(tmp_path)
    lines = _run(tmp_path, "export").stdout.splitlines()
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    status = json.loads(lines[1])
    status["ticket"]["status"] = "weird"
    data = json.loads(lines[2])
    data["events"][0]["data"] = "notjson{"
    for index, line, says in (
            (1, status, "line 2: tickets.status: 'weird' is not one of open, in_progress, "
                        "waiting, on_hold, resolved, closed"),
            (2, data, "line 3: events.data: 'notjson{' is not a JSON object (the data of "
                      "an event of kind 'opened')")):
        edited = [*lines[:index], json.dumps(line), *lines[index + 1:]]
        (tmp_path / "edited.jsonl").write_text("\n".join(edited) + "\n")
        refused = _run(tmp_path, "import", "edited.jsonl", url=empty)
        assert refused.returncode == 2
        assert refused.stderr.strip() == (f"helpthread: import: edited.jsonl: {says}; "
                                          "nothing was imported")
    (tmp_path / "whole.jsonl").write_text("\n".join(lines) + "\n")
    whole = _run(tmp_path, "import", "whole.jsonl", url=empty)
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.startswith("Imported 2 tickets")


async def test_text_the_desk_would_refuse_is_refused_by_line_and_field(
        tmp_path: Path) -> None:
    """The new user's cases: a lone surrogate in a subject (was a UnicodeEncodeError
    traceback), a line break and a text-direction override in a subject (was imported,
    then printed raw by list and show) — and the same rules for category fields,
    multi-line text and names: refused by line and field, nothing imported."""
    await _seed(tmp_path)
    lines = _run(tmp_path, "export").stdout.splitlines()
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"

    def edited(index: int, table: str, column: str, value: object) -> list[str]:
        line = json.loads(lines[index])
        row = line["ticket"] if table == "ticket" else line[table][0]
        row[column] = value
        return [*lines[:index], json.dumps(line), *lines[index + 1:]]

    def replied(change: Callable[[dict[str, object]], None]) -> list[str]:
        """Line 3 with the data of its reply event changed by ``change``."""
        line = json.loads(lines[2])
        change(next(e for e in line["events"] if "text" in e["data"])["data"])
        return [*lines[:2], json.dumps(line), *lines[3:]]

    cases = [
        (edited(1, "ticket", "subject", "a\ud800b"),
         "line 2: tickets.subject: holds a broken character (U+D800)"),
        (edited(1, "ticket", "subject", "line1\nline2\u202e"),
         "line 2: tickets.subject: 'line1\\u000aline2\\u202e' must be a single line"),
        (edited(1, "ticket", "subject", "quiet\u202eevil"),
         "line 2: tickets.subject: 'quiet\\u202eevil' contains a text-direction control "
         "character"),
        (edited(2, "ticket", "fields", {"receipt": "R-1\x1b[31m", "card_last4": "4242"}),
         "line 3: tickets.fields: 'receipt': 'R-1\\u001b[31m' contains a control character "
         "(U+001B)"),
        (edited(2, "ticket", "description", "Order 77.\x07"),
         "line 3: tickets.description: 'Order 77.\\u0007' contains a control character "
         "(U+0007)"),
        (edited(2, "ticket", "requester_name", "omar\x1b]0;x\x07"),
         "line 3: tickets.requester_name: 'omar\\u001b]0;x\\u0007' contains a control "
         "character (U+001B)"),
        (edited(2, "events", "body", "hi\x00"), "line 3: events.body: holds a NUL character"),
        (replied(lambda data: data.update(text="Looking\x1b[2J")),
         "line 3: events.data: text: 'Looking\\u001b[2J' contains a control character "
         "(U+001B)"),
    ]
    for content, says in cases:
        (tmp_path / "edited.jsonl").write_text("\n".join(content) + "\n")
        refused = _run(tmp_path, "import", "edited.jsonl", url=empty)
        assert "Traceback" not in refused.stderr, refused.stderr
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip() == (f"helpthread: import: edited.jsonl: {says}; "
                                          "nothing was imported")
    # multi-line text keeps its line breaks and tabs; joiners in names are kept
    line = json.loads(lines[2])
    line["ticket"].update(description="Order 77.\n\tpaid twice",
                          requester_name="Omar \U0001f468\u200d\U0001f4bb")
    (tmp_path / "ok.jsonl").write_text("\n".join([*lines[:2], json.dumps(line),
                                                   *lines[3:]]) + "\n")
    done = _run(tmp_path, "import", "ok.jsonl", url=empty)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported 2 tickets")


NOT_AN_EXPORT = "only the JSON lines written by `helpthread export` can be imported"


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_a_refused_import_leaves_no_database_behind(tmp_path: Path) -> None:
    """The new user's cases: a CSV, garbage, /dev/null, a file cut short — each refused
    in one line, and no SQLite file (nor journal) made; a file that is no export at all
    (CSV, garbage, empty) says what can be imported."""
    await _seed(tmp_path)
    lines = _run(tmp_path, "export").stdout.splitlines()
    assert _run(tmp_path, "export", "--format", "csv", "--out", "t.csv").returncode == 0
    (tmp_path / "garbage.bin").write_bytes(bytes(range(128, 256)) * 20)
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    (tmp_path / "headless.jsonl").write_text("\n".join(lines[1:]) + "\n")
    before = _files(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    for path, says in (
            ("t.csv", "t.csv: line 1: not a helpthread export (its first line is not "
                      f"JSON); {NOT_AN_EXPORT}; nothing was imported"),
            ("garbage.bin", f"garbage.bin is not UTF-8 text (invalid start byte); "
                            f"{NOT_AN_EXPORT}; nothing was imported"),
            ("/dev/null", "/dev/null: line 1: the file is empty: not a helpthread export; "
                          f"{NOT_AN_EXPORT}; nothing was imported"),
            ("headless.jsonl", "headless.jsonl: line 1: not a helpthread export (its first "
                               f"line names the format); {NOT_AN_EXPORT}; nothing was "
                               "imported"),
            ("cut.jsonl", "cut.jsonl: line 3: not JSON (Unterminated string")):
        refused = _run(tmp_path, "import", path, url=url)
        assert refused.returncode == 2, (path, refused.stderr)
        said = refused.stderr.strip().splitlines()
        assert len(said) == 1 and said[0].startswith(f"helpthread: import: {says}"), said
        assert said[0].endswith("; nothing was imported")
        assert _files(tmp_path) == before, path
    piped = _run(tmp_path, "import", "-", url=url, stdin="number,subject\n1,x\n")
    assert piped.returncode == 2 and NOT_AN_EXPORT in piped.stderr
    assert _files(tmp_path) == before


async def test_a_file_that_is_no_export_is_refused_before_postgres_is_touched(
        tmp_path: Path, postgres_url: str) -> None:
    (tmp_path / "t.csv").write_text("number,subject\n1,x\n")
    refused = _run(tmp_path, "import", "t.csv", url=postgres_url)
    assert refused.returncode == 2 and NOT_AN_EXPORT in refused.stderr
    engine = make_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            tables = (await conn.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
    finally:
        await engine.dispose()
    assert tables == 0  # not migrated: no table, not even alembic_version
