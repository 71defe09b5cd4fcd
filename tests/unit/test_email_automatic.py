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


def _subject(subject: str) -> bytes:
    """HUMAN with ``subject`` as raw UTF-8 bytes, or as it is when already encoded."""
    return HUMAN.replace(b"Re: [#3] Refund", subject.encode())


# Out-of-office and auto-reply subjects of the major clients, the prefix before the
# ticket's tag (sources in adapters/email/automatic.py), and bounce subjects as the
# servers write them — each found in the bounces Sisimai collects
# (github.com/sisimai/set-of-emails, maildir/: lhost-exchange2007 [en, fr, it], -postfix,
# -exim, -gmail, -sendmail, -domino, -x2, -ezweb, -qmail), "Unzustellbar"/"Onbestelbaar"
# being Exchange's German and Dutch.
AUTOMATIC_SUBJECTS = [
    "=?utf-8?q?Out_of_Office=3A_Re=3A_=5B#3=5D_Refund?=",  # decoded before matching
    "=?iso-8859-1?q?Abwesenheitsnotiz=3A_=5B#3=5D_R=FCckerstattung?=",
    "Automatic reply: [#3] Refund", "Out of Office AutoReply: [#3] Refund",
    "AUTO: Lena is out of the office (returning 05/06/2026)",
    "Automatische Antwort: AW: [#3] Refund", "Abwesenheitsnotiz: [#3] Refund",
    "Réponse automatique : RE: [#3] Refund", "Absence: [#3] Refund",
    "Absent du bureau : RE: [#3] Refund", "Respuesta automática: RE: [#3] Refund",
    "Fuera de la oficina: [#3] Refund", "Risposta automatica: R: [#3] Refund",
    "Fuori sede: [#3] Refund", "Automatisch antwoord: RE: [#3] Refund",
    "Afwezig: [#3] Refund", "Resposta automática: RE: [#3] Refund", "Ausente: [#3] Refund",
    "Autosvar: SV: [#3] Refund", "Automatiskt svar: [#3] Refund",
    "Automatisk svar: [#3] Refund", "Frånvaro: [#3] Refund", "Fraværende: [#3] Refund",
    "Automatyczna odpowiedź: Odp: [#3] Refund", "Poza biurem: [#3] Refund",
    "Undeliverable: Re: [#3] Refund", "Undelivered Mail Returned to Sender",
    "Mail delivery failed: returning message to sender",
    "Delivery Status Notification (Failure)", "Returned mail: see transcript for details",
    "Delivery Failure", "DELIVERY FAILURE: User lena (lena@example.com) not listed",
    "Mail System Error - Returned Mail", "Unzustellbar: [#3] Refund",
    # a server's marker before the subject it bounces: for the desk's mail, with its tag
    "Non remis : [#3] Votre deuxième paire de chaussures", "Non recapitabile: RE: [#3] Nyaan",
    "Read: [#3] Refund",
    "Onbestelbaar: RE: [#3] Refund", "failure notice",
]


@pytest.mark.parametrize("subject", AUTOMATIC_SUBJECTS)
def test_an_automatic_subject_alone_marks_the_mail(subject: str) -> None:
    why = _why(_subject(subject))
    assert why is not None and "subject" in why


@pytest.mark.parametrize("subject", [
    "Re: [#3] absence next week", "Re: [#3] Out of office until Monday?",
    "Absence of an invoice in my account", "Absent: my colleague is ill",
    "Ausente el técnico", "Automatic reply settings are broken", "Autosvar fungerar inte",
    "Undeliverable parcel", "Delivery failure of my order", "Re: [#3] Undeliverable: why?",
    # a second trial: a marker without the ticket's tag after it is a person's subject
    "Read: the manual did not help", "Returned mail item still missing",
    "Mail delivery failed for my parcel", "Delivery Status Notification settings broken",
    "Undelivered Mail: where is my refund", "Auto: renewal charged twice",
    "Automatic reply: I am unhappy with your bot", "Undeliverable: the parcel you sent",
    "Non remis : Votre deuxième paire de chaussures à 5 euros",
])
def test_a_person_whose_subject_mentions_absence_is_heard(subject: str) -> None:
    assert _why(_subject(subject)) is None


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
