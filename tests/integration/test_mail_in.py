"""Issue 13, points 4–5: mail taken into a desk on a real database. Replies written by
real mail clients land as their sender's comment with the quote stripped; strangers,
forged tokens, automatic mail and oversized mail are refused, nothing of them stored;
the same message twice is one comment; nothing in a mail reaches a note or a field."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.email.bounce import smtp_bouncer
from adapters.email.settings import EmailSettings
from adapters.email.taking import Result, Taken, take
from core.clock import FrozenClock
from core.desk import Desk
from core.events import Attachment, Commented, EventKind
from core.identity import Actor, Person, UserRef
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.integration.conftest import Wired
from tests.support.mail import fixture, reply_to, settings, with_headers, without_header
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, agent, form, make_desk
from tests.support.smtp_sink import smtp_sink

SAM = agent("sam")

MAILED = [SHELL_ROUTE, MAIL_ROUTE]  # mail-in runs with [email] set up


def mailer(address: str, name: str = "") -> Actor:
    return Actor(UserRef.email(address), name or address.split("@")[0])


@dataclass
class Desked:
    desk: Desk
    stores: SqlStores
    clock: FrozenClock


@pytest.fixture
async def desked(sqlite_url: str) -> AsyncIterator[Desked]:
    await upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    clock = FrozenClock()
    stores = SqlStores(engine)
    try:
        yield Desked(make_desk(stores, clock=clock, routes=MAILED), stores, clock)
    finally:
        await engine.dispose()


async def comments(stores: SqlStores, number: int) -> list[tuple[str, Commented]]:
    async with stores.reading() as store:
        events = await store.events(number)
    return [(e.actor.ref.user_id if e.actor else "", e.payload) for e in events
            if isinstance(e.payload, Commented)]


async def events_count(stores: SqlStores) -> int:
    async with stores.reading() as store:
        total = 0
        number = 1
        while (await store.get_ticket(number)) is not None:
            total += len(await store.events(number))
            number += 1
        return total


async def _take(desk: Desk, raw: bytes, email: EmailSettings | None = None) -> Taken:
    return await take(desk, raw, email or settings(), None)


CLIENTS = {  # fixture: (sender address, what the comment says)
    "talon_gmail.eml": ("xxx@gmail.com", "Hello"),
    "talon_outlook.eml": ("me@example.com", "Hello"),
    "talon_apple_mail.eml": ("xxx@gmail.com", "Hello"),
    "talon_thunderbird.eml": ("bob@xxx.mailgun.org", "Hello"),
    "talon_android.eml": ("bob@example.com", "Hello"),
    "discourse_big5.eml": ("walter.white@googlemail.com", "媽！我上電視了！"),
    "discourse_html_only.eml": ("aaron@breakingbad.com", "The EC2 instance - I've seen "
                                "that there tends to be odd and unrecommended settings on "
                                "the Bitnami installs that I've checked out."),
}


@pytest.mark.parametrize("name", sorted(CLIENTS))
async def test_a_real_clients_reply_is_its_senders_comment(desked: Desked, name: str) -> None:
    sender, text = CLIENTS[name]
    opened = await desked.desk.open_ticket(mailer(sender), form())
    number = opened.ticket.number
    taken = await _take(desked.desk, reply_to(fixture(name), number, sender))
    assert taken == Taken(Result.TAKEN, number)
    assert await comments(desked.stores, number) == [(sender, Commented(text))]


async def test_a_subject_tag_names_the_ticket_for_its_requester(desked: Desked) -> None:
    opened = await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    raw = fixture("talon_gmail.eml").replace(b"Subject: Re: Test",
                                             b"Subject: Re: [#1] Pixel not firing")
    assert (await _take(desked.desk, raw)).result is Result.TAKEN
    assert [c.text for _, c in await comments(desked.stores, opened.ticket.number)] == \
        ["Hello"]


async def test_a_watcher_may_reply_by_mail(desked: Desked) -> None:
    opened = await desked.desk.open_ticket(mailer("lena@example.com"), form())
    number = opened.ticket.number
    watcher = Person(UserRef.email("xxx@gmail.com"), "Megan")
    await desked.desk.add_watcher(mailer("lena@example.com"), number, watcher)
    taken = await _take(desked.desk, reply_to(fixture("talon_gmail.eml"), number,
                                              "xxx@gmail.com"))
    assert taken.result is Result.TAKEN
    assert await comments(desked.stores, number) == [("xxx@gmail.com", Commented("Hello"))]


async def test_a_strangers_reply_is_refused_and_nothing_kept(
        desked: Desked, caplog: pytest.LogCaptureFixture) -> None:
    await desked.desk.open_ticket(mailer("lena@example.com"), form())
    before = await events_count(desked.stores)
    raw = fixture("talon_gmail.eml").replace(b"Subject: Re: Test", b"Subject: Re: [#1] x")
    with caplog.at_level(logging.INFO, "helpthread.email"):
        taken = await _take(desked.desk, raw)  # xxx@gmail.com knows the number, no more
    assert taken.result is Result.REFUSED and not taken.bounced
    assert "may not comment on #1" in (taken.reason or "")
    assert await events_count(desked.stores) == before
    assert any("mail.refused" in r.getMessage() and "xxx@gmail.com" in r.getMessage()
               for r in caplog.records)


async def test_a_token_for_someone_else_does_not_let_a_stranger_in(desked: Desked) -> None:
    await desked.desk.open_ticket(mailer("lena@example.com"), form())
    # the requester's own token, forwarded to (or copied by) someone else
    raw = reply_to(fixture("talon_gmail.eml"), 1, "lena@example.com")
    taken = await _take(desked.desk, raw)
    assert taken.result is Result.REFUSED and "does not verify" in (taken.reason or "")
    assert await comments(desked.stores, 1) == []


async def test_a_forged_token_refuses_without_falling_back_to_the_tag(desked: Desked) -> None:
    await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    raw = reply_to(fixture("talon_gmail.eml"), 1, "xxx@gmail.com", key="not-the-desks-key-" * 2)
    raw = raw.replace(b"Subject: Re: Test", b"Subject: Re: [#1] Pixel")  # a good tag, too
    taken = await _take(desked.desk, raw)
    assert taken.result is Result.REFUSED and "does not verify" in (taken.reason or "")
    assert await comments(desked.stores, 1) == []


async def test_the_token_in_a_plus_address_names_the_ticket(desked: Desked) -> None:
    from adapters.email import tokens
    from tests.support.mail import KEY

    await desked.desk.open_ticket(mailer("xxx@gmail.com"), form())
    token = tokens.sign(1, "xxx@gmail.com", KEY.encode())
    raw = fixture("talon_gmail.eml").replace(b"To: bob@example.com",
                                             f"To: support+{token}@example.com".encode())
    assert (await _take(desked.desk, raw)).result is Result.TAKEN


@pytest.mark.parametrize("name", ["discourse_auto_reply.eml", "discourse_bounced_email.eml"])
async def test_automatic_mail_is_never_a_comment_nor_answered(desked: Desked,
                                                              name: str) -> None:
    await desked.desk.open_ticket(mailer("jake@adventuretime.ooo"), form())
    before = await events_count(desked.stores)
    with smtp_sink() as (sink, port):
        email = settings(smtp_port=port)
        raw = reply_to(fixture(name), 1, "jake@adventuretime.ooo")
        taken = await take(desked.desk, raw, email, smtp_bouncer(email, "Acme"))
    assert taken.result is Result.REFUSED and not taken.bounced
    assert sink.received == [] and await events_count(desked.stores) == before


@pytest.mark.parametrize("subject", [
    b"=?utf-8?q?Out_of_Office=3A_Re=3A_=5B#1=5D_Charged?=",  # encoded (RFC 2047)
    b"Undeliverable: Re: [#1] Charged",  # Exchange's non-delivery report
    b"Abwesenheitsnotiz: [#1] Charged",  # Outlook in German
    "Réponse automatique : RE: [#1] Charged".encode(),  # French, raw UTF-8 (RFC 6532)
])
async def test_an_automatic_subject_alone_is_refused_and_not_answered(
        desked: Desked, subject: bytes) -> None:
    """The requester's own reply token, no Auto-Submitted, X-Autoreply or Precedence:
    only the subject says no person wrote it. Outlook's message (talon), its subject
    replaced."""
    sender = "me@example.com"
    await desked.desk.open_ticket(mailer(sender), form())
    before = await events_count(desked.stores)
    raw = reply_to(fixture("talon_outlook.eml"), 1, sender).replace(
        b"Subject: Test", b"Subject: " + subject, 1)
    with smtp_sink() as (sink, port):
        email = settings(smtp_port=port)
        taken = await take(desked.desk, raw, email, smtp_bouncer(email, "Acme"))
    assert taken.result is Result.REFUSED and not taken.bounced
    assert "automatic mail" in (taken.reason or "")
    assert sink.received == [] and await events_count(desked.stores) == before


async def test_a_person_who_mentions_absence_is_heard(desked: Desked) -> None:
    sender = "me@example.com"
    await desked.desk.open_ticket(mailer(sender), form())
    for subject in (b"Re: [#1] Absence next week", b"Absence of my invoice",
                    b"Automatic reply settings are broken"):
        raw = reply_to(fixture("talon_outlook.eml"), 1, sender).replace(
            b"Subject: Test", b"Subject: " + subject, 1)  # no Message-ID: the bytes name it
        assert await _take(desked.desk, raw) == Taken(Result.TAKEN, 1)


async def test_the_same_message_twice_is_one_comment(wired: Wired) -> None:
    wired.desk = make_desk(wired.stores, clock=wired.clock, routes=MAILED)
    opened = await wired.desk.open_ticket(mailer("xxx@gmail.com"), form())
    raw = reply_to(fixture("talon_gmail.eml"), opened.ticket.number, "xxx@gmail.com")
    first = await _take(wired.desk, raw)
    again = await _take(wired.desk, raw)
    assert (first.result, again.result) == (Result.TAKEN, Result.DUPLICATE)
    async with wired.stores.reading() as store:
        kinds = [e.kind for e in await store.events(opened.ticket.number)]
    assert kinds.count(EventKind.COMMENTED) == 1


async def test_a_mail_with_only_an_attachment_is_a_comment_holding_it(desked: Desked) -> None:
    sender = "timothy.hobbs@auto-mat.cz"
    await desked.desk.open_ticket(mailer(sender), form())
    taken = await _take(desked.desk, reply_to(fixture("helpdesk_attachment_only.eml"), 1,
                                              sender))
    assert taken.result is Result.TAKEN
    assert await comments(desked.stores, 1) == [
        (sender, Commented("(sent 1 attachment by e-mail)", (Attachment("baf", 24),)))]


async def test_oversized_mail_and_attachments_are_bounced(desked: Desked) -> None:
    sender = "timothy.hobbs@auto-mat.cz"
    await desked.desk.open_ticket(mailer(sender), form())
    raw = reply_to(fixture("helpdesk_attachment_only.eml"), 1, sender)
    with smtp_sink() as (sink, port):
        for limits in ({"max_attachment_bytes": 10}, {"max_message_bytes": 500,
                                                      "max_attachment_bytes": 100}):
            email = settings(smtp_port=port, **limits)
            taken = await take(desked.desk, raw, email, smtp_bouncer(email, "Acme Support"))
            assert taken.result is Result.REFUSED and taken.bounced
    assert await comments(desked.stores, 1) == []
    assert [r.recipients for r in sink.received] == [[sender], [sender]]
    bounce = sink.received[0]
    assert bounce.sender in ("", "<>")  # a null envelope sender: nothing answers it
    assert bounce.message["Auto-Submitted"] == "auto-replied"
    assert "'baf' is 24 bytes" in bounce.message.get_payload()
    assert "1.1 KB" not in str(sink.received[1].message.get_payload()) and \
        "this desk takes messages up to 500 bytes" in str(sink.received[1].message.get_payload())


async def test_a_new_message_opens_a_ticket_when_allowed(desked: Desked) -> None:
    raw = without_header(fixture("discourse_big5.eml"), "In-Reply-To")
    raw = without_header(raw, "References")
    refused = await _take(desked.desk, raw)
    assert refused.result is Result.REFUSED and "open_from_mail is off" in (refused.reason or "")
    taken = await _take(desked.desk, raw, settings(open_from_mail=True))
    assert taken.result is Result.TAKEN and taken.number == 1
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(1)
    assert ticket is not None
    assert (ticket.category, ticket.subject, ticket.description) == (
        "general", "Re: [Discourse] new reply to your post in 'Crystal Blue'", "媽！我上電視了！")
    assert ticket.requester.ref == UserRef.email("walter.white@googlemail.com")
    assert ticket.requester.name == "Walter White"
    again = await _take(desked.desk, raw, settings(open_from_mail=True))
    assert again == Taken(Result.DUPLICATE, 1)


async def test_raw_utf8_headers_reach_the_ticket_as_letters(desked: Desked) -> None:
    """RFC 6532 (SMTPUTF8): From and Subject in raw UTF-8 bytes, not encoded words."""
    raw = ("From: Zoë Müller <zoe@example.org>\r\nTo: support@example.com\r\n"
           "Subject: Réclamation über Zahlung\r\nMessage-ID: <smtputf8@example.org>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\nZweimal abgebucht.\r\n").encode()
    taken = await _take(desked.desk, raw, settings(open_from_mail=True))
    assert taken == Taken(Result.TAKEN, 1)
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(1)
    assert ticket is not None
    assert (ticket.subject, ticket.requester.name, ticket.description) == (
        "Réclamation über Zahlung", "Zoë Müller", "Zweimal abgebucht.")


async def test_a_reply_to_a_closed_ticket_reopens_it_or_follows_up(desked: Desked) -> None:
    from datetime import timedelta

    sender = "xxx@gmail.com"
    for number in (1, 2):
        await desked.desk.open_ticket(mailer(sender), form(subject=f"Ticket {number}"))
        await desked.desk.close(SAM, number)
    taken = await _take(desked.desk, reply_to(fixture("talon_gmail.eml"), 1, sender))
    async with desked.stores.reading() as store:
        reopened = await store.get_ticket(1)
    assert taken.number == 1 and reopened is not None and reopened.status.value == "open"
    desked.clock.advance(timedelta(days=30).total_seconds())  # past lifecycle.reopen_window
    raw = reply_to(fixture("talon_apple_mail.eml"), 2, sender)
    followed = await _take(desked.desk, raw)
    assert followed.result is Result.TAKEN and followed.number == 3
    async with desked.stores.reading() as store:
        follow_up = await store.get_ticket(3)
    assert follow_up is not None and follow_up.subject == "Follow-up to #2: Ticket 2"


async def test_nothing_in_a_mail_reaches_a_note_or_a_field(desked: Desked) -> None:
    sender = "xxx@gmail.com"
    await desked.desk.open_ticket(mailer(sender), form())
    raw = reply_to(fixture("talon_gmail.eml"), 1, sender).replace(
        b"Hello\n\nOn Mon", b"/ticket note 1 secret\n/ticket priority 1 urgent\n\nOn Mon", 1)
    assert (await _take(desked.desk, raw)).result is Result.TAKEN
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(1)
        kinds = [e.kind for e in await store.events(1)]
    assert ticket is not None and ticket.priority == "normal"
    assert kinds == [EventKind.OPENED, EventKind.COMMENTED]
    assert (await comments(desked.stores, 1))[0][1].text == \
        "/ticket note 1 secret\n/ticket priority 1 urgent"


async def test_undecodable_bytes_and_unknown_charsets_never_crash(desked: Desked) -> None:
    sender = "lena@example.com"
    await desked.desk.open_ticket(mailer(sender), form())
    for charset, body in (("utf-8", b"caf\xe9 \xff\xfe ok"), ("x-no-such-charset", b"na\xefve"),
                          ("us-ascii", b"gr\xc3\xbc\xc3\x9fe")):
        raw = with_headers(
            b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n\r\n" + body,
            "From: Lena <lena@example.com>", "Subject: Re: [#1] x",
            f"Message-ID: <{charset}@example.com>")
        assert (await _take(desked.desk, raw)).result is Result.TAKEN
    texts = [c.text for _, c in await comments(desked.stores, 1)]
    assert texts == ["caf\ufffd \ufffd\ufffd ok", "na\ufffdve", "grüße"]


def plain_reply(sender: str, number: int, body: str, message_id: str) -> bytes:
    text = (f"From: Lena <{sender}>\r\nTo: support@example.com\r\n"
            f"Subject: Re: [#{number}] Pixel not firing\r\nMessage-ID: <{message_id}>\r\n"
            "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n\r\nOn Sun, 6 Dec 2026 at 18:00, Acme Support wrote:\r\n"
            "> How did we do? Reply with good or bad\r\n")
    return reply_to(text.encode(), number, sender)


async def test_good_or_bad_alone_on_the_first_line_rates_a_resolution(
        desked: Desked) -> None:
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    await desked.desk.resolve(SAM, number, "Tag reinstalled on checkout")
    raw = plain_reply("lena@example.com", number, "Good!\r\nQuick and clear, thanks.",
                      "r1@mail.example.com")
    assert await _take(desked.desk, raw) == Taken(Result.TAKEN, number)
    assert await _take(desked.desk, raw) == Taken(Result.DUPLICATE, number)  # once
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None and str(ticket.rating) == "good"
    assert ticket.rating_comment == "Quick and clear, thanks."
    assert ticket.status.value == "resolved", "a rating does not reopen"
    assert await comments(desked.stores, number) == []


async def test_a_reply_that_only_starts_with_good_is_a_comment_and_reopens(
        desked: Desked) -> None:
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    await desked.desk.resolve(SAM, number, "Tag reinstalled on checkout")
    raw = plain_reply("lena@example.com", number, "Good morning, it is broken again.",
                      "r2@mail.example.com")
    assert (await _take(desked.desk, raw)).result is Result.TAKEN
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None and ticket.rating is None
    assert ticket.status.value != "resolved"
    assert [c.text for _, c in await comments(desked.stores, number)] == [
        "Good morning, it is broken again."]


async def test_a_watchers_good_is_no_rating(desked: Desked) -> None:
    """Only the requester rates; a watcher may not add to a resolved ticket (core says
    why, and the sender is told by bounce)."""
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    await desked.desk.add_watcher(lena, number, Person(UserRef.email("bo@example.com"), "Bo"))
    await desked.desk.resolve(SAM, number, "Tag reinstalled on checkout")
    raw = plain_reply("bo@example.com", number, "good", "r3@mail.example.com")
    taken = await _take(desked.desk, raw)
    assert taken.result is Result.REFUSED and "requester" in str(taken.reason)
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None and ticket.rating is None
    assert await comments(desked.stores, number) == []


@pytest.mark.parametrize("body", [
    "The fix works on my laptop.\r\nThanks, but on my phone it still fails.\r\n"
    "Error code 42 appears.",
    "It works now.\r\nBest regards, but one more thing: error 42.\r\nLine after.",
])
async def test_text_after_a_line_starting_with_a_sign_off_is_kept(desked: Desked,
                                                                   body: str) -> None:
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    raw = plain_reply("lena@example.com", number, body + "\r\n\r\nBest regards,\r\nLena",
                      "s1@mail.example.com")
    assert await _take(desked.desk, raw) == Taken(Result.TAKEN, number)
    assert [c.text for _, c in await comments(desked.stores, number)] == [
        body.replace("\r\n", "\n")]


async def test_a_ratings_comment_may_start_with_thanks(desked: Desked) -> None:
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    await desked.desk.resolve(SAM, number, "Tag reinstalled on checkout")
    raw = plain_reply("lena@example.com", number, "good\r\nThanks, works now!",
                      "s2@mail.example.com")
    assert await _take(desked.desk, raw) == Taken(Result.TAKEN, number)
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None and str(ticket.rating) == "good"
    assert ticket.rating_comment == "Thanks, works now!"
    assert ticket.status.value == "resolved"


async def test_the_same_rating_again_is_taken_and_never_reopens(
        desked: Desked, caplog: pytest.LogCaptureFixture) -> None:
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    await desked.desk.resolve(SAM, number, "Tag reinstalled on checkout")
    first = plain_reply("lena@example.com", number, "good", "s3@mail.example.com")
    second = plain_reply("lena@example.com", number, "good", "s4@mail.example.com")
    assert await _take(desked.desk, first) == Taken(Result.TAKEN, number)
    with caplog.at_level(logging.INFO, "helpthread.email"):
        assert await _take(desked.desk, second) == Taken(Result.TAKEN, number)
    assert any("mail.rated_again" in r.getMessage() and "s4@mail.example.com" in
               r.getMessage() for r in caplog.records)
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None and ticket.status.value == "resolved"
    assert str(ticket.rating) == "good"
    assert await comments(desked.stores, number) == []


async def test_a_message_taken_as_a_comment_is_a_duplicate_when_redelivered(
        desked: Desked, caplog: pytest.LogCaptureFixture) -> None:
    lena = mailer("lena@example.com")
    number = (await desked.desk.open_ticket(lena, form())).ticket.number
    raw = plain_reply("lena@example.com", number, "Good!", "s5@mail.example.com")
    assert await _take(desked.desk, raw) == Taken(Result.TAKEN, number)  # not resolved
    await desked.desk.resolve(SAM, number, "Tag reinstalled on checkout")
    with caplog.at_level(logging.INFO, "helpthread.email"):
        assert await _take(desked.desk, raw) == Taken(Result.DUPLICATE, number)
    assert not any("mail.rated" in r.getMessage() for r in caplog.records)
    async with desked.stores.reading() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None and ticket.rating is None
    assert [c.text for _, c in await comments(desked.stores, number)] == ["Good!"]
