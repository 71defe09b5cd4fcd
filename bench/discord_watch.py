"""``bench/discord.py``'s watch on the bots: when a bot is idle or settled, its time
waiting for a CPU, and a bot stopped while the other is measured (Linux ``/proc``)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from bench.slack import cpu_seconds
from tests.platform.discord.interactions_wire import InteractionFake

IDLE_SECONDS = 0.01  # at 1 at once: no channel write for this long, and …
IDLE_SHARE = 0.05  # … the bot's threads ran under this share of a CPU: the bot is idle


def run_queue_seconds(pid: int) -> float:
    """Seconds the main thread (the event loop) of process ``pid`` has spent runnable but
    not running, waiting for a CPU (``/proc/<pid>/schedstat``, second field, ns; 0 where
    absent)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """Process ``pid`` stopped (SIGSTOP) for the block, continued after: the bot not
    measured can start nothing of its own (a timer, a full collection at a quiet moment
    — its quiet is the other's round) on the CPU the measured one uses."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def run_seconds(pid: int) -> float:
    """Seconds all threads of process ``pid`` have run on a CPU (``/proc/<pid>/task/*/
    schedstat``, first field, ns: to the nanosecond, where ``/proc/<pid>/stat`` counts
    clock ticks of 10 ms); 0 where absent."""
    total = 0
    with suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with suppress(OSError, IndexError, ValueError), \
                    open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    return total / 1e9


async def idle(pid: int, fake: InteractionFake, still: float = IDLE_SECONDS,
               most: float = 5.0) -> None:
    """Until the bot ``pid`` is idle: for ``still`` seconds it made no channel write and
    its threads ran under ``IDLE_SHARE`` of a CPU (an interaction's deliveries render,
    read and record before and after their writes: no write for 10 ms alone was often
    the middle of them); or ``most`` seconds have passed (a guard, not a measure)."""
    deadline = time.perf_counter() + most
    while time.perf_counter() < deadline:
        writes, ran, since = fake.writes, run_seconds(pid), time.perf_counter()
        await asyncio.sleep(still)
        elapsed = time.perf_counter() - since
        if fake.writes == writes and run_seconds(pid) - ran < IDLE_SHARE * elapsed:
            return


async def quiet(fake: InteractionFake, still: float = 0.5, tick: float = 0.05) -> None:
    """Until the bot has made no channel write for ``still`` seconds (deliveries done)."""
    last, since = -1, time.perf_counter()
    while time.perf_counter() - since < still:
        if fake.writes != last:
            last, since = fake.writes, time.perf_counter()
        await asyncio.sleep(tick)


async def settled(pids: list[int], most: float = 5.0) -> None:
    """Until processes ``pids`` together use under 5 % of a CPU over 0.2 s (one clock
    tick of CPU time), or ``most`` seconds have passed."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        before = sum(map(cpu_seconds, pids))
        await asyncio.sleep(0.2)
        if sum(map(cpu_seconds, pids)) - before < 0.011:
            return
