"""E-mail in: messages taken per second (issue 13, "Benchmark"; the outbound half is
``bench.email``).

    .venv/bin/python -m bench.email_in [--messages N] [--processes N] [--imap N]

Every message is a real client's reply (tests/fixtures/mail/talon_gmail.eml) answering
the desk's message on one of 20 tickets, with its own ``Message-ID`` and a reply token
signed for its sender, so each is read, judged, verified, stripped of its quote and
stored as a comment — the whole path, on a fresh SQLite file (WAL). Three ways in:

- **in-process**: ``adapters.email.taking.take`` called ``--messages`` times in a row
  (parse + decide + store), and the parsing alone (``inbound.read`` + ``decide``);
- **mail-in**: ``helpthread mail-in`` as a subprocess per message, as an MTA pipe runs
  it (``--processes`` messages: start-up, settings, the migration check, one message);
- **IMAP**: ``--imap`` messages appended to a Debian Dovecot on loopback, then one
  poller round (``MailboxPoller.poll_once``: search, fetch, take, move each); skipped
  where Dovecot is absent (package dovecot-imapd).

No target is set by the issue; the exit status is 0 unless something failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.email import tokens
from adapters.email.imap import MailboxPoller
from adapters.email.inbound import decide, read
from adapters.email.taking import Result, take
from core.desk import Desk
from core.identity import Actor, UserRef
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.support.mail import KEY, fixture, settings, with_headers, without_header
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, form, make_desk

TICKETS = 20
HELPTHREAD = str(Path(sys.executable).with_name("helpthread"))


def sender(i: int) -> str:
    return f"customer{i % TICKETS}@example.com"


def message(i: int) -> bytes:
    """Reply ``i``: to ticket ``i % 20 + 1`` from its requester, a fresh Message-ID."""
    who = sender(i)
    token = tokens.sign(i % TICKETS + 1, who, KEY.encode())
    raw = fixture("talon_gmail.eml")
    for header in ("From", "Message-Id", "In-Reply-To"):
        raw = without_header(raw, header)
    return with_headers(raw, f"From: Customer <{who}>", f"Message-ID: <bench-{i}@example.com>",
                        f"In-Reply-To: <{token}@example.com>")


async def fresh_desk(path: Path) -> tuple[Desk, AsyncEngine]:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    engine = make_engine(url)
    desk = make_desk(SqlStores(engine), routes=[SHELL_ROUTE, MAIL_ROUTE])  # [email] set up
    for n in range(TICKETS):
        who = sender(n)
        await desk.open_ticket(Actor(UserRef.email(who), "Customer"), form())
    return desk, engine


async def in_process(tmp: Path, count: int) -> tuple[float, float]:
    """(parsed per second, taken per second)."""
    messages = [message(i) for i in range(count)]
    email = settings()
    start = time.perf_counter()
    for raw in messages:
        decide(read(raw, email), email)
    parsed = count / (time.perf_counter() - start)
    desk, engine = await fresh_desk(tmp / "inprocess.db")
    try:
        start = time.perf_counter()
        for raw in messages:
            assert (await take(desk, raw, email, None)).result is Result.TAKEN
        taken = count / (time.perf_counter() - start)
    finally:
        await engine.dispose()
    return parsed, taken


async def by_subprocess(tmp: Path, count: int) -> float:
    _, engine = await fresh_desk(tmp / "mailin.db")
    await engine.dispose()
    (tmp / "helpthread.toml").write_text(
        '[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = 9\nsecurity = "none"\n'
        'from_address = "Acme Support <support@example.com>"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPTHREAD_")}
    env.update(HELPTHREAD_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'mailin.db'}",
               HELPTHREAD_EMAIL__SIGNING_KEY=KEY, HELPTHREAD_LOG_FORMAT="json")
    start = time.perf_counter()
    for i in range(count):
        process = await asyncio.create_subprocess_exec(
            HELPTHREAD, "mail-in", cwd=tmp, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = await asyncio.wait_for(process.communicate(message(10_000 + i)), 120)
        assert process.returncode == 0 and b"taken" in err, err
    return count / (time.perf_counter() - start)


def dovecot_usable() -> bool:
    from tests.support.dovecot import DOVECOT

    return os.path.exists(DOVECOT) and os.geteuid() == 0


async def by_imap(tmp: Path, count: int) -> float | None:
    from tests.support.dovecot import dovecot

    if not dovecot_usable():
        return None
    desk, engine = await fresh_desk(tmp / "imap.db")
    try:
        with dovecot(tmp / "dovecot") as server:
            for i in range(count):
                server.append(message(20_000 + i))
            email = settings(imap_host="127.0.0.1", imap_port=server.port,
                             imap_security="none", imap_user=server.user,
                             imap_password=server.password)
            start = time.perf_counter()
            done = await MailboxPoller(desk, email, None).poll_once()
            rate = count / (time.perf_counter() - start)
            assert done.taken == count, done
            return rate
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-email-in-") as name:
        tmp = Path(name)
        parsed, taken = await in_process(tmp, args.messages)
        spawned = await by_subprocess(tmp, args.processes)
        polled = await by_imap(tmp, args.imap)
    table = Table(title="E-mail in: messages per second (SQLite)")
    for column in ("way in", "messages", "per second"):
        table.add_column(column, justify="right" if column != "way in" else "left")
    table.add_row("parse + decide only (in-process)", str(args.messages), f"{parsed:,.0f}")
    table.add_row("take: parse + store (in-process)", str(args.messages), f"{taken:,.0f}")
    table.add_row("helpthread mail-in (a process each)", str(args.processes),
                  f"{spawned:,.2f}")
    table.add_row("IMAP poller round (Dovecot)", str(args.imap),
                  "skipped: no dovecot-imapd" if polled is None else f"{polled:,.0f}")
    Console().print(table)
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.email_in", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500, help="in-process (500)")
    parser.add_argument("--processes", type=int, default=10, help="mail-in runs (10)")
    parser.add_argument("--imap", type=int, default=300, help="through Dovecot (300)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
