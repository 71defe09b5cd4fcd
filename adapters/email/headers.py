"""Header text as its sender meant it: RFC 2047 encoded words in any charset, and raw
8-bit bytes — RFC 6532 (SMTPUTF8) mail, or a client that never encoded — read as UTF-8,
else Windows-1252, never silently as U+FFFD (README "Connect e-mail").

``email.message_from_bytes`` (policy compat32) keeps 8-bit header bytes as surrogate
escapes, and ``Message.get`` hands such a header out as an "unknown-8bit" ``Header``
whose ``str`` is U+FFFD for every byte ("Zo�� M��ller"); ``repair`` writes the decoded
text back in its place, so every later reading of the header gets letters.
"""

from __future__ import annotations

import codecs
import email.errors
import re
from email.header import decode_header, make_header
from email.message import Message

# A run of RFC 2047 encoded words (printable ASCII), decoded together so the whitespace
# between them goes (RFC 2047 §6.2) and a character split across two words survives.
_WORD = r"=\?[!->@-~]+\?[bBqQ]\?[!->@-~]*\?="
_WORDS = re.compile(rf"{_WORD}(?:\s+{_WORD})*")


def text_of(raw: bytes) -> str:
    """8-bit header bytes as text: UTF-8 (RFC 6532), else Windows-1252 (what a client
    writing 8-bit unannounced almost always meant), else Latin-1 (every byte is one)."""
    for codec in ("utf-8", "cp1252"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def unescaped(value: str) -> str:
    """A header ``value`` as the parser stored it, its surrogate-escaped 8-bit bytes
    decoded by ``text_of``; text without them is returned as it is."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return text_of(value.encode("utf-8", "surrogateescape"))


def repair(message: Message) -> None:
    """Decode, in place, the 8-bit bytes in ``message``'s own headers (not its parts'),
    keeping the headers' order."""
    items = list(message.raw_items())
    if all(unescaped(value) is value for _, value in items):
        return
    for name in {name.lower() for name, _ in items}:
        del message[name]
    for name, value in items:
        message.set_raw(name, unescaped(value))


def words(value: str) -> str:
    """``value`` with its RFC 2047 encoded words decoded; a word in an unknown charset,
    or whose bytes are not in its charset, is read as ``text_of`` reads 8-bit bytes.
    Never raises."""
    if value.isascii():
        return _decoded(value)
    # the standard library cannot mix encoded words with non-ASCII text: each run alone
    return _WORDS.sub(lambda run: _decoded(run.group(0)), value)


def text(message: Message, name: str) -> str:
    """The first ``name`` header of ``message``, decoded (8-bit bytes and encoded words);
    "" when it has none."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return words(unescaped(str(value)))
    return ""


def _decoded(value: str) -> str:
    try:
        chunks = decode_header(value)
    except email.errors.HeaderParseError:
        return value
    try:
        return str(make_header(chunks))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return "".join(chunk if isinstance(chunk, str) else _in_charset(chunk, charset)
                       for chunk, charset in chunks)


def _in_charset(chunk: bytes, charset: str | None) -> str:
    try:
        return chunk.decode(codecs.lookup(charset or "us-ascii").name)
    except (LookupError, UnicodeDecodeError):
        return text_of(chunk)
