"""Issue 13, point 4: what a real mail client's reply said, without the quoted history
and the signature. Each message is a real client's (tests/fixtures/mail/README.md);
each of our own rules is shown by the real message that needs it, next to what the
kept libraries alone make of it."""

from __future__ import annotations

import email
import email.policy

import pytest

from adapters.email import inbound
from adapters.email.quotes import html_to_text, library_reply, reply_text
from tests.support.mail import fixture, settings

REPLIES = {  # fixture: what its writer wrote this time
    "talon_gmail.eml": "Hello",  # Gmail: text and HTML, "On … wrote:" and a quote
    "talon_outlook.eml": "Hello",  # Outlook: "From: … Sent: …" header block
    "talon_apple_mail.eml": "Hello",  # Apple Mail, ISO-8859-1
    "talon_thunderbird.eml": "Hello",  # Thunderbird, answer below the quote
    "talon_android.eml": "Hello",  # Gmail for Android in Russian
    "discourse_big5.eml": "媽！我上電視了！",  # Big5 charset, base64
    "discourse_html_only.eml": ("The EC2 instance - I've seen that there tends to be odd "
                                "and unrecommended settings on the Bitnami installs that "
                                "I've checked out."),  # BlackBerry, HTML only
}


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_a_real_clients_reply_keeps_only_what_was_written(name: str) -> None:
    mail = inbound.read(fixture(name), settings())
    assert mail.text == REPLIES[name]


def _plain(name: str) -> str:
    message = email.message_from_bytes(fixture(name), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_our_rule_for_an_attribution_in_a_language_the_library_does_not_know() -> None:
    text = _plain("talon_android.eml")
    assert "написал:" in library_reply(text)  # Russian: mail-parser-reply keeps the quote
    assert reply_text(text, None) == "Hello"


def test_our_rule_for_an_answer_written_below_the_quote() -> None:
    text = _plain("talon_thunderbird.eml")
    assert library_reply(text).startswith("> Hi")  # bottom-posting: the quote is kept
    assert reply_text(text, None) == "Hello"


def test_an_inline_answer_keeps_the_question_it_answers() -> None:
    text = "> Which order?\nNumber 77.\n> And the card?\nThe Visa one.\n\nLena"
    assert reply_text(text, None) == text


def test_a_reply_that_only_quotes_says_nothing_new() -> None:
    assert reply_text("On Mon, Apr 2, 2012 at 6:26 PM, Sam wrote:\n> Hi\n", None) == ""


def test_html_becomes_readable_text() -> None:
    html = ("<html><head><style>p{color:red}</style><title>x</title></head><body>"
            "<p>First   line<br>second &amp; last</p><div>Next</div>"
            "<blockquote>quoted<br>twice</blockquote><script>alert(1)</script></body>")
    assert html_to_text(html) == "First line\nsecond & last\nNext\n> quoted\n> twice"


def test_broken_html_never_raises() -> None:
    assert html_to_text("<p>unclosed <b>bold <div><<>>&#xZZ; text") .startswith("unclosed")


def test_signatures_go_and_lists_stay() -> None:
    assert reply_text("Thanks, that fixed it.\n\n-- \nLena Berg\nAcme Corp", None) == \
        "Thanks, that fixed it."
    assert reply_text("I tried:\n- a restart\n- a new card\n\nSent from my iPhone",
                      None) == "I tried:\n- a restart\n- a new card"


def test_ordinary_lines_are_not_taken_for_signature_words() -> None:
    # mail-parser-reply's Swedish "/<word>", Danish "Tak", Japanese empty word list
    text = "/ticket note 1 secret\n/ticket priority 1 urgent\nTake the Visa one.\nKh 4"
    assert reply_text(text, None) == text
    assert reply_text("Danke!\n\nMit freundlichen Grüßen\nLena", None) == "Danke!"


SIGN_OFF_WITH_TEXT = [  # a line that begins with a sign-off phrase and goes on: text
    "The fix works on my laptop.\nThanks, but on my phone it still fails.\n"
    "Error code 42 appears.",
    "It works now.\nBest regards, but one more thing: error 42.\nLine after.",
    "good\nThanks, works now!",
]


@pytest.mark.parametrize("text", SIGN_OFF_WITH_TEXT)
def test_our_rule_for_a_sign_off_phrase_that_goes_on_with_text(text: str) -> None:
    assert library_reply(text, sign_off_rule=False) == text.split("\n")[0]  # the library cuts
    assert reply_text(text, None) == text


def test_a_sign_off_phrase_alone_still_starts_the_signature() -> None:
    for closing in ("Thanks,", "Thanks, ", "Best regards", "Best regards,", "Thank you,",
                    "Regards,", "Mit freundlichen Grüßen / Best regards,"):
        assert reply_text(f"It works.\n{closing}\nLena Berg\nAcme Corp", None) == "It works."
    text = ("Works.\nThanks, but the phone still fails.\nError 42.\n\nBest regards,\n"
            "Lena Berg")
    assert reply_text(text, None) == "Works.\nThanks, but the phone still fails.\nError 42."
