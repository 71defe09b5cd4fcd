"""Throwaway databases for the benchmarks: a SQLite file in a temporary directory, or a
PostgreSQL database made on the server behind ``admin_dsn`` and dropped after."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg


@asynccontextmanager
async def throwaway_postgres(admin_dsn: str) -> AsyncIterator[str]:
    """The URL (``postgresql+asyncpg://…``) of a new, empty database, dropped at the end
    (``WITH (FORCE)``: a connection left open does not keep it)."""
    name = f"helpthread_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def throwaway(engine: str, admin_dsn: str) -> AsyncIterator[str]:
    """``throwaway_postgres``, or for ``engine == "sqlite"`` a file in a temporary
    directory removed at the end."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="helpthread-bench-") as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    async with throwaway_postgres(admin_dsn) as url:
        yield url
