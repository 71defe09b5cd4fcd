"""Issue 13, point 5: whatever bytes arrive, reading them gives a message or a refusal
with a reason — never a crash — and a message names its ticket as the issue orders."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.email import inbound, tokens
from tests.support.mail import KEY, fixture, settings, with_headers

HEAD = b"From: Lena <lena@example.com>\r\nSubject: Re: [#3] Refund\r\n"


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow],
                     deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_read_or_refuse(raw: bytes) -> None:
    for candidate in (raw, HEAD + raw, HEAD + b"Content-Type: multipart/mixed; "
                      b"boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=utf-8"
                      b"\r\n\r\n" + raw):
        try:
            mail = inbound.read(candidate, settings())
        except inbound.Refused as refused:
            assert refused.reason
        else:
            assert "\x00" not in mail.text and "\x00" not in mail.subject


def test_broken_mime_and_headers_do_not_crash() -> None:
    cases = [
        HEAD + b"Content-Type: multipart/alternative; boundary=zz\r\n\r\n--zz\r\n",  # cut
        HEAD + b"Content-Type: text/plain; charset=\"\r\n\r\nbody",
        HEAD + b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"From: =?x-unknown?B?SGk=?= <lena@example.com>\r\nSubject: =?utf-8?Q?=FF?=\r\n\r\nhi",
        HEAD + b"Content-Type: application/octet-stream; name*=utf-8''%FF%FE.bin\r\n"
               b"Content-Disposition: attachment; filename*=utf-8''%FF%FE.bin\r\n\r\nxx",
    ]
    for raw in cases:
        try:
            inbound.read(raw, settings())
        except inbound.Refused:
            pass


def test_a_message_without_one_sender_is_refused_unbounced() -> None:
    for head in (b"", b"From: a@example.com, b@example.com\r\n", b"From: not an address\r\n"):
        with pytest.raises(inbound.Refused) as refused:
            inbound.read(head + b"Subject: x\r\n\r\nhi", settings())
        assert not refused.value.bounce


def test_an_mbox_from_line_and_leading_blank_lines_are_skipped() -> None:
    raw = b"From lena@example.com Mon Apr  2 20:21:52 2012\n" + fixture("talon_gmail.eml")
    assert inbound.read(raw, settings()).sender == "xxx@gmail.com"
    assert inbound.read(fixture("discourse_big5.eml"), settings()).sender == \
        "walter.white@googlemail.com"  # the stored file starts with a blank line


def test_order_token_then_tag_then_new() -> None:
    email = settings(open_from_mail=True)
    token = tokens.sign(7, "lena@example.com", KEY.encode())
    tagged = HEAD + b"\r\nhi"
    replied = with_headers(tagged, f"In-Reply-To: <{token}@example.com>")
    assert inbound.decide(inbound.read(replied, email), email) == inbound.CommentOn(7, True)
    assert inbound.decide(inbound.read(tagged, email), email) == inbound.CommentOn(3, False)
    new = b"From: Lena <lena@example.com>\r\nSubject: Help\r\n\r\nhi"
    assert inbound.decide(inbound.read(new, email), email) == inbound.OpenNew()
    # the desk's own token for another recipient in References, the sender's in the
    # plus address: the sender's verifies, the other does not refuse the message
    other = tokens.sign(9, "omar@example.com", KEY.encode())
    both = with_headers(tagged, f"References: <{other}@example.com>",
                        f"To: support+{token}@example.com")
    assert inbound.decide(inbound.read(both, email), email) == inbound.CommentOn(7, True)


def _eight_bit(from_: bytes, subject: bytes, extra: bytes = b"") -> bytes:
    """A message whose head carries raw 8-bit bytes (RFC 6532), as an SMTPUTF8 client or
    a careless one sends it; the body is declared UTF-8, 8bit."""
    return (b"From: " + from_ + b"\r\nTo: support@example.com\r\nSubject: " + subject +
            b"\r\nMessage-ID: <8bit@example.org>\r\nMIME-Version: 1.0\r\n" + extra +
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
            b"\r\n\r\nMeine Zahlung wurde zweimal abgebucht.\r\n")


def test_raw_utf8_in_from_and_subject_is_read_as_utf8() -> None:
    mail = inbound.read(_eight_bit("Zoë Müller <zoe@example.org>".encode(),
                                   "Réclamation über Zahlung".encode()), settings())
    assert (mail.sender, mail.sender_name, mail.subject) == (
        "zoe@example.org", "Zoë Müller", "Réclamation über Zahlung")
    assert mail.text == "Meine Zahlung wurde zweimal abgebucht."


def test_raw_8bit_that_is_not_utf8_is_read_as_windows_1252() -> None:
    # Outlook on Windows writing its ANSI code page unannounced: é, “ ” and €
    mail = inbound.read(_eight_bit(b"Ren\xe9e <renee@example.org>",
                                   b"R\xe9clamation \x93Abo\x94 80 \x80"), settings())
    assert (mail.sender_name, mail.subject) == ("Renée", "Réclamation “Abo” 80 €")
    latin1 = inbound.read(_eight_bit(b"x <x@example.org>", b"caf\xe9 \x81"), settings())
    assert latin1.subject == "café \ufffd"  # 0x81 is no cp1252 letter: a control, shown


def test_raw_utf8_beside_encoded_words_and_in_a_file_name() -> None:
    raw = _eight_bit("Zoë =?utf-8?q?M=C3=BCller?= <zoe@example.org>".encode(),
                     "Réclamation =?iso-8859-1?q?=FCber_?= =?utf-8?b?WmFobHVuZw==?=".encode())
    # the space between two encoded words is not text (RFC 2047 §6.2); "_" is
    raw = raw.replace(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-"
                      b"Encoding: 8bit\r\n\r\nMeine Zahlung wurde zweimal abgebucht.\r\n",
                      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
                      "text/plain; charset=utf-8\r\n\r\nAnbei.\r\n--b\r\nContent-Type: "
                      "application/pdf\r\nContent-Disposition: attachment; "
                      "filename=\"März.pdf\"\r\n\r\n%PDF\r\n--b--\r\n".encode())
    mail = inbound.read(raw, settings())
    assert (mail.sender_name, mail.subject) == ("Zoë Müller", "Réclamation über Zahlung")
    assert [a.name for a in mail.attachments] == ["März.pdf"]


def test_an_encoded_word_whose_bytes_are_not_its_charset_is_not_lost() -> None:
    raw = b"From: Lena <lena@example.com>\r\nSubject: =?utf-8?q?caf=E9?=\r\n\r\nhi"
    assert inbound.read(raw, settings()).subject == "café"  # Latin-1 bytes said UTF-8
