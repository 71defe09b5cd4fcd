"""Deliveries per second and commit → platform-call latency, with 1 and 3 worker processes
on PostgreSQL, next to the fake platform's own ceiling (issue 10, "Benchmark").

    .venv/bin/python -m bench.delivery [--tickets N] [--latency-tickets N] [--pause S]
                                       [--platform-latency S] [--pg DSN]

On a fresh PostgreSQL database (created for the run, dropped after), against a fake
platform on loopback (an aiohttp server that records the time of every call), in the
same run:

- **ceiling**: the fake platform alone — 1 and 3 client processes post to it as the
  workers do (50 calls in flight each), no database: the most any worker could reach.
- **throughput**: ``--tickets`` tickets are opened first (each queues 3 deliveries:
  two cards and a receipt) and the database analysed, then 1 or 3 worker processes
  (``DeliveryWorker`` over ``SqlOutbox``, as ``helpthread run`` runs it) deliver them
  all: deliveries per second from "go" to the last call received.
- **latency**: each worker process is also a desk (as every ``helpthread run`` is):
  it opens ``--latency-tickets`` tickets one at a time, ``--pause`` seconds apart, and
  its worker is woken by the commit; latency is the fake's receipt time minus the
  time the opening committed (wall clocks on one machine).

``--platform-latency``: the fake answers each call after that many seconds, as Slack's
and Discord's APIs do over a network (about 0.1 s); the latency measured is still to the
call's arrival. With 0 the workers are bound by this machine's CPUs; with a real round
trip they wait on the platform, which is where more processes help.

Targets: p95 ≤ 50 ms unloaded; 3 processes ≥ 2× one. The exit status is 1 when a
target is missed. Machine: 2 CPUs shared by the fake, PostgreSQL and the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.core import CONFIG, DESCRIPTION, ROUTE, requester
from core.delivery import DeliveryWorker
from core.desk import Desk, NewTicket
from core.outbound import Delivered, DeliveryJob
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores

LATENCY_TARGET_MS = 50.0
SCALE_TARGET = 2.0
DELIVERIES_PER_TICKET = 3
IN_FLIGHT = 50  # calls a ceiling client keeps open: the worker's claim batch
PG_ADMIN_DSN = os.environ.get("HELPTHREAD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_SECONDS = 600  # stops a hung run; nothing else waits on time


# ---- the fake platform ------------------------------------------------------------

@dataclass
class FakePlatform:
    """Loopback HTTP: ``POST /call`` with ``{"ticket": n}`` is recorded with its time."""

    calls: list[tuple[int, float]] = field(default_factory=list)  # (ticket, time.time())
    runner: web.AppRunner | None = None
    url: str = ""
    answer_after: float = 0.0  # seconds each answer takes, as a platform's round trip

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/call", self._call)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/call"

    async def _call(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append((int(body["ticket"]), time.time()))  # the call's arrival
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        return web.json_response({"ok": True, "ts": f"{time.time():.6f}"})

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class HttpOutbound:
    """The platform side of a worker: one POST per delivery to the fake platform."""

    platform = ROUTE.platform

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def deliver(self, job: DeliveryJob) -> Delivered:
        async with self.session.post(self.url, json={"ticket": job.delivery.ticket_number}) as r:
            answer = await r.json()
        binding = job.binding
        if binding is not None and binding.thread is None:
            return Delivered(thread=answer["ts"], card_message=answer["ts"])
        return Delivered()


# ---- child processes ----------------------------------------------------------------

async def _await_go() -> None:
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    assert line.strip() == "go", line


async def child_ceiling(fake_url: str, calls: int) -> None:
    """Post ``calls`` calls, ``IN_FLIGHT`` at a time; print the rate."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as s:
        await _await_go()
        pending = iter(range(calls))

        async def client() -> None:
            for i in pending:
                async with s.post(fake_url, json={"ticket": i}) as r:
                    await r.json()

        await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    print(json.dumps({}), flush=True)


