"""Every event kind renders as an e-mail or is refused as agents-only; a message built
twice for the same delivery is the same message; user text is escaped in HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from adapters.email import tokens
from adapters.email.message import Envelope, build, message_id, reply_address, thread_root
from adapters.email.render import NotForEmail, render
from adapters.email.settings import EmailSettings
from core.config import DeskConfig
from core.events import Audience, Commented, Event, EventKind, FaqAnswer, Opened, PastTicket
from core.identity import Person, UserRef
from core.routing import Purpose
from core.tickets import Ticket
from core.views import ticket_view
from tests.support.samples import SAMPLES

AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SAM = Person(UserRef("shell", "local", "sam"), "sam")
ANA = UserRef.email("ana@example.com")
TICKET = ticket_view(Ticket(number=7, subject="Charged <twice>", description="Order 77",
                            category="refund", priority="high",
                            requester=Person(ANA, "ana@example.com"),
                            opened_at=AT, source="email"), DeskConfig(), internal=False, now=AT)
AGENTS_ONLY = {EventKind.NOTED, EventKind.SLA_WARNING, EventKind.SLA_BREACHED,
               EventKind.RATED}
SETTINGS = EmailSettings(smtp_host="smtp.example.com", from_address="help@example.com",
                         signing_key=SecretStr("k" * 24), reply_to="replies@example.com")


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_each_kind_renders_or_is_refused_as_agents_only(kind: EventKind) -> None:
    event = Event(7, SAMPLES[kind], SAM, AT, "shell", id=1).visible_to(Audience.PUBLIC)
    if kind in AGENTS_ONLY:
        with pytest.raises(NotForEmail):
            render(event, TICKET, Purpose.NOTIFY, desk_name="Acme", to_requester=True)
        return
    mail = render(event, TICKET, Purpose.NOTIFY, desk_name="Acme", to_requester=True)
    assert mail.subject == "[#7] Charged <twice>"
    assert "#7" in mail.text and "— Acme" in mail.text
    if event.text:  # what was said is shown, in both parts
        assert event.text in mail.text
    assert "<twice>" not in mail.html and "Charged &lt;twice&gt;" in mail.html
    for hidden in ("5512", "partner"):  # agents-only reasons stay out
        assert hidden not in mail.text


def test_automatic_notices_are_the_receipt_and_the_desks_own_changes() -> None:
    opened = Event(7, SAMPLES[EventKind.OPENED], SAM, AT, "shell", id=1)
    assert render(opened, TICKET, Purpose.RECEIPT, desk_name="Acme", to_requester=True
                  ).automatic
    assert render(opened, TICKET, Purpose.NOTIFY, desk_name="Acme", to_requester=False
                  ).automatic  # a watcher's "copied on" notice
    closed_by_desk = Event(7, SAMPLES[EventKind.CLOSED], None, AT, "desk", id=2)
    assert render(closed_by_desk, TICKET, Purpose.NOTIFY, desk_name="Acme",
                  to_requester=True).automatic
    reply = Event(7, Commented("Hi"), SAM, AT, "shell", id=3)
    assert not render(reply, TICKET, Purpose.NOTIFY, desk_name="Acme",
                      to_requester=True).automatic


def test_hostile_text_is_escaped_in_html_and_kept_in_text() -> None:
    text = '<script>alert(1)</script> <a href="http://evil">click</a> & more'
    mail = render(Event(7, Commented(text), SAM, AT, "shell", id=1), TICKET, Purpose.NOTIFY,
                  desk_name="Acme", to_requester=False)
    assert text in mail.text
    assert "<script>" not in mail.html and "<a href" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html


def test_a_delivery_built_twice_is_the_same_message() -> None:
    """A retry after a crash sends the very message that may already have gone out."""
    mail = render(Event(7, Commented("Hi"), SAM, AT, "shell", id=1), TICKET, Purpose.NOTIFY,
                  desk_name="Acme", to_requester=True)
    envelope = Envelope(7, "ana@example.com", delivery_id=42, queued_at=AT + timedelta(1),
                        opened_at=AT, first=False)
    one, two = (build(mail, envelope, SETTINGS, "Acme") for _ in range(2))
    assert one.as_bytes() == two.as_bytes()
    other = build(mail, Envelope(7, "ana@example.com", 43, AT + timedelta(1), AT, False),
                  SETTINGS, "Acme")
    assert other["Message-ID"] != one["Message-ID"]
    assert one["In-Reply-To"] == thread_root(SETTINGS, 7, "ana@example.com", AT)
    assert one["From"] == "Acme <help@example.com>"
    assert one["Reply-To"] == "replies@example.com"  # no plus addressing here
    found = tokens.find(one["Message-ID"])
    assert found is not None and found.verify("ANA@example.com", SETTINGS.key)


def test_the_thread_root_differs_per_recipient_and_per_ticket() -> None:
    first = Envelope(7, "ana@example.com", 1, AT, AT, first=True)
    assert message_id(SETTINGS, first) == thread_root(SETTINGS, 7, "ana@example.com", AT)
    roots = {thread_root(SETTINGS, n, who, at) for n in (7, 8)
             for who in ("ana@example.com", "bo@example.com")
             for at in (AT, AT + timedelta(seconds=1))}  # a desk started afresh
    assert len(roots) == 8
    plus = SETTINGS.model_copy(update={"plus_addressing": True})
    address = reply_address(plus, 7, "ana@example.com")
    assert address is not None and address.startswith("replies+7-")
    assert address.endswith("@example.com")


def test_headers_in_any_script_round_trip() -> None:
    """Encoded words keep the spaces between them (the stdlib's own folding loses one)."""
    from email import message_from_bytes, policy

    from adapters.email.render import Mail

    for subject in ("[#7] Rückerstattung für Bestellung 77 — 払い戻し 😀",
                    "[#7] " + "払い戻し 😀 Ümlaut " * 12, "[#7] plain ASCII only",
                    "[#7] " + "a long plain subject " * 6):
        settings = SETTINGS.model_copy(update={"from_address": "Süpport <help@example.com>"})
        message = build(Mail(subject, "x", "<p>x</p>", False),
                        Envelope(7, "ana@example.com", 1, AT, AT, False), settings, "Acme")
        raw = message.as_bytes(policy=policy.SMTP)
        assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
        parsed = message_from_bytes(raw, policy=policy.default)
        assert parsed["Subject"] == subject
        lines = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
        start = next(i for i, line in enumerate(lines) if line.startswith(b"Subject:"))
        end = next(i for i in range(start + 1, len(lines))
                   if not lines[i].startswith((b" ", b"\t")))
        folded = lines[start:end]
        assert subject.isascii() == (b"=?" not in b"".join(folded))
        assert parsed["From"].addresses[0].display_name == "Süpport"


def test_a_line_break_in_a_subject_never_starts_a_header() -> None:
    """Subjects are refused with line breaks at the form; the builder holds anyway."""
    from adapters.email.render import Mail

    message = build(Mail("[#7] Hi\r\nBcc: victim@example.com", "x", "<p>x</p>", False),
                    Envelope(7, "ana@example.com", 1, AT, AT, False), SETTINGS, "Acme")
    raw = message.as_bytes()
    assert b"\nBcc:" not in raw and message["Bcc"] is None
    assert message["Subject"] == "[#7] Hi Bcc: victim@example.com"


def test_only_the_requester_is_told_a_reply_reopens_a_resolved_ticket() -> None:
    resolved = Event(7, SAMPLES[EventKind.RESOLVED], SAM, AT, "shell", id=1)
    to_requester = render(resolved, TICKET, Purpose.NOTIFY, desk_name="Acme",
                          to_requester=True)
    to_watcher = render(resolved, TICKET, Purpose.NOTIFY, desk_name="Acme",
                        to_requester=False)
    for said in ("reply to this message and the ticket reopens", "Reply with “good”"):
        assert said in to_requester.text and said in to_requester.html
        assert said not in to_watcher.text and said not in to_watcher.html
    assert "Refunded the duplicate" in to_watcher.text
    assert "ana@example.com can reply to reopen it" in to_watcher.text


def test_the_receipt_shows_what_may_help_the_requester_escaped() -> None:
    opened = Opened(helpful=(PastTicket(3, "Charged <b>twice</b>", "Refunded\nthe <i>second</i>"
                                                                 " charge"),),
                    faq=(FaqAnswer("Refunds & returns", "Refunds take " + "x" * 700),))
    event = Event(7, opened, SAM, AT, "email", id=1)
    receipt = render(event, TICKET, Purpose.RECEIPT, desk_name="Acme", to_requester=True)
    assert "These may help" in receipt.text and "These may help" in receipt.html
    assert "#3 Charged <b>twice</b> — resolved: Refunded the <i>second</i> charge" in \
        receipt.text
    assert "FAQ: Refunds & returns — Refunds take" in receipt.text
    assert "x" * 600 not in receipt.text and "…" in receipt.text  # cut visibly
    assert "<b>" not in receipt.html and "<i>" not in receipt.html
    assert "Charged &lt;b&gt;twice&lt;/b&gt;" in receipt.html
    assert "Refunds &amp; returns" in receipt.html
    copied = render(event, TICKET, Purpose.NOTIFY, desk_name="Acme", to_requester=False)
    assert "These may help" not in copied.text and "Charged" not in copied.text.replace(
        "Charged <twice>", "")  # a watcher's "copied on" notice: not theirs to see
    plain = render(Event(7, Opened(), SAM, AT, "email", id=2), TICKET, Purpose.RECEIPT,
                   desk_name="Acme", to_requester=True)
    assert "These may help" not in plain.text
