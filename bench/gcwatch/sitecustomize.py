"""``python -m bench.discord --gc``: each bot process records its garbage collections.

On ``PYTHONPATH`` (set by the benchmark for the bots it starts), this module is imported
at interpreter start-up; with ``HELPTHREAD_BENCH_GC_LOG`` set it appends one line per
collection to that file plus ``.<pid>``, written at once (a bot stopped by SIGTERM loses
nothing): the time (``time.time``), generation, wall ms, CPU ms of the collecting
thread, objects collected. Young collections under 0.5 ms are only counted: a line
``small`` with the count and their CPU ms so far, every hundred.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

SMALL_MS = 0.5


def _install(path: str) -> None:
    out = open(f"{path}.{os.getpid()}", "w", buffering=1)  # open as long as the process
    began = [0.0, 0.0]
    small = [0, 0.0]

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[0], began[1] = time.perf_counter(), time.thread_time()
            return
        wall = (time.perf_counter() - began[0]) * 1e3
        cpu = (time.thread_time() - began[1]) * 1e3
        if info["generation"] == 0 and wall < SMALL_MS:
            small[0] += 1
            small[1] += cpu
            if small[0] % 100 == 0:
                out.write(f"small\t{small[0]}\t{small[1]:.3f}\n")
            return
        out.write(f"{time.time():.3f}\t{info['generation']}\t{wall:.3f}\t{cpu:.3f}\t"
                  f"{info['collected']}\n")

    gc.callbacks.append(record)


if os.environ.get("HELPTHREAD_BENCH_GC_LOG"):
    _install(os.environ["HELPTHREAD_BENCH_GC_LOG"])
