"""One store contract, three stores: ``store_kind`` is memory, sqlite or postgres.

``contract`` yields a ``StoreUnderTest``: the ``StoreFactory``, its delivery queue
(``Outbox``) and a way to read back what the port has no reader for (deliveries).
The SQL stores run on a fresh, migrated database each test; PostgreSQL skips, saying
why, where no server answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.outbound import Outbox
from core.routing import Delivery
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.port import StoreFactory
from core.store.rows import delivery_from
from core.store.sql import D, SqlStores
from tests.conftest import _postgres
from tests.support.memory import MemoryStores
from tests.support.memory_outbox import MemoryOutbox


@dataclass
class StoreUnderTest:
    kind: str
    stores: StoreFactory
    deliveries: Callable[[], Awaitable[list[Delivery]]]
    outbox: Outbox
    url: str | None = None


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def contract(store_kind: str, tmp_path: Path) -> AsyncIterator[StoreUnderTest]:
    if store_kind == "memory":
        memory = MemoryStores()

        async def memory_deliveries() -> list[Delivery]:
            return list(memory.state.deliveries)

        yield StoreUnderTest("memory", memory, memory_deliveries, MemoryOutbox(memory))
        return
    urls = _sqlite(tmp_path) if store_kind == "sqlite" else _postgres()
    async for url in urls:
        await upgrade_async(url)
        engine = make_engine(url)
        try:
            yield StoreUnderTest(store_kind, SqlStores(engine), _reader(engine),
                                 SqlOutbox(engine), url)
        finally:
            await engine.dispose()


def _reader(engine: AsyncEngine) -> Callable[[], Awaitable[list[Delivery]]]:
    async def sql_deliveries() -> list[Delivery]:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(D).order_by(D.c.id))).all()
        return [delivery_from(r) for r in rows]
    return sql_deliveries


async def _sqlite(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'helpthread.db'}"
