"""Reading ``/ticket`` arguments one word at a time, shlex-like (``core.grammar``'s rules):
a quote opens at the start of a word or right after ``key=``, so an apostrophe inside
a word is a letter; a quote left open is refused naming the field; free text is kept
exactly as typed (``Words.rest``)."""

from __future__ import annotations

import re

from core.characters import is_separator, trim
from core.errors import Invalid
from core.validation import shown

QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d"}  # "…", '…', and typographic “…”
DOUBLE_QUOTES = '"\u201c\u201d'


class Words:
    """The arguments, read one word at a time from ``pos``; ``rest()`` is the raw text
    not read yet, exactly as typed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.raw = ""  # the last word read, exactly as typed

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and is_separator(self.text[self.pos]):
            self.pos += 1

    def peek(self, field: str) -> str | None:
        saved = self.pos
        try:
            return self.next(field)
        finally:
            self.pos = saved

    def next(self, field: str) -> str | None:
        """The next word with its quotes removed, or None at the end. A quote opens at
        the start of a word or right after its first ``=``; inside double quotes ``\\"``
        is a quote and ``\\\\`` a backslash (as in a shell). A quote left open, or one
        closed with no space after it, raises ``Invalid(field)`` (``field`` is the key
        for a ``key="…`` word): nothing typed is ever silently dropped or joined."""
        self._skip_space()
        text, i = self.text, self.pos
        if i >= len(text):
            return None
        out: list[str] = []
        start = i
        while i < len(text) and not is_separator(text[i]):
            ch = text[i]
            at_value = i == start or (ch in QUOTES and text[start:i].count("=") == 1
                                      and text[i - 1] == "=")
            if ch in QUOTES and at_value:
                key = text[start:i - 1] if i > start else ""
                name = key.lower() if key and is_key(key) else field
                value, close = _quoted(text, i)
                # `subject="a description="b"`: the quote that seems to close the first
                # value opens the next key's, so the first was never closed.
                if close < 0 or _OPENS_NEXT_VALUE.search(text, i + 1, close + 1):
                    raise Invalid(name, "has a quote that is not closed; close it or "
                                  "leave it out")
                if close + 1 < len(text) and not is_separator(text[close + 1]):
                    raise Invalid(name, "needs a space after its closing quote")
                out.append(value)
                i = close + 1
                continue
            out.append(ch)
            i += 1
        self.raw = text[start:i]
        self.pos = i
        return "".join(out)

    def more_after_next(self) -> bool:
        """Whether anything but space follows the next word (read nothing)."""
        saved = self.pos
        try:
            self.next("text")
            return bool(self.rest())
        finally:
            self.pos = saved

    def rest(self) -> str:
        self._skip_space()
        return trim(self.text[self.pos:])

    def done(self, command: str) -> None:
        """Refuses a word left over (PRODUCT.md §4: never ignored)."""
        word = self.next(command)
        if word is not None:
            raise Invalid(command, f"{shown(word)} is more than /ticket {command} takes; "
                          "see /ticket help")


def _quoted(text: str, at: int) -> tuple[str, int]:
    """The value of the quote opening at ``text[at]`` and the index of its closing
    quote (-1: never closed). Only double quotes take ``\\"`` and ``\\\\`` escapes."""
    close_with = QUOTES[text[at]]
    escapes = text[at] == '"'
    value: list[str] = []
    i = at + 1
    while i < len(text) and text[i] != close_with:
        if escapes and text[i] == "\\" and text[i + 1:i + 2] in ('"', "\\"):
            i += 1
        value.append(text[i])
        i += 1
    return "".join(value), (i if i < len(text) else -1)


_OPENS_NEXT_VALUE = re.compile(r"\s[A-Za-z][A-Za-z0-9_]*=.$", re.ASCII)


def is_key(word: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", word, re.ASCII))
