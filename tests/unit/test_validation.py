"""Issue 9 point 7: one-line fields refuse every control character; errors never echo one."""

from __future__ import annotations

import pytest

from core.config import DeskConfig
from core.errors import Invalid
from core.validation import clean_category, clean_priority, clean_text, shown


def one_line(value: str) -> str:
    return clean_text("subject", value, max_length=140, multiline=False)


def many_lines(value: str) -> str:
    return clean_text("description", value, max_length=4000, multiline=True)


@pytest.mark.parametrize("ch", ["\t", "\x07", "\x1b", "\x7f", "\x85", "\u200b", "\u2060",
                                "\ufeff", "\u00ad", "\U000e0001"])
def test_a_one_line_field_refuses_tabs_and_every_control_or_format_character(ch: str) -> None:
    with pytest.raises(Invalid) as caught:
        one_line(f"bad{ch}subject")
    assert caught.value.field == "subject"
    assert f"U+{ord(ch):04X}" in caught.value.reason and ch not in caught.value.message


@pytest.mark.parametrize("ch", ["\u2028", "\u2029", "\n", "\r"])
def test_a_one_line_field_refuses_line_and_paragraph_separators(ch: str) -> None:
    with pytest.raises(Invalid, match="single line"):
        one_line(f"two{ch}lines")


def test_multiline_keeps_line_breaks_and_tabs_but_not_other_controls() -> None:
    assert many_lines("a\tb\r\nc\nd") == "a\tb\nc\nd"
    with pytest.raises(Invalid, match="U\\+0007"):
        many_lines("ring\x07")


def test_joiners_are_writing_not_control() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert one_line(f"Emoji {family} and \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645") \
        .startswith("Emoji")


def test_shown_escapes_controls_and_cuts_long_values() -> None:
    assert shown("a\x07b\u202ec") == "'a\\u0007b\\u202ec'"
    assert shown("x" * 50) == "'" + "x" * 40 + "…'"


def test_an_unknown_category_is_named_with_its_controls_escaped() -> None:
    config = DeskConfig()
    with pytest.raises(Invalid) as caught:
        clean_category(config, "ref\x1b[31mund")
    assert "\x1b" not in caught.value.message and "\\u001b" in caught.value.message


# ---- issue 10, point 7: nothing is altered on the way in ---------------------------

@pytest.mark.parametrize("ch", ["\x1c", "\x1d", "\x1e", "\x1f", "\x85"])
@pytest.mark.parametrize("where", ["{}Subject", "Subject{}", "Sub{}ject"])
def test_controls_that_strip_would_remove_are_refused_wherever_they_are(
        ch: str, where: str) -> None:
    for clean in (one_line, many_lines):
        with pytest.raises(Invalid) as caught:
            clean(where.format(ch))
        assert f"U+{ord(ch):04X}" in caught.value.reason


@pytest.mark.parametrize("ch", ["\u2028", "\u2029"])
@pytest.mark.parametrize("where", ["{}Subject", "Subject{}", "Sub{}ject"])
def test_a_one_line_field_refuses_separators_at_its_ends_too(ch: str, where: str) -> None:
    with pytest.raises(Invalid, match="single line"):
        one_line(where.format(ch))


def test_multiline_text_keeps_its_separators_and_unusual_spaces() -> None:
    text = "\u00a0first\u2028second\u2029third\u3000"
    assert many_lines(text) == text, "stored exactly as written"
    assert one_line("\u00a0Subject\u3000") == "\u00a0Subject\u3000"
    assert one_line("  Subject  ") == "Subject", "surrounding spaces are not content"


def test_an_invisible_formatting_character_is_named_as_such() -> None:
    """U+00AD (soft hyphen) is a format character (Cf), not a control character."""
    with pytest.raises(Invalid) as refused:
        clean_text("subject", "soft\u00adhyphen", max_length=100, multiline=False)
    assert str(refused.value) == (
        "subject: contains an invisible formatting character (U+00AD)")


def test_priority_not_given_is_normal_but_given_empty_is_refused() -> None:
    assert clean_priority(None) == "normal"
    assert clean_priority(" High ") == "high"
    for empty in ("", "   "):
        with pytest.raises(Invalid, match="priority: is empty; say one of low, normal"):
            clean_priority(empty)