async def child_worker(url: str, fake_url: str, tickets: int, pause: float,
                       who: int) -> None:
    """Deliver until idle (``tickets`` 0), or open ``tickets`` tickets ``pause`` apart as
    a desk whose commits wake this worker, then deliver until idle; print the commit
    time of each ticket opened."""
    engine = make_engine(url)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as s:
            worker = DeliveryWorker(SqlOutbox(engine), [HttpOutbound(fake_url, s)], CONFIG,
                                    poll_seconds=0.2)
            desk = Desk(CONFIG, SqlStores(engine), [ROUTE], on_commit=worker.wake)
            await worker.outbox.pending([ROUTE.platform])  # connected before "go"
            await _await_go()
            committed: dict[int, float] = {}
            if tickets:
                stop = asyncio.Event()
                running = asyncio.create_task(worker.run(stop))
                for i in range(tickets):
                    opened = await desk.open_ticket(
                        requester(who * 1_000_000 + i, "latency"),
                        NewTicket(category="technical", subject=f"Latency {who}/{i}",
                                  description=DESCRIPTION))
                    committed[opened.ticket.number] = time.time()
                    await asyncio.sleep(pause)
                stop.set()
                await running
            await worker.run_until_idle()
    finally:
        await engine.dispose()
    used = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"committed": committed, "cpu": used.ru_utime + used.ru_stime}),
          flush=True)


async def _spawn(args: list[str]) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.delivery", *args, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    if line.strip() != b"ready":
        raise RuntimeError(f"a child did not start: {line!r}")
    return proc


async def _together(procs: list[asyncio.subprocess.Process]) -> tuple[float, list[Any]]:
    """Say go to every child; the time of go and each child's last JSON line."""
    start = time.time()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outs = await asyncio.gather(*(p.communicate() for p in procs))
    for proc in procs:
        if proc.returncode != 0:
            raise RuntimeError("a child failed")
    return start, [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]


# ---- runs ---------------------------------------------------------------------------

async def ceiling(fake: FakePlatform, processes: int, calls: int) -> float:
    fake.calls.clear()
    procs = [await _spawn(["_ceiling", fake.url, str(calls)]) for _ in range(processes)]
    start, _ = await _together(procs)
    return len(fake.calls) / (max(t for _, t in fake.calls) - start)


async def fill(url: str, tickets: int) -> None:
    """Open ``tickets`` tickets (their deliveries wait: no worker runs)."""
    engine = make_engine(url)
    try:
        desk = Desk(CONFIG, SqlStores(engine), [ROUTE])
        pending = iter(range(tickets))

        async def opener() -> None:
            for i in pending:
                await desk.open_ticket(requester(i, f"fill-{uuid.uuid4().hex[:6]}"), NewTicket(
                    category="technical", subject=f"Fill {i}", description=DESCRIPTION))

        await asyncio.gather(*(opener() for _ in range(8)))
        # Statistics as autovacuum keeps them on a running desk: with none (a table
        # filled a moment ago) the planner takes the outbox's claim for a 1-row scan
        # and runs it as a nested loop, about 1 s at 3,000 pending instead of 0.3 ms.
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    finally:
        await engine.dispose()


async def throughput(url: str, fake: FakePlatform, processes: int, tickets: int,
                     ) -> tuple[float, float]:
    """Deliveries per second, and the workers' CPU time per delivery (seconds)."""
    await fill(url, tickets)
    fake.calls.clear()
    procs = [await _spawn(["_worker", url, fake.url, "0", "0", str(n)])
             for n in range(processes)]
    start, results = await _together(procs)
    assert len(fake.calls) == tickets * DELIVERIES_PER_TICKET, len(fake.calls)
    cpu = sum(r["cpu"] for r in results) / len(fake.calls)
    return len(fake.calls) / (max(t for _, t in fake.calls) - start), cpu


async def latency(url: str, fake: FakePlatform, processes: int, tickets: int,
                  pause: float) -> list[float]:
    fake.calls.clear()
    procs = [await _spawn(["_worker", url, fake.url, str(tickets), str(pause), str(n)])
             for n in range(processes)]
    _, results = await _together(procs)
    committed = {int(n): t for r in results for n, t in r["committed"].items()}
    waits = [(at - committed[n]) * 1000 for n, at in fake.calls if n in committed]
    assert len(waits) == processes * tickets * DELIVERIES_PER_TICKET, len(waits)
    return sorted(waits)


def pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def fresh_database(admin_dsn: str) -> tuple[str, str]:
    name = f"helpthread_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}", name


