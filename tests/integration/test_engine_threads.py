"""The serving desk's SQLite connection threads run at a lower CPU priority than its
event loop (``core.store.engine``, ``bot.runtime.DB_THREAD_NICE``): on one busy CPU the
loop, which answers platforms within their deadlines, goes first."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.runtime import DB_THREAD_NICE, build
from bot.settings import Settings
from core.store.engine import READING, THREAD_SLICE_NS, _lower_this_thread, make_engine

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread nice values are Linux's; elsewhere "
                                "make_engine leaves its threads as they are")


def _nice(thread: threading.Thread) -> int:
    assert thread.native_id is not None
    return os.getpriority(os.PRIO_PROCESS, thread.native_id)


def _slice(thread: threading.Thread) -> int | None:
    """The thread's time slice in ns as the scheduler reports it (``se.slice``), or None
    on a kernel that does not report it or takes no slice asked for (before 6.12)."""
    release = tuple(int(part) for part in os.uname().release.split(".")[:2])
    try:
        with open(f"/proc/self/task/{thread.native_id}/sched") as lines:
            found = [line.split(":")[1] for line in lines if line.startswith("se.slice")]
    except OSError:
        return None
    return int(found[0]) if found and release >= (6, 12) else None


def _connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def test_each_connection_thread_is_nicer_and_the_loop_is_not(tmp_path: Path) -> None:
    loop_nice = _nice(threading.main_thread())
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/n.db", thread_nice=5)
    try:
        before = set(_connection_threads())
        async with engine.connect() as one, engine.connect() as two:
            for conn in (one, two):  # reads: neither takes the write lock
                await conn.execution_options(**{READING: True})
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            made = [t for t in _connection_threads() if t not in before]
            assert len(made) == 2
            assert [_nice(t) for t in made] == [min(loop_nice + 5, 19)] * 2
            # and the shortest slice, where the kernel takes and reports one (6.12 on)
            if _slice(made[0]) is not None:
                assert [_slice(t) for t in made] == [THREAD_SLICE_NS] * 2
                assert _slice(threading.main_thread()) != THREAD_SLICE_NS
        assert _nice(threading.main_thread()) == loop_nice
    finally:
        await engine.dispose()


async def test_the_serving_runtime_lowers_its_threads_and_other_engines_do_not(
        tmp_path: Path) -> None:
    loop_nice = _nice(threading.main_thread())
    plain = make_engine(f"sqlite+aiosqlite:///{tmp_path}/plain.db")
    try:
        before = set(_connection_threads())
        async with plain.connect() as conn:
            await conn.execute(text("SELECT 1"))
            assert [_nice(t) for t in _connection_threads() if t not in before] == [loop_nice]
    finally:
        await plain.dispose()
    before = set(_connection_threads())
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/desk.db", port=0)
    runtime = await build(settings, settings.desk_config())
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            mine = [t for t in _connection_threads() if t not in before]
            assert mine, "the runtime's engine made no connection thread"
            assert {_nice(t) for t in mine} == {min(loop_nice + DB_THREAD_NICE, 19)}
        assert _nice(threading.main_thread()) == loop_nice
    finally:
        await runtime.close()


def test_a_thread_under_another_policy_keeps_it_and_is_only_made_nicer() -> None:
    """A desk started under ``chrt -b`` / ``-i`` (or systemd's CPUSchedulingPolicy)
    keeps that policy in its database threads: lowering never moves one to the
    ordinary policy, which for an idle-policy thread would raise its priority."""
    seen: list[tuple[int, int, int]] = []

    def lowered() -> None:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        assert _lower_this_thread(5) == 1
        seen.append((os.sched_getscheduler(0), before, os.getpriority(os.PRIO_PROCESS, tid)))

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()
    policy, before, after = seen[0]
    assert policy == os.SCHED_BATCH
    assert after == min(before + 5, 19)
