"""Issue 13, points 3–4 end to end: ``helpthread run`` with ``[email]`` and an IMAP
mailbox (a real Dovecot on loopback) and no chat platform — the shell beside e-mail.
An agent opens a ticket for someone who writes by mail; the receipt reaches the SMTP
server; the person answers it from their mail client (a real Gmail reply, the quote
included); the poller takes the answer as their comment, quote stripped, and the
agent's shell shows it."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.dovecot import Imap, dovecot
from tests.support.mail import KEY, fixture, with_headers, without_header
from tests.support.smtp_server import smtp_server

WAIT_STEPS = 600  # × 0.1 s at most: a loaded CI machine once took over 30 s


@pytest.fixture
def imap(tmp_path: Path) -> Iterator[Imap]:
    with dovecot(tmp_path / "dovecot") as server:
        yield server


def comments(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT actor_key, body FROM events WHERE kind = "
                                 "'commented' ORDER BY id"))


def test_a_mailed_answer_to_the_receipt_becomes_the_requesters_comment(
        tmp_path: Path, imap: Imap) -> None:
    with smtp_server() as (sink, port):
        (tmp_path / "helpthread.toml").write_text(f"""
[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
from_address = "Acme Support <support@example.com>"
plus_addressing = true
imap_host = "127.0.0.1"
imap_port = {imap.port}
imap_security = "none"
imap_user = "{imap.user}"
imap_poll_seconds = 3600
""")
        env = {**clean_env(tmp_path), "HELPTHREAD_EMAIL__SIGNING_KEY": KEY,
               "HELPTHREAD_EMAIL__IMAP_PASSWORD": imap.password}
        run = subprocess.Popen([HELPTHREAD, "run"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
                               env=env, text=True)
        assert run.stdin is not None and run.stdout is not None
        try:
            run.stdin.write("/as sam --agent\n/ticket new for:xxx@gmail.com category=general "
                            'subject="Pixel not firing" description="Sales are not '
                            'recorded."\n')
            run.stdin.flush()
            receipt = sink.wait_for(1, seconds=60)[0]
            answer = without_header(fixture("talon_gmail.eml"), "To")
            answer = with_headers(answer, f"To: {receipt['Reply-To']}",
                                  f"In-Reply-To: {receipt['Message-ID']}",
                                  f"References: {receipt['Message-ID']}")
            imap.append(answer)  # as the MTA delivers it to the desk's mailbox
            for _ in range(WAIT_STEPS):
                if (tmp_path / "desk.db").exists() and comments(tmp_path / "desk.db"):
                    break
                time.sleep(0.1)
            run.stdin.close()
            output = run.stdout.read()
            assert run.wait(timeout=60) == 0, output
        finally:
            if run.poll() is None:
                run.kill()
    assert comments(tmp_path / "desk.db") == [("email::xxx@gmail.com", "Hello")]
    assert imap.count("INBOX") == 0 and imap.count("Helpthread") == 1
    assert "Hello" in output  # the team's side shows the requester's answer
