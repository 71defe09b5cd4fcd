"""Which characters may be shown raw (PRODUCT.md §8, TESTING.md "hostile text"): the one
rule used by input validation and by the configuration's own names."""

from __future__ import annotations

import unicodedata

# Bidirectional overrides/isolates can disguise text (TESTING.md, "hostile text").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Format characters that are part of writing itself: emoji sequences (ZWJ) and scripts
# such as Persian (ZWNJ). Every other Cf character is refused in a one-line field.
JOINERS = frozenset("\u200c\u200d\u200e\u200f")  # ZWNJ, ZWJ, LRM, RLM


def is_control(ch: str) -> bool:
    """A character that must never reach a terminal or chat raw: controls (Cc), format
    characters (Cf, the joiners aside), line/paragraph separators, surrogates, and the
    bidirectional overrides."""
    kind = unicodedata.category(ch)
    return (kind in ("Cc", "Zl", "Zp", "Cs") or ch in BIDI_CONTROLS
            or (kind == "Cf" and ch not in JOINERS))


def first_control(text: str) -> str | None:
    """The first character of ``text`` that ``is_control``, if any."""
    return next((ch for ch in text if is_control(ch)), None)


# What may be trimmed from around text or separate words: spaces, tabs and line breaks.
# str.strip() and str.split() would also take the file/group/record/unit separators
# (U+001C–U+001F), NEL (U+0085) and the line/paragraph separators, which must instead
# be refused by name (PRODUCT.md §8): text is never altered on the way in.
BLANKS = " \t\r\n"


def trim(text: str) -> str:
    """``text`` without surrounding spaces, tabs and line breaks, and nothing else."""
    return text.strip(BLANKS)


def is_separator(ch: str) -> bool:
    """A character that separates words in a command: a blank, or a Unicode space that
    is no control character (U+3000, NBSP…)."""
    return ch in BLANKS or (ch.isspace() and not is_control(ch))
