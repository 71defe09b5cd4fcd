"""What the sender wrote this time: a reply without the quoted history and the signature
(issue 13, point 4).

The kept libraries do the bulk — ``mail-parser-reply`` on text (attribution lines in a
dozen languages, Outlook's ``From:/Sent:`` block, signatures, "Sent from my iPhone"),
``quotequail`` on HTML (Gmail's, Apple Mail's, Outlook's quote markup). Our own rules
run after them, each for real mail they get wrong, each tested with that message
(tests/fixtures/mail, tests/unit/test_email_quotes.py):

- ``_drop_quote_at_end`` — an attribution in a language the library does not know
  ("… пользователь … написал:", Android's Gmail in Russian) above the quoted block at
  the end: fixture ``talon_android.eml``.
- ``_drop_quote_at_start`` — the answer written *below* the quote (bottom-posting,
  Thunderbird): fixture ``talon_thunderbird.eml``.
- ``_without_signature`` — a signature starts at a sign-off line ("Thanks,", "Best
  regards") only when the line is the closing phrase alone; the library cuts at any line
  that *begins* with one, so "Thanks, but on my phone it still fails." and all below it
  were lost. A line that goes on after the phrase is text: it is kept, and the library
  looks for the signature again below it.

A block of ``>`` lines between two parts of the answer (an inline reply) is kept: it
is the question the answer below it is about.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import quotequail
from mailparser_reply import EmailMessage
from mailparser_reply.constants import MAIL_LANGUAGES

# Attribution lines ("On … wrote:") in every language mail-parser-reply knows; signature
# words only in those whose words cannot begin an ordinary line: Japanese has none (an
# empty list that matches every line), Swedish has "/<word>" (a line "/ticket …"),
# Danish "Tak" and "Kh" (a line "Take …").
LANGUAGES = tuple(name for name, words in MAIL_LANGUAGES.items()
                  if isinstance(words, dict) and words.get("wrote_header"))
SIGNATURE_LANGUAGES = tuple(name for name in LANGUAGES if name not in ("ja", "sv", "da"))
_DIGIT = re.compile(r"[0-9]")
ATTRIBUTION_LINES_MAX = 3  # "On <date>, <name> <address> wrote:" wraps over up to 3 lines


def reply_text(plain: str | None, html: str | None) -> str:
    """The new part of a reply: from the text part when there is one, else from the HTML
    part (its quote removed by ``quotequail``, then turned into text). Lines keep their
    breaks; surrounding blank lines are removed. Empty when nothing new was written."""
    if plain is not None and plain.strip():
        text = plain
    elif html is not None and html.strip():
        text = html_to_text(_unquoted_html(html))
    else:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = library_reply(text)
    if not kept.strip():  # the library found nothing new: judge it ourselves
        kept = text
    lines = _drop_quote_at_start(_drop_quote_at_end(kept.split("\n")))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip("\n ")


def library_reply(text: str, *, sign_off_rule: bool = True) -> str:
    """What ``mail-parser-reply`` keeps of ``text``: the newest reply without its
    signature and disclaimers (a list of ``- items`` is not taken for a signature). With
    ``sign_off_rule`` (the default) our rule ``_without_signature`` corrects its cut; the
    library alone with ``sign_off_rule=False``."""
    newest = EmailMessage(text=text, languages=list(LANGUAGES),
                          keep_hyphen_lists=True).read().replies
    if not newest:
        return ""
    return _without_signature(str(newest[0].full_body), sign_off_rule)


# The library's sign-off phrases (regular expressions) in the languages it cuts on.
_SIGN_OFFS = "|".join(word for name in SIGNATURE_LANGUAGES
                      for word in MAIL_LANGUAGES[name].get("signatures", []))
_SIGN_OFF_START = re.compile(rf"(?:> ?)*(?:{_SIGN_OFFS})", re.IGNORECASE)
_SIGN_OFF_ALONE = re.compile(rf"(?:> ?)*(?:{_SIGN_OFFS})[\s,.!;:~-]*", re.IGNORECASE)
_MASK = "\ue000"  # a private-use character: no rule of the library matches it


def _sign_off_with_text(line: str) -> bool:
    """True when ``line`` begins with a sign-off phrase and goes on with more words
    ("Thanks, but it still fails."): text, not the start of a signature."""
    line = line.strip()
    return _SIGN_OFF_START.match(line) is not None and \
        _SIGN_OFF_ALONE.fullmatch(line) is None


def _without_signature(text: str, sign_off_rule: bool) -> str:
    """``text`` without its signature. The library cuts from the first line that begins
    with a sign-off phrase; when that line goes on after the phrase it is hidden from the
    library (a private-use mark in its place) and the library asked again, until its cut
    starts at a real signature or there is none; the hidden lines are then put back."""
    lines = text.split("\n")
    hidden: dict[int, str] = {}
    for _ in range(len(lines) + 1):
        shown = "\n".join(f"{_MASK}{i}{_MASK}" if i in hidden else line
                          for i, line in enumerate(lines))
        signed = EmailMessage(text=shown, languages=list(SIGNATURE_LANGUAGES),
                              keep_hyphen_lists=True).read().replies
        if not signed:
            return ""
        cut = str(signed[0].signatures or "").split("\n", 1)[0]
        at = next((i for i, line in enumerate(lines)
                   if i not in hidden and line.strip() == cut.strip()), None) \
            if sign_off_rule and cut and _sign_off_with_text(cut) else None
        if at is None:
            body = str(signed[0].body)
            for i, line in hidden.items():
                body = body.replace(f"{_MASK}{i}{_MASK}", line.strip())
            return body
        hidden[at] = lines[at]
    return text


def _unquoted_html(html: str) -> str:
    """The HTML before the first quoted part ``quotequail`` finds (all of it if none)."""
    try:
        parts = quotequail.quote_html(html)
    except Exception:  # markup it cannot read: the whole part, turned into text
        return html
    shown: list[str] = []
    for visible, part in parts:
        if not visible:
            break
        shown.append(part)
    return "".join(shown) or html


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _blank(line: str) -> bool:
    return not line.strip()


def _attribution_start(lines: list[str], end: int) -> int | None:
    """The first line of an attribution ("… wrote:") ending at line ``end - 1``, or None
    when that line does not end in a colon. An attribution wrapped over several lines
    starts at the line that holds a date or an address."""
    last = end - 1
    if last < 0 or not lines[last].rstrip().endswith(":"):
        return None
    start = last
    while start > 0 and last - start < ATTRIBUTION_LINES_MAX - 1 \
            and not _DIGIT.search(lines[start]) and not _blank(lines[start - 1]):
        start -= 1
    return start if _DIGIT.search(lines[start]) else last


def _drop_quote_at_end(lines: list[str]) -> list[str]:
    """Our rule for an attribution in a language the library does not know: a quoted
    block that ends the text goes, with the attribution line(s) just above it."""
    end = len(lines)
    while end and _blank(lines[end - 1]):
        end -= 1
    start = end
    while start and (_quoted(lines[start - 1]) or _blank(lines[start - 1])):
        start -= 1
    if start == end or not any(_quoted(line) for line in lines[start:end]):
        return lines
    while start < end and _blank(lines[start]):
        start += 1
    above = start
    while above and _blank(lines[above - 1]):
        above -= 1
    attribution = _attribution_start(lines, above)
    return lines[: attribution if attribution is not None else start]


def _drop_quote_at_start(lines: list[str]) -> list[str]:
    """Our rule for an answer written below the quote: an attribution and a quoted block
    that open the text go, keeping what follows."""
    first = 0
    while first < len(lines) and _blank(lines[first]):
        first += 1
    quote = first
    while quote < len(lines) and not _quoted(lines[quote]) and quote - first < \
            ATTRIBUTION_LINES_MAX:
        quote += 1
    if quote >= len(lines) or not _quoted(lines[quote]):
        return lines
    if quote > first and _attribution_start(lines, quote) != first:
        return lines  # text above the quote is an answer, not an attribution
    after = quote
    while after < len(lines) and (_quoted(lines[after]) or _blank(lines[after])):
        after += 1
    rest = lines[after:]
    if any(_quoted(line) for line in rest):  # quotes further down: an inline answer
        return lines
    return rest


# ---- HTML to text ---------------------------------------------------------------

_BLOCKS = frozenset({"p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4",
                     "h5", "h6", "hr", "pre", "section", "article", "header", "footer",
                     "address", "dd", "dt", "dl", "center"})
_SKIPPED = frozenset({"head", "style", "script", "title", "template", "noscript"})


class _Text(HTMLParser):
    """Text of an HTML part: blocks and ``<br>`` become line breaks, runs of white space
    one space, ``<blockquote>`` lines ``> ``, links their text; nothing else kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.depth = 0  # blockquote nesting
        self.skipping = 0
        self.pre = 0

    def _break(self) -> None:
        if self.lines[-1].strip(" >"):
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.lines.append("")
        elif tag == "blockquote":
            self._break()
            self.depth += 1
        elif tag in _BLOCKS:
            self._break()
            self.pre += tag == "pre"
        elif tag in ("td", "th") and self.lines[-1].strip():
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self._break()
            self.depth = max(0, self.depth - 1)
        elif tag in _BLOCKS:
            self._break()
            self.pre -= tag == "pre" and self.pre > 0

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        chunks = data.split("\n") if self.pre else [re.sub(r"\s+", " ", data)]
        for i, chunk in enumerate(chunks):
            if i:
                self.lines.append("")
            if not self.lines[-1] and self.depth:
                self.lines[-1] = "> " * self.depth
            if not self.lines[-1].strip(" >"):
                chunk = chunk.lstrip()
            self.lines[-1] += chunk


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail body (never raises on bad markup)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "\n".join(line.rstrip() for line in parser.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n ")
