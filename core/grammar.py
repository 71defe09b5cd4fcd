"""The ``/ticket …`` text grammar (PRODUCT.md §4), parsed once for every platform.

``parse(text, thread=…)`` turns what someone typed after ``/ticket`` into a command
of ``core.commands`` (a mutation) or one of the small read requests below. It is
pure: it knows no desk, store or platform, and refuses bad input with
``Invalid(field, why)`` naming the argument (``number``, ``priority``, ``text``…),
which every adapter already renders. The rules:

- Outside a thread the first argument names the ticket: ``N`` or ``#N`` (1 to 9
  ASCII digits, not 0). Inside a ticket's thread a command acts on that ticket
  unless its first argument is ``#N``; commands that take text read every other word
  as their text (``reply 2 weeks is usual`` in #1 replies on #1) — but a first word
  that is the thread's own number, with text after it, names the ticket as it would
  outside (``reply 1 thanks`` in #1 replies "thanks"); commands without
  text accept at most ``#N`` or the thread's own number.
- Words left over are refused, never ignored.
- Arguments may be quoted (``"a phrase"``, ``'it'``), shlex-like: a quote opens at the
  start of a word or right after ``key=``, so an apostrophe inside a word is just a
  letter; a quote left open is refused. Free text (a reply, a reason) is taken exactly
  as written, quotes and all.
- ``new``: ``for:NAME`` / ``for:@user`` only as its first word; ``key=value`` form
  fields (keys in any case; an unknown key, one given twice, an empty value —
  ``account=`` — or a share/visibility that is neither is refused naming the key as
  typed, ``core.form_fields``); the other words are the subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core import commands as cmd
from core.errors import Invalid
from core.form_fields import NewForm as NewForm  # a request of this grammar
from core.form_fields import read_new
from core.tickets import PRIORITIES, LinkKind
from core.validation import SHOWN_MAX, shown
from core.words import DOUBLE_QUOTES, Words

NUMBER_DIGITS_MAX = 9
_NUMBER = re.compile(r"#?([0-9]+)", re.ASCII)
LIST_SCOPES = ("open", "closed", "all")
STATS_PERIODS = ("7d", "30d", "90d")
LINK_KINDS = (LinkKind.RELATED, LinkKind.DUPLICATE_OF)


# ---- read requests (mutations are core.commands types) --------------------------

@dataclass(frozen=True, slots=True)
class ListTickets:
    scope: str = "open"
    mine: bool = False
    org: bool = False
    unread: bool = False
    page: int = 1

    def nothing(self) -> str:
        """What an empty answer says, naming every filter asked for ("No unread open
        tickets of yours."), so it is never read as "there are none at all"."""
        if self.page > 1:
            return f"No tickets on page {self.page}."
        words = [w for w in ("unread" if self.unread else "",
                             "" if self.scope == "all" else self.scope) if w]
        whose = " of yours" if self.mine else " in your organisation" if self.org else ""
        return f"No {' '.join([*words, 'tickets'])}{whose}."

    def words(self, page: int) -> str:
        """This listing's ``/ticket`` words for ``page``: what a "more" control carries
        (``parse_listing`` reads them back)."""
        flags = [w for w, on in (("mine", self.mine), ("org", self.org),
                                 ("unread", self.unread)) if on]
        return " ".join(["list", self.scope, *flags, "page", str(page)])


@dataclass(frozen=True, slots=True)
class Show:
    number: int


@dataclass(frozen=True, slots=True)
class Transcript:
    number: int


@dataclass(frozen=True, slots=True)
class Search:
    """The query as typed (words, ``"a phrase"``, ``-word``, ``#N``); the desk reads it.
    A trailing ``page N`` (outside quotes) is the page, not words to look for."""

    text: str
    page: int = 1

    def words(self, page: int) -> str:
        """``/ticket search <text> page N``: what a "more" control carries."""
        return f"search {self.text} page {page}"


@dataclass(frozen=True, slots=True)
class Queue:
    page: int = 1

    def words(self, page: int) -> str:
        """``/ticket queue page N``: what a "more" control carries."""
        return f"queue page {page}"


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Stats:
    period: str = "30d"


@dataclass(frozen=True, slots=True)
class AssignTo:
    """``assign N NAME``: the adapter knows who ``assignee`` (as typed: a name, ``@name``
    or a platform mention) is and runs ``commands.Assign`` with that actor."""

    number: int
    assignee: str


@dataclass(frozen=True, slots=True)
class CcTo:
    """``cc N WHO`` / ``uncc N WHO`` (``remove``): the adapter knows who ``who`` (as
    typed: a platform mention, ``@name`` or an e-mail address) is and runs
    ``commands.AddWatcher`` / ``RemoveWatcher`` with that person."""

    number: int
    who: str
    remove: bool = False


Request = (NewForm | ListTickets | Show | Transcript | Search | Queue | Help | Stats
           | AssignTo | CcTo)
Mutation = (cmd.Reply | cmd.Note | cmd.Claim | cmd.Unassign | cmd.RequestInfo | cmd.Hold
            | cmd.Resume | cmd.Resolve | cmd.Close | cmd.Reopen | cmd.SetPriority
            | cmd.Escalate | cmd.Link | cmd.AskClose | cmd.KeepOpen | cmd.Rate | cmd.Watch
            | cmd.Unwatch | cmd.SetVisibility)
Parsed = Request | Mutation

# Commands whose ticket is all they take, and those that read the rest as text.
_BARE: dict[str, Callable[[int], Parsed]] = {
    "show": Show, "transcript": Transcript, "claim": cmd.Claim, "unassign": cmd.Unassign,
    "resume": cmd.Resume, "reopen": cmd.Reopen, "keep-open": cmd.KeepOpen,
    "watch": cmd.Watch, "unwatch": cmd.Unwatch,
    "share": lambda n: cmd.SetVisibility(n, "shared"),
    "unshare": lambda n: cmd.SetVisibility(n, "private")}
_TEXT: dict[str, Callable[[int, str], Parsed]] = {
    "reply": cmd.Reply, "note": cmd.Note, "wait": cmd.RequestInfo, "hold": cmd.Hold,
    "resolve": cmd.Resolve, "escalate": cmd.Escalate}
RATINGS = ("good", "bad")  # core.tickets.Rating
COMMANDS = ("new", "list", "show", "search", "queue", "transcript", "help", "stats",
            "reply", "note", "claim", "assign", "unassign", "wait", "hold", "resume",
            "priority", "escalate", "resolve", "close", "reopen", "link", "ask-close",
            "keep-open", "rate", "watch", "unwatch", "cc", "uncc", "share", "unshare")


# ---- ticket numbers ---------------------------------------------------------------

def ticket_number(word: str, field: str = "number") -> int:
    """``42`` / ``#42`` → 42. Anything else — a sign, letters, another base, 0, more than
    nine digits — raises ``Invalid(field, …)``."""
    match = _NUMBER.fullmatch(word)
    if not match:
        raise Invalid(field, f"{shown(word)} is not a ticket number; write it like 12 or #12")
    digits = match.group(1)
    if len(digits) > NUMBER_DIGITS_MAX:
        raise Invalid(field, f"{shown(word)} is too long for a ticket number "
                      f"(at most {NUMBER_DIGITS_MAX} digits)")
    number = int(digits)
    if number == 0:
        raise Invalid(field, "tickets are numbered from 1")
    return number


def _looks_numbered(word: str) -> bool:
    """A word written where a ticket number goes: digits, ``#…`` or a sign then digits."""
    return bool(re.match(r"[#+-]?[0-9]", word, re.ASCII))


# ---- the parser ---------------------------------------------------------------------

def parse(text: str, *, thread: int | None = None, field_keys: Iterable[str] = ()) -> Parsed:
    """What ``/ticket <text>`` asks. ``thread`` is the ticket whose thread it was typed
    in, if any; ``field_keys`` the category field keys ``new`` accepts besides the
    form's own (``DeskConfig.categories``). Raises ``Invalid`` naming the argument."""
    words = Words(text)
    first = words.next("command")
    if first is None:
        return NewForm()
    sub = first.lower()
    if sub.startswith("for:"):  # "/ticket for:@x …" is "/ticket new for:@x …"
        return read_new(Words(text), field_keys)
    if sub == "new":
        return read_new(words, field_keys)
    if sub in _BARE:
        number = _bare_ticket(words, thread, sub)
        words.done(sub)
        return _BARE[sub](number)
    if sub in _TEXT or sub in ("close", "ask-close"):
        number = _text_ticket(words, thread)
        body = words.rest()
        if sub == "close":
            return cmd.Close(number, body or None)
        if sub == "ask-close":
            return cmd.AskClose(number, body or None)
        return _TEXT[sub](number, body)
    if sub == "rate":
        return _rate(words, thread)
    if sub == "priority":
        number = _argument_ticket(words, thread, sub)
        level = words.next("priority")
        if level is None:
            raise Invalid("priority", f"say which: {', '.join(PRIORITIES)}")
        if level.lower() not in PRIORITIES:
            raise Invalid("priority", f"{shown(level)} is not a priority; say one of "
                          + ", ".join(PRIORITIES))
        words.done(sub)
        return cmd.SetPriority(number, level.lower())
    if sub == "assign":
        number = _argument_ticket(words, thread, sub)
        who = words.next("assignee")
        if not who:
            raise Invalid("assignee", "say who: /ticket assign N NAME")
        words.done(sub)
        return AssignTo(number, who)
    if sub in ("cc", "uncc"):
        number = _argument_ticket(words, thread, sub)
        who = words.next("cc")
        if not who:
            raise Invalid("cc", f"say who: /ticket {sub} N @user or name@example.com")
        words.done(sub)
        return CcTo(number, who, remove=sub == "uncc")
    if sub == "link":
        return _link(words, thread)
    if sub == "list":
        return _list(words)
    if sub == "search":
        query = words.rest()
        if not query:
            raise Invalid("search", 'say what to look for: words, a "phrase" or #N')
        if sum(query.count(q) for q in DOUBLE_QUOTES) % 2:
            raise Invalid("search", "has a quote that is not closed; close it or leave it out")
        paged = SEARCH_PAGE.search(query)  # not "page 2" alone: those are the words
        if paged:
            page = int(paged.group(1))
            if page == 0:
                raise Invalid("page", "say which page, like page 2")
            return Search(query[:paged.start()], page)
        return Search(query)
    if sub == "queue":
        word = words.next(sub)
        if word is not None and word.lower() != "page":
            raise Invalid(sub, f"{shown(word)} is more than /ticket queue takes; say page N")
        page = _page(words) if word is not None else 1
        words.done(sub)
        return Queue(page)
    if sub == "help":
        words.done(sub)
        return Help()
    if sub == "stats":
        period = (words.next("period") or "30d").lower()
        if period not in STATS_PERIODS:
            raise Invalid("period", f"{shown(period)} is not one of {', '.join(STATS_PERIODS)}")
        words.done(sub)
        return Stats(period)
    raise Invalid("command", f"{shown(first)} is not a /ticket command; see /ticket help")


def _bare_ticket(words: Words, thread: int | None, command: str) -> int:
    """The ticket of a command that takes nothing else: ``N``/``#N``; in a thread
    nothing (this ticket), ``#N``, or the thread's own number."""
    word = words.next("number")
    if word is None:
        if thread is None:
            raise Invalid("number", "say which ticket, like 12 or #12 (or use the command "
                          "inside its thread)")
        return thread
    number = ticket_number(word)
    if thread is not None and not word.startswith("#") and number != thread:
        rest = words.rest()  # the hint is the whole command to type, arguments and all
        rest = rest if len(rest) <= SHOWN_MAX and rest.isprintable() else "…"
        raise Invalid("number", f"in #{thread}'s thread write another ticket as #{number} "
                      f"(/ticket {command} #{number}{' ' + rest if rest else ''})")
    return number


def _text_ticket(words: Words, thread: int | None) -> int:
    """The ticket of a command that takes text: outside a thread its first word; in a
    thread ``#N`` names another ticket, anything else is already the text."""
    if thread is None:
        word = words.next("number")
        if word is None:
            raise Invalid("number", "say which ticket, like 12 or #12 (or use the command "
                          "inside its thread)")
        return ticket_number(word)
    word = words.peek("text")
    if word is not None and re.fullmatch(r"#[0-9]+", word, re.ASCII):
        words.next("number")
        return ticket_number(word)
    if word == str(thread) and words.more_after_next():
        # ``reply 12 text`` typed in #12's own thread names #12, as it would outside
        # (and as ``priority 12 high`` does there): its number is not the reply's text.
        words.next("number")
    return thread


def _argument_ticket(words: Words, thread: int | None, command: str) -> int:
    """The ticket of a command with a fixed argument: as for commands without text, but
    in a thread a first word that is not number-like is already the argument."""
    if thread is not None:
        word = words.peek("number")
        if word is None or not _looks_numbered(word):
            return thread
    return _bare_ticket(words, thread, command)


def _link(words: Words, thread: int | None) -> cmd.Link:
    number = _argument_ticket(words, thread, "link")
    kind = words.next("link")
    if kind is None or kind.lower() not in LINK_KINDS:
        what = f"{shown(kind)} is not a link kind; " if kind else ""
        raise Invalid("link", f"{what}say related or duplicate_of: "
                      "/ticket link N related|duplicate_of M")
    # The ticket to link to is refused as ``link`` (the command typed), never by the
    # internal name ``other`` a person never saw.
    other = words.next("link")
    if other is None:
        raise Invalid("link", f"say which ticket #{number} links to, like 12 or #12: "
                      f"/ticket link {number} {kind.lower()} M")
    words.done("link")
    return cmd.Link(number, LinkKind(kind.lower()), ticket_number(other, "link"))


def _rate(words: Words, thread: int | None) -> cmd.Rate:
    """``rate N good|bad [comment]`` (in the ticket's thread ``rate good …``)."""
    number = _argument_ticket(words, thread, "rate")
    rating = words.next("rating")
    if rating is None or rating.lower() not in RATINGS:
        what = f"{shown(rating)} is not a rating; " if rating else ""
        raise Invalid("rating", f"{what}say good or bad: /ticket rate N good|bad [comment]")
    return cmd.Rate(number, rating.lower(), words.rest() or None)


def _list(words: Words) -> ListTickets:
    scope: str | None = None
    flags: set[str] = set()
    page: int | None = None
    choices = "open, closed, all, mine, org, unread, page N"
    while (word := words.next("list")) is not None:
        w = word.lower()
        if w in LIST_SCOPES and scope is None:
            scope = w
        elif w in ("mine", "org", "unread") and w not in flags:
            flags.add(w)
        elif w == "page" and page is None:
            page = _page(words)
        elif w in (*LIST_SCOPES, "mine", "org", "unread", "page"):
            raise Invalid("list", f"{shown(word)} is said twice (or with another of "
                          "open, closed, all)")
        else:
            raise Invalid("list", f"{shown(word)} is not one of {choices}")
    if {"mine", "org"} <= flags:
        raise Invalid("list", "say mine or org, not both")
    return ListTickets(scope or "open", "mine" in flags, "org" in flags, "unread" in flags,
                       page or 1)


SEARCH_PAGE = re.compile(r"\s+page\s+([0-9]{1,9})\s*$", re.ASCII | re.IGNORECASE)


def _page(words: Words) -> int:
    """The number after ``page``: 1 to 999,999,999."""
    value = words.next("page")
    if value is None or not re.fullmatch(r"[0-9]{1,9}", value, re.ASCII) or int(value) == 0:
        raise Invalid("page", "say which page, like page 2")
    return int(value)


def parse_listing(text: str) -> ListTickets | Queue | Search:
    """The words a "more" control carries (``ListTickets.words``, ``Queue.words``,
    ``Search.words``), read back as the request they name. Anything else — a forged
    control naming another command — raises ``Invalid("page", …)``; bad words raise
    what ``parse`` raises."""
    parsed = parse(text)
    if not isinstance(parsed, ListTickets | Queue | Search):
        raise Invalid("page", "this control names no list")
    return parsed
