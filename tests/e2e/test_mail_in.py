"""Issue 13, point 4: ``helpthread mail-in`` as an MTA runs it — a subprocess with one
message on stdin. Exit 0 when taken, 0 when refused (bounced where the sender is told),
75 when the database cannot be reached or fails, so the MTA keeps the message."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.mail import KEY, fixture, reply_to, without_header
from tests.support.smtp_sink import Sink, smtp_sink

GMAIL = "xxx@gmail.com"


def _config(tmp: Path, port: int, **extra: object) -> None:
    lines = ["[email]", 'smtp_host = "127.0.0.1"', f"smtp_port = {port}",
             'security = "none"', 'from_address = "Acme Support <support@example.com>"',
             "open_from_mail = true", *(f"{k} = {v}" for k, v in extra.items())]
    (tmp / "helpthread.toml").write_text("\n".join(lines) + "\n")


def mail_in(tmp: Path, raw: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {**clean_env(tmp), "HELPTHREAD_EMAIL__SIGNING_KEY": KEY, **env}
    return subprocess.run([HELPTHREAD, "mail-in"], input=raw, capture_output=True,
                          cwd=tmp, env=environment, timeout=120)


def events(tmp: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(tmp / "desk.db") as db:
        return list(db.execute("SELECT ticket_number, kind, actor_key FROM events "
                               "ORDER BY id"))


def _opening() -> bytes:  # a new message: no token, no tag
    return without_header(fixture("talon_gmail.eml"), "In-Reply-To")


def test_taken_refused_and_bounced_all_exit_0(tmp_path: Path) -> None:
    sink: Sink
    with smtp_sink() as (sink, port):
        _config(tmp_path, port, max_message_bytes=5000, max_attachment_bytes=5000)
        opened = mail_in(tmp_path, _opening())
        assert opened.returncode == 0, opened.stderr
        replied = mail_in(tmp_path, reply_to(fixture("talon_apple_mail.eml"), 1, GMAIL))
        assert replied.returncode == 0, replied.stderr
        assert b"taken on #1" in replied.stderr
        stranger = fixture("talon_outlook.eml").replace(b"Subject: Test",
                                                        b"Subject: Re: [#1] Test")
        refused = mail_in(tmp_path, stranger)
        assert refused.returncode == 0 and b"refused" in refused.stderr
        again = mail_in(tmp_path, reply_to(fixture("talon_apple_mail.eml"), 1, GMAIL))
        assert again.returncode == 0 and b"duplicate" in again.stderr
        big = reply_to(fixture("talon_gmail.eml"), 1, GMAIL) + b"\n" + b"x" * 6000 + b"\n"
        bounced = mail_in(tmp_path, big)
        assert bounced.returncode == 0 and b"the sender was told" in bounced.stderr
    assert events(tmp_path) == [(1, "opened", f"email::{GMAIL}"),
                                (1, "commented", f"email::{GMAIL}")]
    with sqlite3.connect(tmp_path / "desk.db") as db:  # the new ticket's receipt, queued
        receipts = list(db.execute("SELECT address FROM deliveries WHERE platform = "
                                   "'email' AND purpose = 'receipt'"))
    assert receipts == [(f"email::{GMAIL}",)]
    assert [r.recipients for r in sink.received] == [[GMAIL]]
    assert "takes messages up to 5000 bytes" in str(sink.received[0].message.get_payload())


def test_a_database_that_cannot_be_reached_or_written_exits_75(tmp_path: Path) -> None:
    with smtp_sink() as (_, port):
        _config(tmp_path, port)
        assert mail_in(tmp_path, _opening()).returncode == 0  # the database exists now
        unreachable = mail_in(tmp_path, _opening(), HELPTHREAD_DATABASE_URL=
                              "postgresql+asyncpg://postgres@127.0.0.1:9/helpthread")
        assert unreachable.returncode == 75, unreachable.stderr
        read_only = mail_in(
            tmp_path, reply_to(fixture("talon_apple_mail.eml"), 1, GMAIL),
            HELPTHREAD_DATABASE_URL=f"sqlite+aiosqlite:///file:{tmp_path / 'desk.db'}"
                                    "?mode=ro&uri=true")
        assert read_only.returncode == 75, read_only.stderr
        assert b"try again later" in read_only.stderr
    assert [kind for _, kind, _ in events(tmp_path)] == ["opened"]


def test_without_email_configured_the_mta_keeps_the_message(tmp_path: Path) -> None:
    done = mail_in(tmp_path, _opening())
    assert done.returncode == 75
    assert b"email.smtp_host" in done.stderr


def test_a_refused_auto_reply_is_logged_with_its_sender_and_message_id(
        tmp_path: Path) -> None:
    """README: every refusal is logged with sender and message_id — the log once read
    ``sender=? message_id=?`` for automatic mail though both were in the head."""
    vacation = fixture("talon_gmail.eml").replace(
        b"Subject: Re: Test", b"Auto-Submitted: auto-replied\nSubject: Re: Test")
    # an auto-reply to the desk's mail quotes its subject, tag and all
    by_subject = _opening().replace(b"Subject: Re: Test",
                                    b"Subject: Automatic reply: [#1] Test")
    with smtp_sink() as (sink, port):
        _config(tmp_path, port)
        for raw, reason in ((vacation, "Auto-Submitted: auto-replied"),
                            (by_subject, "its subject is an automatic reply's")):
            done = mail_in(tmp_path, raw)
            assert done.returncode == 0, done.stderr
            log = done.stderr.decode()
            assert "mail.refused" in log and reason in log, log
            assert f"sender={GMAIL}" in log, log
            assert ("message_id=CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg"
                    "@mail.gmail.com") in log, log
        assert sink.received == []  # never answered
