"""Issue 13, point 5: automatic mail is never a comment and never answered; a DMARC or
SPF failure reported by the configured server refuses a message (off by default)."""

from __future__ import annotations

import email

import pytest

from adapters.email import inbound
from adapters.email.automatic import authentication_failure, automatic
from tests.support.mail import fixture, settings, with_headers

HUMAN = (b"From: Lena <lena@example.com>\r\nTo: support@example.com\r\n"
         b"Subject: Re: [#3] Refund\r\nMessage-ID: <a1@example.com>\r\n\r\nThanks!\r\n")


def _why(raw: bytes) -> str | None:
    message = email.message_from_bytes(raw)
    return automatic(message, email.utils.parseaddr(str(message["from"]))[1].lower())


def test_a_persons_reply_is_not_automatic() -> None:
    assert _why(HUMAN) is None
    assert _why(with_headers(HUMAN, "Auto-Submitted: no")) is None


@pytest.mark.parametrize(("name", "says"), [
    ("discourse_auto_reply.eml", "Auto-Submitted: auto-generated"),  # a vacation reply
    ("discourse_bounced_email.eml", "multipart/report"),  # a DSN
])
def test_real_automatic_mail_is_recognised(name: str, says: str) -> None:
    why = _why(fixture(name).lstrip())
    assert why is not None and says in why
    with pytest.raises(inbound.Refused) as refused:
        inbound.read(fixture(name), settings())
    assert refused.value.bounce is False


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All",
    "Precedence: bulk", "Precedence: junk", "Precedence: list",
    "List-Id: <news.example.com>", "Return-Path: <>", "X-Autoreply: yes",
    "X-Autorespond: vacation", "X-Failed-Recipients: lena@example.com",
])
def test_each_automatic_mark(header: str) -> None:
    assert _why(with_headers(HUMAN, header)) is not None


def test_exchange_out_of_office_without_auto_submitted() -> None:
    # TESTING.md: Exchange may send only X-Auto-Response-Suppress and an empty Return-Path
    raw = with_headers(HUMAN.replace(b"Re: [#3] Refund", b"Automatic reply: Refund"),
                       "X-Auto-Response-Suppress: All", "Return-Path: <>")
    assert _why(raw) is not None


def test_read_receipt() -> None:
    raw = (b"From: lena@example.com\r\nSubject: Read: Refund\r\nContent-Type: "
           b"multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--b\r\nContent-Type: "
           b"message/disposition-notification\r\n\r\nDisposition: manual-action/"
           b"MDN-sent-manually; displayed\r\n--b--\r\n")
    assert _why(raw) is not None


def test_mail_from_the_desk_itself_is_a_loop() -> None:
    raw = HUMAN.replace(b"Lena <lena@example.com>", b"Acme <support@example.com>")
    with pytest.raises(inbound.Refused, match="loop"):
        inbound.read(raw, settings())


AR = "Authentication-Results: mx.example.com; spf={spf} smtp.mailfrom=example.com; " \
     "dkim=none; dmarc={dmarc} (p=reject) header.from=example.com"


def _auth(raw: bytes, server: str | None) -> str | None:
    return authentication_failure(email.message_from_bytes(raw), server)


def test_dmarc_and_spf_failures_refuse_when_the_server_is_named() -> None:
    failing = with_headers(HUMAN, AR.format(spf="pass", dmarc="fail"))
    assert _auth(failing, "mx.example.com") == "dmarc=fail"
    assert _auth(with_headers(HUMAN, AR.format(spf="fail", dmarc="none")),
                 "MX.example.com") == "spf=fail"
    assert _auth(with_headers(HUMAN, AR.format(spf="pass", dmarc="pass")),
                 "mx.example.com") is None
    assert _auth(failing, None) is None  # off by default
    with pytest.raises(inbound.Refused, match="dmarc=fail") as refused:
        inbound.read(failing, settings(authserv_id="mx.example.com"))
    assert refused.value.bounce is False  # never backscatter


def test_results_written_by_anyone_else_are_ignored() -> None:
    forged = with_headers(HUMAN, AR.format(spf="fail", dmarc="fail").replace(
        "mx.example.com", "mx.attacker.example"))
    assert _auth(forged, "mx.example.com") is None
