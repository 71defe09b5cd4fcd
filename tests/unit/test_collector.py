"""``bot.collector``: full garbage collections at quiet moments, with the real collector
(CPython's own counts of middle collections)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import pytest

from bot.collector import (
    FULL_AFTER_MIDDLE,
    MOST_MIDDLE,
    NO_AUTOMATIC_FULL,
    QUIET_SECONDS,
    IdleCollector,
    freeze_startup_heap,
    thaw_heap,
)


@pytest.fixture
def serving() -> Iterator[None]:
    """The collector as ``helpthread run`` sets it while serving, restored after."""
    before = freeze_startup_heap()
    try:
        yield
    finally:
        thaw_heap(before)


def middle(count: int) -> None:
    for _ in range(count):
        gc.collect(1)


def test_serving_turns_automatic_full_collections_off(serving: None) -> None:
    assert gc.get_threshold()[2] == NO_AUTOMATIC_FULL
    assert gc.get_freeze_count() > 0  # start-up's heap is out of reach
    full_before = gc.get_stats()[2]["collections"]
    garbage = [[] for _ in range(50_000)]  # allocations enough for many young ones
    del garbage
    middle(FULL_AFTER_MIDDLE + 5)
    [object() for _ in range(10_000)]
    assert gc.get_stats()[2]["collections"] == full_before  # none came by itself


def test_a_full_collection_waits_for_a_quiet_moment(serving: None) -> None:
    last_request = [time.monotonic()]
    collector = IdleCollector(lambda: last_request[0])
    middle(FULL_AFTER_MIDDLE - 1)
    assert not collector.due(time.monotonic() + 10)  # not enough middle ones yet
    middle(1)
    assert not collector.due(last_request[0] + QUIET_SECONDS / 2)  # a request just came
    assert collector.due(last_request[0] + QUIET_SECONDS)
    full_before = gc.get_stats()[2]["collections"]
    collector.collect()
    assert gc.get_stats()[2]["collections"] == full_before + 1
    assert not collector.due(time.monotonic() + 10)  # counted from this one


def test_a_stream_that_never_pauses_gets_one_all_the_same(serving: None) -> None:
    collector = IdleCollector(time.monotonic)  # a request at every moment
    middle(MOST_MIDDLE - 1)
    assert not collector.due(time.monotonic())
    middle(1)
    assert collector.due(time.monotonic())


async def test_it_runs_until_stopped_and_collects_when_due(serving: None) -> None:
    collector = IdleCollector(lambda: 0.0)  # quiet since ever
    stop = asyncio.Event()
    task = asyncio.create_task(collector.run(stop))
    middle(FULL_AFTER_MIDDLE)
    full_before = gc.get_stats()[2]["collections"]
    for _ in range(40):  # a guard: it looks every 0.25 s
        if collector.full_collections:
            break
        await asyncio.sleep(0.05)
    assert collector.full_collections == 1
    assert gc.get_stats()[2]["collections"] == full_before + 1
    stop.set()
    await asyncio.wait_for(task, 2)
