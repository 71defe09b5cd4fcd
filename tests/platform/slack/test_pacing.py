"""Acknowledgements first: work nobody waits on gives way while a request is dispatched."""

from __future__ import annotations

import asyncio

from adapters.slack.pacing import AckFirst


async def test_background_work_waits_for_the_acknowledgements_in_flight():
    pace = AckFirst(max_defer=60)
    started = asyncio.Event()

    async def work() -> None:
        async with pace.background():
            started.set()

    with pace.acknowledging():
        task = asyncio.create_task(work())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not started.is_set(), "held back while a request is being acknowledged"
    await asyncio.wait_for(task, 5)
    assert started.is_set()


async def test_background_work_runs_at_once_when_nothing_is_dispatched():
    pace = AckFirst(max_defer=60)
    async with pace.background():
        pass  # no wait: nothing in dispatch


async def test_background_work_is_never_starved():
    pace = AckFirst(max_defer=0)
    with pace.acknowledging():
        async with pace.background():
            pass  # max_defer elapsed: it goes ahead even though requests keep coming


async def test_an_instant_between_two_requests_is_not_a_quiet_moment():
    pace = AckFirst(max_defer=60, settle=0.05)
    started = asyncio.Event()

    async def work() -> None:
        async with pace.background():
            started.set()

    with pace.acknowledging():
        task = asyncio.create_task(work())
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)  # nothing in dispatch for a moment, then the next request
    with pace.acknowledging():
        await asyncio.sleep(0.06)
        assert not started.is_set(), "the burst goes on: still held back"
    await asyncio.wait_for(task, 5)
    assert started.is_set()
