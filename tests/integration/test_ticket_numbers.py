"""Issue 10, point 10: on PostgreSQL a ticket's number comes from a sequence, taken after
every check that can refuse the ticket, so concurrent openings queue on nothing; the
numbers stay unique and without gaps in normal use — refusals, duplicates and retried
requests included. (The 4-process test in test_concurrency_postgres.py covers
processes; this one engines in one process, and what must not take a number.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import DeskSection
from core.desk import Desk
from core.errors import Limited
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores, T
from tests.support.people import SHELL_ROUTE, desk_config, form, person

ENGINES = 3
OPENINGS = 300
AT_ONCE = 8  # callers per engine


@pytest.fixture
async def engines(postgres_url: str) -> AsyncIterator[list[AsyncEngine]]:
    await upgrade_async(postgres_url)
    made = [make_engine(postgres_url) for _ in range(ENGINES)]
    try:
        yield made
    finally:
        for engine in made:
            await engine.dispose()


def desks(engines: list[AsyncEngine], window: timedelta = timedelta(minutes=10)) -> list[Desk]:
    config = desk_config(desk=DeskSection(duplicate_window=window))
    return [Desk(config, SqlStores(e), [SHELL_ROUTE]) for e in engines]


async def stored_numbers(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(T.c.number).order_by(T.c.number))).scalars())


async def test_300_concurrent_openings_across_3_engines_are_1_to_300(
        engines: list[AsyncEngine]) -> None:
    all_desks = desks(engines)
    pending = iter(range(OPENINGS))
    numbers: list[int] = []

    async def caller(desk: Desk) -> None:
        for i in pending:
            opened = await desk.open_ticket(person(f"user{i}"), form(subject=f"Case {i}"))
            numbers.append(opened.ticket.number)

    await asyncio.gather(*(caller(d) for d in all_desks for _ in range(AT_ONCE)))
    assert sorted(numbers) == list(range(1, OPENINGS + 1))
    assert await stored_numbers(engines[0]) == list(range(1, OPENINGS + 1))


async def test_refusals_duplicates_and_retries_take_no_number(
        engines: list[AsyncEngine]) -> None:
    """The same request sent at once through three engines (as three processes would
    get a platform's retries), with no duplicate window to catch it by its text; a
    resubmission; a requester over the limit — then the next ticket is #2."""
    first, second, third = desks(engines, window=timedelta(0))
    ana = person("ana")
    same = [d.open_ticket(ana, form(), request_key="slack:T1:trigger-1")
            for d in (first, second, third)]
    results = await asyncio.gather(*same)
    assert {r.ticket.number for r in results} == {1}
    assert sum(not r.duplicate for r in results) == 1
    assert all(r.retried for r in results if r.duplicate)

    limited = desks(engines[:1], window=timedelta(minutes=10))[0]
    assert (await limited.open_ticket(ana, form())).duplicate  # same text: returned, not new
    for i in range(4):  # up to the hourly limit of 5
        await limited.open_ticket(ana, form(subject=f"More {i}"))
    with pytest.raises(Limited):
        await limited.open_ticket(ana, form(subject="One too many"))
    opened = await second.open_ticket(person("ben"), form())
    assert opened.ticket.number == 6
    assert await stored_numbers(engines[0]) == [1, 2, 3, 4, 5, 6]
