"""Shared fixtures: databases (SQLite and PostgreSQL), a wired desk, a recording outbound."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.databases import drop_postgres, fresh_postgres_url, require_postgres

# slack_sdk follows HTTP(S)_PROXY and ignores NO_PROXY (TESTING.md): tests talk to loopback.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)


async def _postgres() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; a skip naming why if none answers."""
    await require_postgres()
    url, name = await fresh_postgres_url()
    try:
        yield url
    finally:
        await drop_postgres(name)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'helpthread.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async for url in _postgres():
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'helpthread.db'}"
        return
    async for url in _postgres():
        yield url
