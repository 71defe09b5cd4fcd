"""``/ticket search`` queries (PRODUCT.md §4): parsed once, here, for every store.

A query is words, ``"a phrase"``, ``-word`` / ``-"a phrase"`` (must not match),
``#N`` (that ticket), a bare number (a word — an order id — and, when it is the only
thing to match, also that ticket) and filters: ``status:`` (a status, or ``open`` /
``closed`` / ``all`` as ``/ticket list`` means them), ``category:`` (key or name),
``priority:``, ``assignee:me|none|NAME``, ``requester:me|NAME``, ``before:`` /
``after:`` (ISO dates, UTC, on the day a ticket was opened: ``before:D`` is opened
before D's midnight, ``after:D`` on D or later). A query of filters alone is
valid; ``status:`` given more than once means any of those statuses, another filter
given twice with two values is refused. ``word:value`` with any other word is searched
as words (``error:404``), unless the word is a filter misspelt and the value one it
takes (``stauts:open``): that is refused naming the filter meant, not answered
"nothing found". Odd input never
raises but ``Invalid`` for an empty query, a bad filter value (naming the filter) or a
misspelt filter: an unclosed quote runs to the end, characters that are neither
letters nor digits only separate words.

Words are compared as the stores' indexes split them (``tokens``): Unicode letters
and digits, lower-cased, accents removed (SQLite FTS5 ``unicode61 remove_diacritics
2``; PostgreSQL ``unaccent`` and punctuation as spaces) — ``cafe`` finds ``café``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from core.config import DeskConfig
from core.errors import Invalid
from core.events import Audience, Event, EventKind
from core.grammar import ticket_number
from core.identity import UserRef
from core.tickets import ACTIVE, DONE, PRIORITIES, Status
from core.validation import shown

QUOTES = '"\u201c\u201d'
FILTERS = ("status", "category", "priority", "assignee", "requester", "before", "after")
STATUS_SCOPES: dict[str, frozenset[Status] | None] = {
    "open": ACTIVE, "closed": DONE, "all": None}
# Public events whose text is for agents only: the payload's INTERNAL_FIELDS (a hold's or
# an escalation's reason) and a rating's comment. Migration 0007 names the same kinds.
AGENT_TEXT_KINDS = frozenset({EventKind.HELD, EventKind.ESCALATED, EventKind.RATED})
_FILTER = re.compile(r"(?i)(" + "|".join(FILTERS) + r"):(.*)", re.S)
_NUMBER = re.compile(r"\d{1,9}")
_KEYED = re.compile(r"([A-Za-z]{3,12}):\S")  # a ``word:value`` that may be a filter misspelt
_ASCII_WORD = re.compile(r"[a-z0-9]+")  # ASCII's letters and digits (categories L, N)


def tokens(text: str) -> tuple[str, ...]:
    """``text``'s words as the search index holds them: runs of letters and digits
    (Unicode categories L, N and private use), accents removed, case folded."""
    if text.isascii():  # most text: the same words, found by one regular expression
        return tuple(_ASCII_WORD.findall(text.lower()))
    return folded_tokens(text)


def folded_tokens(text: str) -> tuple[str, ...]:
    """``tokens`` for any text: decomposed, marks dropped, case folded, split by the
    Unicode category of each character."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    out, word = [], []
    for ch in plain.casefold():
        if unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Co":
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return tuple(out)


def public_text(event: Event) -> bool:
    """Whether ``event``'s text is indexed for everyone (else for agents only)."""
    return event.audience is Audience.PUBLIC and event.kind not in AGENT_TEXT_KINDS


