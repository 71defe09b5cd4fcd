"""Issue 13, point 4: ``helpthread run`` polls an IMAP mailbox — a real Dovecot on
loopback (tests/support/dovecot.py). Replies are taken as comments and moved to the
done folder, refused mail to the refused folder; with IDLE new mail is taken within
moments though the poll interval is an hour; a database outage leaves mail in place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.email.imap import MailboxPoller
from adapters.email.plugin import PLUGIN, EmailCredentials
from adapters.email.settings import EmailSettings
from core.events import Commented
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.integration.test_mail_in import Desked, comments, mailer
from tests.support.databases import read_only_sqlite
from tests.support.dovecot import Imap, dovecot
from tests.support.mail import fixture, reply_to, settings
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, form, make_desk

WAIT_STEPS = 200  # × 0.05 s at most: bounded, never a timing assertion

MAILED = [SHELL_ROUTE, MAIL_ROUTE]  # mail-in runs with [email] set up


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imap]:
    with dovecot(tmp_path_factory.mktemp("dovecot")) as running:
        yield running


@pytest.fixture
def imap(server: Imap) -> Imap:
    """A fresh mailbox of its own for each test."""
    return server.new_user()


@pytest.fixture
async def desked(sqlite_url: str) -> AsyncIterator[Desked]:
    from core.clock import FrozenClock

    await upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    stores = SqlStores(engine)
    clock = FrozenClock()
    try:
        yield Desked(make_desk(stores, clock=clock, routes=MAILED), stores, clock)
    finally:
        await engine.dispose()


def imap_settings(imap: Imap, **overrides: object) -> EmailSettings:
    values: dict[str, object] = {
        "imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
        "imap_user": imap.user, "imap_password": imap.password}
    return settings(**{**values, **overrides})


async def _until(check: object) -> None:
    for _ in range(WAIT_STEPS):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached in time")


async def test_a_round_takes_replies_and_files_every_message(imap: Imap,
                                                             desked: Desked) -> None:
    await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    imap.append(reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com"))
    imap.append(fixture("discourse_auto_reply.eml").lstrip())  # automatic: refused
    stranger = fixture("talon_outlook.eml").replace(b"Subject: Test", b"Subject: Re: [#1] x")
    imap.append(stranger)  # a stranger naming the number: refused
    poller = MailboxPoller(desked.desk, imap_settings(imap), None)
    done = await poller.poll_once()
    assert (done.taken, done.refused, done.deferred) == (1, 2, 0)
    assert await comments(desked.stores, 1) == [("xxx@gmail.com", Commented("Hello"))]
    assert (imap.count("INBOX"), imap.count("Helpthread"),
            imap.count("Helpthread-refused")) == (0, 1, 2)
    again = await poller.poll_once()  # nothing left to take twice
    assert (again.taken, again.refused) == (0, 0)


async def test_the_same_message_delivered_twice_is_one_comment(imap: Imap,
                                                               desked: Desked) -> None:
    await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    raw = reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com")
    imap.append(raw)
    imap.append(raw)
    done = await MailboxPoller(desked.desk, imap_settings(imap), None).poll_once()
    assert done.taken == 2  # the second is a duplicate: filed as taken, stored once
    assert len(await comments(desked.stores, 1)) == 1


async def test_idle_takes_new_mail_at_once_through_the_running_platform(
        imap: Imap, desked: Desked) -> None:
    await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    email = imap_settings(imap, imap_poll_seconds=3600)  # only IDLE can explain a quick take
    platform = await PLUGIN.build(desked.desk, email, EmailCredentials())
    await platform.start()
    try:
        await _until(lambda: _connected(imap))
        imap.append(reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com"))

        async def commented() -> bool:
            return len(await comments(desked.stores, 1)) == 1
        await _until(commented)
    finally:
        await platform.stop()
    assert imap.count("Helpthread") == 1


async def _connected(imap: Imap) -> bool:
    return imap.count("Helpthread") == 0  # the poller created its folders


async def test_a_database_outage_leaves_the_mail_for_later(imap: Imap,
                                                          sqlite_url: str) -> None:
    await upgrade_async(sqlite_url)
    writable = make_engine(sqlite_url)
    await make_desk(SqlStores(writable), routes=MAILED).open_ticket(mailer("xxx@gmail.com"), form())
    await writable.dispose()
    imap.append(reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com"))
    broken = make_engine(read_only_sqlite(sqlite_url))  # every write fails
    try:
        done = await MailboxPoller(make_desk(SqlStores(broken), routes=MAILED), imap_settings(imap),
                                   None).poll_once()
    finally:
        await broken.dispose()
    assert (done.taken, done.deferred) == (0, 1)
    assert imap.count("INBOX") == 1  # left where it was, for the next round
    engine = make_engine(sqlite_url)
    try:
        desk = make_desk(SqlStores(engine), routes=MAILED)
        later = await MailboxPoller(desk, imap_settings(imap), None).poll_once()
        assert later.taken == 1
        assert await comments(SqlStores(engine), 1) == [("xxx@gmail.com", Commented("Hello"))]
    finally:
        await engine.dispose()


async def test_a_message_too_big_is_read_by_its_head_and_bounced(imap: Imap,
                                                                 desked: Desked) -> None:
    from adapters.email.bounce import smtp_bouncer
    from tests.support.smtp_sink import smtp_sink

    await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    imap.append(reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com"))
    with smtp_sink() as (sink, port):
        email = imap_settings(imap, smtp_port=port, max_message_bytes=600,
                              max_attachment_bytes=600)
        done = await MailboxPoller(desked.desk, email, smtp_bouncer(email, "Acme")).poll_once()
    assert (done.taken, done.refused) == (0, 1)
    assert [r.recipients for r in sink.received] == [["xxx@gmail.com"]]
    assert await comments(desked.stores, 1) == []
    assert imap.count("Helpthread-refused") == 1


async def test_a_server_that_cannot_be_reached_is_retried_and_reported_never_raised(
        desked: Desked, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    email = settings(imap_host="127.0.0.1", imap_port=port, imap_security="none",
                     imap_user="desk@example.com", imap_password="x")
    platform = await PLUGIN.build(desked.desk, email, EmailCredentials())
    assert platform.connected  # nothing tried yet
    with caplog.at_level(logging.WARNING, "helpthread.email"):
        await platform.start()
        try:
            async def logged() -> bool:
                return any("imap.unavailable" in r.getMessage() for r in caplog.records)
            await _until(logged)
            assert not platform.connected  # /healthz says e-mail is disconnected
        finally:
            await platform.stop()  # the poller, retrying, ends when asked


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls_with_the_servers_certificate(
        tmp_path: Path, desked: Desked, security: str) -> None:
    import ssl

    from tests.support.smtp_server import self_signed

    cert, key = self_signed(tmp_path)
    with dovecot(tmp_path / "dovecot", tls=(cert, key)) as server:
        box = server.new_user()
        assert box.tls_port is not None
        box.append(reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com"))
        await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
        port = box.tls_port if security == "tls" else box.port
        email = imap_settings(box, imap_port=port, imap_security=security)
        trusted = ssl.create_default_context(cafile=str(cert))
        done = await MailboxPoller(desked.desk, email, None, ssl_context=trusted).poll_once()
        assert done.taken == 1
        untrusted = MailboxPoller(desked.desk, email, None)  # the system's CAs only
        with pytest.raises(ssl.SSLError):
            await untrusted.poll_once()
