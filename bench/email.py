"""E-mail out: the desk's outbound e-mails per second to a loopback SMTP server, next to
that server's own ceiling measured in the same run (issue 13, "Benchmark").

    .venv/bin/python -m bench.email [--messages N] [--rounds R]

The server is ``aiosmtpd`` (its ``Sink`` handler: it takes every message and keeps
none) in a process of its own on 127.0.0.1, so it does not share the GIL with what is
measured. In each round, alternating:

- **ceiling**: a raw ``aiosmtplib`` sender — the same number of connections the desk's
  sender keeps (``adapters.email.smtp.MAX_CONNECTIONS``), each sending its share of
  ``--messages`` messages built up front (text and HTML parts, the size of a receipt),
  one after another: the most a client could get out of this server.
- **desk**: ``--messages`` tickets are opened first on a fresh SQLite file — and on a
  fresh PostgreSQL database (``--pg``) — (each by
  its own e-mail requester, so each queues one e-mail receipt), then the delivery
  worker (``DeliveryWorker`` over ``SqlOutbox`` with the e-mail plug-in's outbound
  port, as ``helpthread run`` wires it) sends them all: e-mails per second from "go"
  until every delivery is recorded done — claiming, rendering, building, signing,
  sending, and recording each in the database.

The figures are the median of the rounds. Machine: 2 CPUs shared by the server, the
sender and SQLite. No target is set by the issue; the exit status is 0 unless
something failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from adapters.email.message import Envelope, build
from adapters.email.plugin import PLUGIN as EMAIL
from adapters.email.plugin import EmailCredentials
from adapters.email.render import render
from adapters.email.settings import EmailSettings
from adapters.email.smtp import MAX_CONNECTIONS
from bench.core import DESCRIPTION, PG_ADMIN_DSN
from bench.delivery import drop_database, fresh_database
from core.config import DeskConfig, DeskSection
from core.delivery import DeliveryWorker
from core.desk import Desk, NewTicket
from core.events import Event, Opened
from core.identity import Actor, UserRef
from core.routing import Purpose
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores
from core.tickets import Ticket
from core.views import ticket_view

HANG_GUARD_SECONDS = 600.0
CONFIG = DeskConfig(desk=DeskSection(name="Bench Support"))


def settings(port: int) -> EmailSettings:
    return EmailSettings(smtp_host="127.0.0.1", smtp_port=port, security="none",
                         from_address="Bench Support <support@example.com>",
                         signing_key=SecretStr("bench-signing-key-0123456789"),
                         plus_addressing=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def smtp_server() -> AsyncIterator[int]:
    """``aiosmtpd``'s Sink in its own process on a free loopback port."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
        "-c", "aiosmtpd.handlers.Sink", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        yield port
    finally:
        process.terminate()
        await process.wait()


def sample_messages(port: int, count: int) -> list[EmailMessage]:
    """``count`` receipts as the desk builds them, for the raw sender."""
    s = settings(port)
    opened_at = datetime.now(UTC)
    messages = []
    for i in range(count):
        address = f"requester-{i}@example.com"
        requester = Actor(UserRef.email(address), address).person
        ticket = Ticket(number=i + 1, subject="Postback returns 404", description=DESCRIPTION,
                        category="general", priority="normal", requester=requester,
                        opened_at=opened_at, source="email")
        view = ticket_view(ticket, CONFIG, internal=False, now=opened_at)
        mail = render(Event(i + 1, Opened(), requester, opened_at, "email", id=i + 1), view,
                      Purpose.RECEIPT, desk_name="Bench Support", to_requester=True)
        messages.append(build(mail, Envelope(i + 1, address, i + 1, opened_at, opened_at,
                                             first=True), s, "Bench Support"))
    return messages


BUILD_MS: list[float] = []  # rendering and building one message, ms (CPU, in-process)


