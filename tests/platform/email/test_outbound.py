"""E-mail out (issue 13, point 3): what the desk sends reaches a real SMTP server
(``aiosmtpd`` on loopback) through the real outbox and delivery worker on SQLite and PostgreSQL.

Subject tag, threading headers, a reply token that verifies in ``Message-ID`` and
``Reply-To``, text and HTML parts, ``Auto-Submitted`` on automatic notices, never an
internal note, one message per delivery after a retry, a 5xx refusal parked, STARTTLS
with a login, connections reused."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.email import tokens
from core.errors import Invalid
from core.identity import Actor, Person, UserRef
from core.routing import DeliveryState, Target
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import D, SqlStores
from tests.platform.email.conftest import KEY, MailDesk, email_settings, wire
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, agent, form, make_desk
from tests.support.smtp_server import self_signed, smtp_server

ANA = "ana@example.com"
WATCHER = "wes@example.org"
SAM = agent("sam")


async def open_for(wired: MailDesk, address: str = ANA, subject: str = "Printer on fire"
                   ) -> int:
    """An agent opens a ticket for someone who writes by e-mail."""
    opened = await wired.desk.open_ticket(
        SAM, form(subject=subject, description="It <b>smokes</b> & beeps.",
                  requester=Actor(UserRef.email(address), address)))
    return opened.ticket.number


def token_in(header: str) -> tokens.ReplyToken:
    found = tokens.find(header)
    assert found is not None, header
    return found


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk()
            if not part.is_multipart()}


async def test_the_receipt_reaches_the_requester_tagged_threaded_and_signed(
        mail_desk: MailDesk) -> None:
    number = await open_for(mail_desk)
    await mail_desk.worker.run_until_idle()
    [receipt] = mail_desk.sink.wait_for(1)

    assert receipt["Subject"] == f"[#{number}] Printer on fire"
    assert parseaddr(receipt["To"])[1] == ANA
    assert receipt["From"] == "Acme Support <support@example.com>"
    assert receipt["Auto-Submitted"] == "auto-generated"  # the desk wrote it by itself
    assert mail_desk.sink.envelopes == [("support@example.com", [ANA])]
    for header in (receipt["Message-ID"], receipt["Reply-To"]):
        token = token_in(header)
        assert token.number == number and token.verify(ANA, KEY.encode())
        assert not token.verify("mallory@example.com", KEY.encode())
    local, domain = parseaddr(receipt["Reply-To"])[1].split("@")
    assert local.startswith("support+") and domain == "example.com"
    assert receipt["In-Reply-To"] is None  # it is the thread's first message

    assert receipt.get_content_type() == "multipart/alternative"
    body = parts(receipt)
    assert set(body) == {"text/plain", "text/html"}
    assert f"We have your ticket #{number}" in body["text/plain"]
    assert "It <b>smokes</b> & beeps." in body["text/plain"]  # as written
    assert "It &lt;b&gt;smokes&lt;/b&gt; &amp; beeps." in body["text/html"]  # escaped
    assert "<b>smokes" not in body["text/html"]


async def test_replies_thread_under_the_first_message_and_are_not_automatic(
        mail_desk: MailDesk) -> None:
    number = await open_for(mail_desk)
    await mail_desk.desk.reply(SAM, number, "Unplug it, <please>.")
    await mail_desk.desk.resolve(SAM, number, "Replaced the fuser unit.")
    await mail_desk.worker.run_until_idle()
    receipt, reply, resolved = mail_desk.sink.wait_for(3)

    root = receipt["Message-ID"]
    for later in (reply, resolved):
        assert later["In-Reply-To"] == root and later["References"] == root
        assert later["Subject"] == f"[#{number}] Printer on fire"
        assert later["Auto-Submitted"] is None  # a person did it
        assert token_in(later["Message-ID"]).verify(ANA, KEY.encode())
    assert len({receipt["Message-ID"], reply["Message-ID"], resolved["Message-ID"]}) == 3
    assert "sam wrote:" in parts(reply)["text/plain"]
    assert "Unplug it, &lt;please&gt;." in parts(reply)["text/html"]
    resolution = parts(resolved)["text/plain"]
    assert "Replaced the fuser unit." in resolution
    assert "How did we do?" in resolution  # the satisfaction question, to the requester


async def test_an_internal_note_never_goes_out_by_email(mail_desk: MailDesk) -> None:
    number = await open_for(mail_desk)
    await mail_desk.desk.add_watcher(SAM, number, Person(UserRef.email(WATCHER), WATCHER))
    await mail_desk.worker.run_until_idle()
    before = len(mail_desk.sink.wait_for(2))  # the receipt; the watcher's notice

    await mail_desk.desk.note(SAM, number, "Customer owes us 300 EUR; be firm.")
    await mail_desk.worker.run_until_idle()
    async with mail_desk.stores.engine.connect() as conn:
        email_rows = (await conn.execute(
            select(D.c.id).where(D.c.platform == "email"))).all()
    assert len(email_rows) == before  # the note planned no e-mail at all
    await mail_desk.desk.reply(SAM, number, "We are on it.")
    await mail_desk.worker.run_until_idle()
    messages = mail_desk.sink.wait_for(before + 2)  # requester and watcher hear the reply
    assert len(messages) == before + 2
    assert not any("300 EUR" in part for m in messages for part in parts(m).values())
    to_watcher = [m for m in messages if parseaddr(m["To"])[1] == WATCHER]
    assert token_in(to_watcher[-1]["Reply-To"]).verify(WATCHER, KEY.encode())
    assert "How did we do?" not in parts(to_watcher[-1])["text/plain"]


async def test_a_4xx_is_retried_and_exactly_one_message_arrives(mail_desk: MailDesk) -> None:
    mail_desk.sink.refuse_rcpt("451 4.7.1 Greylisted, try again later")
    number = await open_for(mail_desk)
    assert await mail_desk.worker.run_until_idle() == 1  # due again later
    assert mail_desk.sink.messages == []
    async with mail_desk.stores.engine.connect() as conn:
        [row] = (await conn.execute(select(D).where(D.c.platform == "email"))).all()
    assert row.state == DeliveryState.PENDING and "451" in row.last_error

    mail_desk.clock.advance(3600)
    assert await mail_desk.worker.run_until_idle() == 0
    [receipt] = mail_desk.sink.wait_for(1)
    assert len(mail_desk.sink.messages) == 1
    assert token_in(receipt["Message-ID"]).number == number


async def test_a_5xx_refusal_parks_the_delivery_and_the_queue_goes_on(
        mail_desk: MailDesk) -> None:
    mail_desk.sink.refuse_rcpt("550 5.1.1 <ana@example.com>: mailbox unavailable")
    number = await open_for(mail_desk)
    await mail_desk.desk.reply(SAM, number, "Still there?")
    assert await mail_desk.worker.run_until_idle() == 0
    async with mail_desk.stores.engine.connect() as conn:
        rows = (await conn.execute(select(D).where(D.c.platform == "email")
                                   .order_by(D.c.id))).all()
    assert [r.state for r in rows] == [DeliveryState.PARKED, DeliveryState.DONE]
    assert "550" in rows[0].last_error
    [reply] = mail_desk.sink.wait_for(1)
    assert "Still there?" in parts(reply)["text/plain"]


async def test_a_batch_reuses_one_connection(mail_desk: MailDesk) -> None:
    number = await open_for(mail_desk)
    for i in range(4):
        await mail_desk.desk.reply(SAM, number, f"Update {i}")
    await mail_desk.worker.run_until_idle()
    assert len(mail_desk.sink.wait_for(5)) == 5
    assert mail_desk.sink.connections == 1 == mail_desk.email.sender.connections_made


async def test_starttls_with_a_login(sqlite_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    with smtp_server(tls_context=server_tls, login=("desk", "s3cret")) as (sink, port):
        settings = email_settings(port, security="starttls", smtp_user="desk",
                                  smtp_password="s3cret")
        wired, engine = await wire(sqlite_url, settings, sink, tls_context=client_tls)
        try:
            await open_for(wired)
            await wired.worker.run_until_idle()
            [receipt] = sink.wait_for(1)
            assert receipt["Auto-Submitted"] == "auto-generated"

            # the same server refuses a client that will not trust its certificate
            untrusting, engine2 = await wire(sqlite_url, settings, sink)
            await untrusting.desk.reply(SAM, 1, "Hello again")
            await untrusting.worker.run_until_idle()
            assert len(sink.messages) == 1
            assert not untrusting.email.sender.healthy
            await engine2.dispose()  # type: ignore[attr-defined]
        finally:
            await wired.email.stop()
            await engine.dispose()  # type: ignore[attr-defined]


async def test_no_email_is_queued_when_email_is_not_configured(sqlite_url: str) -> None:
    """Without ``[email]`` an address is refused as requester (``for``) and as watcher
    (``cc``); what was stored while e-mail was set up is sent nothing once it is off."""
    await upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    stores = SqlStores(engine)
    desk = make_desk(stores)  # the shell's route alone
    with_mail = make_desk(stores, routes=[SHELL_ROUTE, MAIL_ROUTE])
    try:
        with pytest.raises(Invalid) as refused:
            await desk.open_ticket(SAM, form(requester=Actor(UserRef.email(ANA), ANA)))
        assert refused.value.field == "for" and "e-mail is not set up" in refused.value.reason
        opened = await with_mail.open_ticket(
            SAM, form(requester=Actor(UserRef.email(ANA), ANA)))
        with pytest.raises(Invalid) as refused:
            await desk.add_watcher(SAM, opened.ticket.number,
                                   Person(UserRef.email(WATCHER), WATCHER))
        assert refused.value.field == "cc"
        await with_mail.add_watcher(SAM, opened.ticket.number,
                                    Person(UserRef.email(WATCHER), WATCHER))
        async with engine.connect() as conn:
            before = (await conn.execute(select(D.c.id))).scalars().all()
        await desk.reply(SAM, opened.ticket.number, "Hi")  # e-mail is off now
        async with engine.connect() as conn:
            targets = (await conn.execute(select(D.c.target).where(
                D.c.id.not_in(before)))).scalars().all()
        assert targets and Target.EMAIL.value not in targets
    finally:
        await engine.dispose()


async def test_idle_connections_are_closed_and_a_later_send_reconnects(
        mail_desk: MailDesk) -> None:
    sender = mail_desk.email.sender
    number = await open_for(mail_desk)
    await mail_desk.worker.run_until_idle()
    sender.idle_seconds = 0.0
    await sender.close_idle()  # what the platform's reaper does every few seconds
    assert sender._idle == []
    await mail_desk.desk.reply(SAM, number, "Back again")
    await mail_desk.worker.run_until_idle()
    assert len(mail_desk.sink.wait_for(2)) == 2
    assert sender.connections_made == 2 == mail_desk.sink.connections


async def test_background_work_runs_from_start_until_stop(sqlite_url: str) -> None:
    """The platform's hook for what runs beside sending (a mailbox poller): started by
    ``start()``, told to end by ``stop()``."""
    import asyncio

    with smtp_server() as (sink, port):
        wired, engine = await wire(sqlite_url, email_settings(port), sink)
        ran, ended = asyncio.Event(), asyncio.Event()

        async def poller(stop: asyncio.Event) -> None:
            ran.set()
            await stop.wait()
            ended.set()

        wired.email.background.append(poller)
        await wired.email.start()
        await asyncio.wait_for(ran.wait(), 5)
        assert not ended.is_set()
        await wired.email.stop()
        assert ended.is_set()
        await engine.dispose()  # type: ignore[attr-defined]


async def test_any_script_and_long_lines_arrive_intact(mail_desk: MailDesk) -> None:
    subject = "Rückerstattung für Bestellung 77 — 払い戻し 😀"
    number = await open_for(mail_desk, subject=subject)
    long_line = "ß" * 1500  # longer than SMTP's 998-octet line limit, non-ASCII
    await mail_desk.desk.reply(SAM, number, f"Grüße aus Köln.\n{long_line}")
    await mail_desk.worker.run_until_idle()
    receipt, reply = mail_desk.sink.wait_for(2)
    assert receipt["Subject"] == f"[#{number}] {subject}"
    text = parts(reply)["text/plain"]
    assert "Grüße aus Köln." in text and long_line in text
    assert long_line in parts(reply)["text/html"]
