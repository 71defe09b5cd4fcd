"""A desk on a real database (SQLite file or PostgreSQL), migrated with Alembic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from core.clock import FrozenClock
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores
from tests.support.people import make_desk
from tests.support.recording import RecordingOutbound


@dataclass
class Wired:
    desk: Desk
    worker: DeliveryWorker
    outbound: RecordingOutbound
    clock: FrozenClock
    stores: SqlStores
    url: str


@pytest.fixture
async def wired(database_url: str) -> AsyncIterator[Wired]:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    clock = FrozenClock()
    stores = SqlStores(engine)
    outbound = RecordingOutbound()
    worker = DeliveryWorker(SqlOutbox(engine), [outbound], make_desk(stores).config,
                            clock=clock)
    desk = make_desk(stores, clock=clock)
    try:
        yield Wired(desk, worker, outbound, clock, stores, database_url)
    finally:
        await engine.dispose()