async def ceiling(port: int, count: int) -> float:
    """Messages per second a raw ``aiosmtplib`` sender gets through, over
    ``MAX_CONNECTIONS`` connections opened before the clock starts. How long the desk's
    renderer and builder took for each message is kept in ``BUILD_MS``."""
    started = time.perf_counter()
    messages = sample_messages(port, count)
    BUILD_MS.append((time.perf_counter() - started) * 1000 / count)
    shares = [messages[i::MAX_CONNECTIONS] for i in range(MAX_CONNECTIONS)]
    clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
               for _ in shares]
    for client in clients:
        await client.connect()

    async def send(client: aiosmtplib.SMTP, share: list[EmailMessage]) -> None:
        for message in share:
            await client.send_message(message, sender="support@example.com",
                                      recipients=[str(message["To"])])

    started = time.perf_counter()
    await asyncio.gather(*(send(c, s) for c, s in zip(clients, shares, strict=True)))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.quit()
    return count / elapsed


async def desk_rate(port: int, count: int, url: str) -> float:
    """E-mails per second the desk's delivery worker sends ``count`` receipts at, on a
    fresh database at ``url``."""
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        s = settings(port)
        stores = SqlStores(engine)
        desk = Desk(CONFIG, stores, [EMAIL.route(s, CONFIG.categories)])
        for i in range(count):
            address = f"requester-{i}@example.com"
            await desk.open_ticket(Actor(UserRef.email(address), address),
                                   NewTicket(category="general", subject="Postback returns 404",
                                             description=DESCRIPTION))
        email = await EMAIL.build(desk, s, EmailCredentials())
        worker = DeliveryWorker(SqlOutbox(engine), [email.outbound], CONFIG)
        await email.start()
        try:
            started = time.perf_counter()
            left = await worker.run_until_idle()
            elapsed = time.perf_counter() - started
        finally:
            await email.stop()
        if left:
            raise RuntimeError(f"{left} deliveries were not sent")
        return count / elapsed
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> int:
    console = Console()
    tops: list[float] = []
    rates: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    async with asyncio.timeout(HANG_GUARD_SECONDS), smtp_server() as port:
        with tempfile.TemporaryDirectory(prefix="bench-email-") as tmp:
            await ceiling(port, min(args.messages, 100))  # warm-up: imports, the server
            for i in range(args.rounds):
                tops.append(await ceiling(port, args.messages))
                file = Path(tmp) / f"desk-{i}.db"
                rates["SQLite"].append(
                    await desk_rate(port, args.messages, f"sqlite+aiosqlite:///{file}"))
                if args.pg:
                    url, name = await fresh_database(args.pg)
                    try:
                        rates["PostgreSQL"].append(await desk_rate(port, args.messages, url))
                    finally:
                        await drop_database(args.pg, name)
    top = statistics.median(tops)
    table = Table(title="Outbound e-mail to a loopback aiosmtpd (median of "
                  f"{args.rounds} rounds)", title_justify="left")
    for column in ("desk database", "messages", "server ceiling/s (raw aiosmtplib)",
                   "desk e-mails/s", "desk / ceiling"):
        table.add_column(column, justify="right", no_wrap=True)
    for engine, measured in rates.items():
        if measured:
            rate = statistics.median(measured)
            table.add_row(engine, str(args.messages), f"{top:,.0f}", f"{rate:,.0f}",
                          f"{rate / top:.2f}")
    console.print(f"rendering and building a message: "
                  f"{statistics.median(BUILD_MS[1:] or BUILD_MS):.1f} ms (median)")
    console.print(f"{MAX_CONNECTIONS} SMTP connections each side; {os.cpu_count()} CPUs; "
                  f"rounds: ceiling {_list(tops)}; "
                  + "; ".join(f"desk on {e} {_list(r)}" for e, r in rates.items() if r))
    console.print(table)
    return 0


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.email", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500,
                        help="messages per measurement (500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (3)")
    parser.add_argument("--pg", default=PG_ADMIN_DSN,
                        help="PostgreSQL admin DSN: the bench creates and drops a database "
                             "per round; an empty string measures SQLite only")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be ≥ 1")
    return args


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
