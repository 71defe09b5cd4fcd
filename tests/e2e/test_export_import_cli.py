"""``helpthread export`` and ``helpthread import`` as the real processes (issue 12, point 6):
``export | import -`` moves a SQLite desk to PostgreSQL; CSV to a file; a non-empty
database, a bad line and a bad option are refused with one line and exit 2."""

from __future__ import annotations

import csv
import json
import subprocess
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
    future = _run(tmp_path, "export", "--since", "2999-01-01")
    assert json.loads(future.stdout.splitlines()[-1])["end"]["tickets"] == 0
    bad = _run(tmp_path, "export", "--format", "xml")
    assert bad.returncode == 2 and "use jsonl or csv" in bad.stderr
    since = _run(tmp_path, "export", "--since", "last tuesday")
    assert since.returncode == 2 and "--since 'last tuesday'" in since.stderr
    (tmp_path / "broken.jsonl").write_text('{"helpthread_export": 1}\n{"ticket": 5}\n')
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    broken = _run(tmp_path, "import", "broken.jsonl", url=empty)
    assert broken.returncode == 2
    assert broken.stderr.strip() == ("helpthread: import: broken.jsonl: line 2: a tickets "
                                     "row is not a JSON object; nothing was imported")
    missing = _run(tmp_path, "import", "nowhere.jsonl", url=empty)
    assert missing.returncode == 2 and "cannot read nowhere.jsonl" in missing.stderr
