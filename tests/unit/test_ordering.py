"""``core.ordering``: a thread's turn is first come, first served; a live message of a
thread whose backlog is being read waits for it (bounded), others never wait."""

from __future__ import annotations

import asyncio

from core.ordering import Backlog, InOrder


async def test_turns_of_one_thread_are_taken_in_the_order_asked() -> None:
    order = InOrder()
    done: list[int] = []

    async def work(i: int) -> None:
        async with order.turn("thread"):
            for _ in range(3 - i % 3):  # later ones would finish first if not held
                await asyncio.sleep(0)
            done.append(i)

    await asyncio.gather(*(work(i) for i in range(9)))
    assert done == list(range(9))


async def test_a_pending_thread_waits_for_its_backlog_and_no_other_waits() -> None:
    backlog = Backlog()
    assert await backlog.settled("t1", 0), "no catch-up began: nothing to wait for"
    backlog.restart()
    assert not await backlog.settled("t1", 0), "not yet known which threads are pending"
    backlog.expect(["t1", "t2"])
    assert await backlog.settled("t9", 0)
    waiting = asyncio.create_task(backlog.settled("t1", 60))
    await asyncio.sleep(0)
    assert not waiting.done()
    backlog.done("t1")
    assert await waiting
    assert not await backlog.settled("t2", 0), "bounded: gives up rather than wait"
    backlog.finish()
    assert await backlog.settled("t2", 0)