@dataclass(frozen=True, slots=True)
class Term:
    """A word (one token) or a phrase (several, in order); ``negated``: must not match."""

    words: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """A ``requester:``/``assignee:`` filter: ``key`` (``me``: the viewer's storage key)
    or ``name`` (compared case-insensitively with the stored display name or user id);
    neither: ``assignee:none``."""

    key: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search. ``numbers``: ``#N`` (any of them); ``bare_number``: the query's
    only word is this number, so ticket N itself is a hit too. Times are UTC."""

    terms: tuple[Term, ...] = ()
    numbers: tuple[int, ...] = ()
    bare_number: int | None = None
    statuses: frozenset[Status] | None = None
    category: str | None = None
    priority: str | None = None
    assignee: Person | None = None
    requester: Person | None = None
    before: datetime | None = None
    after: datetime | None = None

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def negative(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negated)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """``text`` split into (piece, quoted): whitespace separates pieces outside quotes;
    a quote opens a phrase running to the next quote or the end; ``-`` or ``key:``
    right before a quote belongs to it."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in QUOTES:
            j += 1
        if j < n and text[j] in QUOTES:
            end = next((k for k in range(j + 1, n) if text[k] in QUOTES), n)
            out.append((text[i:j] + text[j + 1:end], True))
            i = end + 1
        else:
            out.append((text[i:j], False))
            i = j
    return out


def parse(text: str, config: DeskConfig, viewer: UserRef) -> SearchQuery:
    """The query in ``text`` for ``viewer``. Raises ``Invalid("search", …)`` when it
    holds nothing to look for, ``Invalid(<filter>, …)`` for a bad filter value."""
    terms: list[Term] = []
    numbers: list[int] = []
    found: dict[str, object] = {}
    for piece, quoted in _pieces(text):
        matched = _FILTER.fullmatch(piece)
        if matched:
            key, value = matched.group(1).lower(), matched.group(2).strip()
            _add_filter(found, key, _filter(key, value, config, viewer))
            continue
        _misspelt_filter(piece, quoted, config, viewer)
        negated = piece.startswith("-") and len(piece) > 1
        body = piece[1:] if negated else piece
        if re.fullmatch(r"#\d+", body) and not quoted and not negated:
            # ``#0`` or ten digits: refused for the reason ``show`` gives, not "nothing found"
            numbers.append(ticket_number(body, "search"))
            continue
        words = tokens(body)
        if words:
            terms.append(Term(words, negated))
    if not terms and not numbers and not found:
        if text.strip():  # 🎉, "?!": something was typed, but no letter or digit
            raise Invalid("search", f"{shown(text.strip())} has no words to search for; "
                          'type letters or digits, a "phrase", #N or a filter such as '
                          "status:open")
        raise Invalid("search", 'type some words, a "phrase", #N or a filter such as '
                                "status:open")
    positive = [t for t in terms if not t.negated]
    bare = (int(positive[0].words[0]) if len(positive) == 1 and len(positive[0].words) == 1
            and _NUMBER.fullmatch(positive[0].words[0]) and not numbers else None)
    return SearchQuery(tuple(terms), tuple(numbers), bare, **found)  # type: ignore[arg-type]


def _misspelt_filter(piece: str, quoted: bool, config: DeskConfig, viewer: UserRef) -> None:
    """Raise ``Invalid("search", …)`` when ``piece`` is ``word:value``, the word is close
    to a filter's name (``stauts:``, ``categroy:``) and the value is one that filter
    takes (``open``; for ``assignee:``/``requester:``, ``me`` or ``none``): the person
    meant the filter, and searching the words would answer "nothing found" for the wrong
    reason. ``stats:page``, ``request:REQ-123``, ``later:tonight`` stay words."""
    keyed = None if quoted else _KEYED.match(piece)  # "stauts:open" quoted is a phrase
    if keyed is None:
        return
    word, value = keyed.group(1).lower(), piece[len(keyed.group(1)) + 1:]
    meant = difflib.get_close_matches(word, FILTERS, n=1, cutoff=0.75)
    if not meant or meant[0] == word:
        return
    if meant[0] in ("assignee", "requester"):
        fits = value.lower() in ("me", "none")  # any other value is a name: any word
    else:
        try:
            _filter(meant[0], value, config, viewer)
            fits = True
        except Invalid:
            fits = False
    if fits:
        raise Invalid("search", f"{shown(keyed.group(1) + ':')} is not a filter; did you "
                      f"mean {meant[0]}:? To search the words, put them in quotes.")