async def drop_database(admin_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@dataclass
class Row:
    processes: int
    ceiling: float
    rate: float
    cpu: float  # the workers' CPU seconds per delivery, start-up included
    p50: float
    p95: float


async def main(args: argparse.Namespace) -> int:
    console = Console(width=max(110, Console().width))
    fake = FakePlatform(answer_after=args.platform_latency)
    await fake.start()
    rows: list[Row] = []
    try:
        for processes in (1, 3):
            url, name = await fresh_database(args.pg)
            try:
                await upgrade_async(url)
                async with asyncio.timeout(HANG_GUARD_SECONDS):
                    top = await ceiling(fake, processes, args.tickets * DELIVERIES_PER_TICKET)
                    rate, cpu = await throughput(url, fake, processes, args.tickets)
                    waits = await latency(url, fake, processes, args.latency_tickets,
                                          args.pause)
            finally:
                await drop_database(args.pg, name)
            rows.append(Row(processes, top, rate, cpu, pct(waits, 50), pct(waits, 95)))
    finally:
        await fake.stop()
    out = Table(title="Deliveries on PostgreSQL against a loopback fake platform "
                "(latency: commit → platform call)", title_justify="left")
    for column in ("processes", "fake ceiling/s", "deliveries/s", "of ceiling",
                   "worker CPU ms each", "p50 ms", "p95 ms",
                   f"p95 ≤ {LATENCY_TARGET_MS:.0f} ms"):
        out.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        out.add_row(str(row.processes), f"{row.ceiling:,.0f}", f"{row.rate:,.0f}",
                    f"{row.rate / row.ceiling:.2f}", f"{row.cpu * 1000:.2f}",
                    f"{row.p50:.1f}", f"{row.p95:.1f}",
                    "[green]yes[/green]" if row.p95 <= LATENCY_TARGET_MS else "[red]no[/red]")
    console.print(f"{args.tickets} tickets ({args.tickets * DELIVERIES_PER_TICKET} "
                  f"deliveries) per throughput run; latency: {args.latency_tickets} tickets "
                  f"per process, {args.pause * 1000:.0f} ms apart; the fake answers after "
                  f"{args.platform_latency * 1000:.0f} ms; {os.cpu_count()} CPUs")
    console.print(out)
    one, three = rows[0], rows[1]
    scale = three.rate / one.rate
    console.print(f"3 processes / 1 process: {scale:.2f}× (target ≥ {SCALE_TARGET}×; the "
                  f"fake's own ceiling scales {three.ceiling / one.ceiling:.2f}×)")
    missed = [r for r in rows if r.p95 > LATENCY_TARGET_MS]
    if scale < SCALE_TARGET:
        console.print(f"[red]target missed[/red]: 3 processes reach {scale:.2f}× one")
    for r in missed:
        console.print(f"[red]target missed[/red]: p95 {r.p95:.1f} ms with {r.processes} "
                      f"process(es) > {LATENCY_TARGET_MS:.0f} ms")
    return 1 if missed or scale < SCALE_TARGET else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1000,
                        help="tickets per throughput run, 3 deliveries each (1000)")
    parser.add_argument("--latency-tickets", type=int, default=100,
                        help="tickets each process opens for the latency run (100)")
    parser.add_argument("--pause", type=float, default=0.05,
                        help="seconds between one process's openings in the latency run")
    parser.add_argument("--platform-latency", type=float, default=0.0,
                        help="seconds the fake platform takes to answer each call, as a "
                             "real platform's round trip does (0: loopback only)")
    parser.add_argument("--pg", default=PG_ADMIN_DSN,
                        help="PostgreSQL admin DSN; the bench creates and drops its databases")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.latency_tickets < 1 or args.pause < 0 \
            or args.platform_latency < 0:
        parser.error("--tickets and --latency-tickets must be ≥ 1, --pause and "
                     "--platform-latency ≥ 0")
    return args


def child(argv: list[str]) -> None:
    if argv[0] == "_ceiling":
        asyncio.run(child_ceiling(argv[1], int(argv[2])))
    else:
        asyncio.run(child_worker(argv[1], argv[2], int(argv[3]), float(argv[4]),
                                 int(argv[5])))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("_ceiling", "_worker"):
        child(sys.argv[1:])
    else:
        raise SystemExit(asyncio.run(main(parse())))
