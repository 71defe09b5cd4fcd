"""Opening the database: the migrations say what they applied, and a database that
cannot be opened is one sentence saying whether to fix the URL or wait for the server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.store.migrate import CannotOpenDatabase, upgrade_async
from tests.support.databases import PG_ADMIN_DSN, require_postgres


async def test_upgrade_reports_what_it_applied_then_nothing(database_url: str) -> None:
    first = await upgrade_async(database_url)
    assert first.before is None and first.after == "0011"
    assert [rev for rev, _ in first.applied] == [
        "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011"]
    assert first.applied[0][1].startswith("Initial tables")
    again = await upgrade_async(database_url)
    assert (again.before, again.after, again.applied) == ("0011", "0011", ())


async def _refused(url: str) -> CannotOpenDatabase:
    with pytest.raises(CannotOpenDatabase) as raised:
        await upgrade_async(url)
    assert "\n" not in str(raised.value)
    return raised.value


async def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    err = await _refused(f"sqlite+aiosqlite:///{tmp_path / 'nowhere' / 'desk.db'}")
    assert not err.unreachable
    assert f"the directory {tmp_path / 'nowhere'}" in str(err) and "does not exist" in str(err)


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    err = await _refused(f"sqlite+aiosqlite:///{path}")
    assert not err.unreachable and f"{path} is not a SQLite database" in str(err)
    assert path.read_text().startswith("these are my notes")  # left as it was


async def test_a_directory_is_not_a_sqlite_file(tmp_path: Path) -> None:
    err = await _refused(f"sqlite+aiosqlite:///{tmp_path}")
    assert not err.unreachable and "is a directory" in str(err)


async def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    await upgrade_async(url)
    with sqlite3.connect(tmp_path / "desk.db") as db:
        db.execute("update alembic_version set version_num = '0099'")
    err = await _refused(url)
    assert not err.unreachable and "'0099'" in str(err)


async def test_no_server_answering_is_unreachable() -> None:
    err = await _refused("postgresql+asyncpg://postgres@127.0.0.1:9/helpthread")
    assert err.unreachable and "no PostgreSQL server answers at 127.0.0.1:9" in str(err)


async def test_a_database_that_does_not_exist_is_a_wrong_setting() -> None:
    await require_postgres()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    err = await _refused(f"{base}/helpthread_no_such_database")
    assert not err.unreachable
    assert "database 'helpthread_no_such_database' does not exist" in str(err)