def _add_filter(found: dict[str, object], key: str, value: object) -> None:
    """``value`` of filter ``key`` into ``found``: several ``status:`` filters mean any of
    those statuses (``status:waiting status:on_hold``); any other filter given twice with two
    values is refused, not silently replaced by the last (Zendesk ORs a repeated status
    too)."""
    if key == "status":
        so_far = found.get("statuses", frozenset())
        # the scope ``all`` is None: any status
        found["statuses"] = (None if value is None or ("statuses" in found and so_far is None)
                             else so_far | value)  # type: ignore[operator]
        return
    if key in found and found[key] != value:
        raise Invalid(key, f"say {key}: once" + (
            "" if key in ("before", "after") else f"; a ticket has one {key}"))
    found[key] = value


def _filter(key: str, value: str, config: DeskConfig, viewer: UserRef) -> object:
    if not value:
        raise Invalid(key, f"say a value after {key}:")
    lowered = value.casefold()
    if key == "status":
        if lowered in STATUS_SCOPES:
            return STATUS_SCOPES[lowered]
        wanted = lowered.replace("-", "_").replace(" ", "_")
        if wanted not in {s.value for s in Status}:
            raise Invalid(key, f"{shown(value)} is not a status; say open, closed or all "
                          "(as /ticket list means them), or one status: "
                          + ", ".join(s.value for s in Status))
        return frozenset({Status(wanted)})
    if key == "category":
        category = config.category(value)
        if category is None:
            raise Invalid(key, f"{shown(value)} is not a category; say one of "
                          + ", ".join(c.key for c in config.categories))
        return category.key
    if key == "priority":
        if lowered not in PRIORITIES:
            raise Invalid(key, f"{shown(value)} is not a priority; say one of "
                          + ", ".join(PRIORITIES))
        return lowered
    if key in ("assignee", "requester"):
        if lowered == "me":
            return Person(key=viewer.key)
        if lowered == "none" and key == "assignee":
            return Person()
        return Person(name=value.removeprefix("@").casefold())
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(key, f"{shown(value)} is not a date; write it as 2026-12-31") from None
    return datetime.combine(day, time(), tzinfo=UTC)  # before: exclusive; after: inclusive


SNIPPET_BEFORE, SNIPPET_AFTER = 6, 8  # words around the first match


def snippet(texts: Iterable[str], terms: tuple[Term, ...]) -> str | None:
    """A few words of the first of ``texts`` that holds a word of ``terms``, around
    its first occurrence, on one line (``…`` where cut); None if none holds one."""
    wanted = {word for term in terms for word in term.words}
    for text in texts:
        at = _first_chunk(text, wanted)
        if at is not None:
            chunks = text.split()
            start, end = max(0, at - SNIPPET_BEFORE), min(len(chunks), at + SNIPPET_AFTER)
            return (("… " if start else "") + " ".join(chunks[start:end])
                    + (" …" if end < len(chunks) else ""))
    return None


def _first_chunk(text: str, wanted: set[str]) -> int | None:
    """The index in ``text.split()`` of the first chunk holding a word of ``wanted``."""
    if text.isascii():  # the word's offset, then the chunks before it: one pass each
        for found in _ASCII_WORD.finditer(text.lower()):
            if found.group() in wanted:
                before = text[: found.start()].split()
                mid_chunk = found.start() > 0 and not text[found.start() - 1].isspace()
                return len(before) - 1 if mid_chunk else len(before)
        return None
    if not wanted.intersection(tokens(text)):
        return None
    return next(i for i, chunk in enumerate(text.split())
                if wanted.intersection(tokens(chunk)))


def person_matches(person: Person, key: str | None, name: str | None) -> bool:
    """Whether a ticket's requester/assignee (``key``, ``name``) is ``person``."""
    if person.key is None and person.name is None:
        return key is None
    if key is None:
        return False
    if person.key is not None:
        return key == person.key
    return person.name in ((name or "").casefold(), key.rsplit(":", 1)[-1].casefold())

