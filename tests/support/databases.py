"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database per use.

PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth): each call to
``fresh_postgres_url`` creates ``helpthread_test_<random>``; ``drop_postgres`` drops it.
Where no server answers, ``postgres_answers()`` says why, so tests skip with a reason.
"""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest

PG_ADMIN_DSN = os.environ.get("HELPTHREAD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_available: tuple[bool, str] | None = None


async def _probe() -> tuple[bool, str]:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as err:
        return False, f"no PostgreSQL server answers at {PG_ADMIN_DSN}: {err}"
    await conn.close()
    return True, ""


async def postgres_answers() -> tuple[bool, str]:
    """``(True, "")`` if the server answers, else ``(False, why)``; asked once per run."""
    global _available
    if _available is None:
        _available = await _probe()
    return _available


async def require_postgres() -> None:
    """Skips the calling test, saying why, when no PostgreSQL server answers (the
    system package is absent: PostgreSQL tests skip and print why, README)."""
    ok, why = await postgres_answers()
    if not ok:
        pytest.skip(why)


def read_only_sqlite(url: str) -> str:
    """The same SQLite file opened read-only (``mode=ro``): every write fails as on a
    read-only file or a full disk, whoever runs the tests (root ignores ``chmod``)."""
    path = url.split(":///", 1)[1]
    return f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"


async def fresh_postgres_url() -> tuple[str, str]:
    """``(sqlalchemy url, database name)`` of a new empty database."""
    name = f"helpthread_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}", name


async def drop_postgres(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
