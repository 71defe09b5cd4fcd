"""The transcript as Markdown (CommonMark / GitHub-flavoured): the same header and
history as the HTML page.

User text is escaped where it would change the document's structure: inline markup
characters (`` \\ ` * _ [ ] < > & | ~ ``) get a backslash everywhere, and what only
counts at the start of a line (``#``, ``>``, ``-``, ``+``, ``=``, ``1.``, indentation)
is neutralised there; a message's lines stay lines (hard breaks) inside a quote, so
nothing a person wrote can become a heading, a list, a link, raw HTML or a code block.
"""

from __future__ import annotations

import re

from core.transcripts.history import Entry, Fact, iso, safe_url, size_text
from core.views import TicketView

_INLINE = re.compile(r"([\\`*_\[\]<>&|~])")
_BLOCK_START = re.compile(r"^([#>+=-])")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")
_INDENT = re.compile(r"^[ \t]+")


def escape_line(line: str) -> str:
    """One line of user text, shown as written once rendered."""
    escaped = _INLINE.sub(r"\\\1", line)
    indent = _INDENT.match(escaped)
    lead = ""
    if indent:  # four spaces would start a code block: keep the width, not the meaning
        width = indent.group().replace("\t", "    ")
        lead = "&nbsp;" * len(width)
        escaped = escaped[indent.end():]
    escaped = _ORDERED.sub(r"\1\\\2", _BLOCK_START.sub(r"\\\1", escaped))
    return lead + escaped


def escape_block(text: str, prefix: str = "") -> str:
    """Multi-line user text: each line escaped, lines kept apart by hard breaks (a
    trailing backslash), each after ``prefix`` (``"> "`` in a quote)."""
    lines = [escape_line(line) for line in text.splitlines() or [""]]
    out = []
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        broken = "\\" if line and after else ""  # a break before a blank line is literal
        out.append(f"{prefix}{line}{broken}" if line else prefix.rstrip())
    return "\n".join(out)


def _files(entry: Entry) -> list[str]:
    shown = []
    for f in entry.attachments:
        url = safe_url(f.url)
        name = escape_line(f.name or "file")
        link = f"[{name}]({url})" if url else name
        shown.append(f"- \U0001f4ce {link} ({size_text(f.size)})")
    return shown


def _entry(entry: Entry) -> list[str]:
    when = iso(entry.at)
    author = escape_line(entry.author or "someone")
    if entry.style == "system":
        lines = [f"\u2192 **{author}** {escape_line(entry.summary)} · {when}"]
    else:
        tag = " · **internal note**" if entry.style == "note" else ""
        lines = [f"**{author}**{tag} · via {escape_line(entry.via)} · {when}"]
    if entry.body:
        lines += ["", escape_block(entry.body, "> ")]
    files = _files(entry)
    if files:
        lines += ["", *files]
    return [*lines, ""]


def document(ticket: TicketView, facts: list[Fact], entries: list[Entry], *,
             desk_name: str, audience: str) -> str:
    """The whole Markdown document of one ticket's transcript."""
    lines = [f"# {escape_line(desk_name)} · transcript of #{ticket.number}: "
             f"{escape_line(ticket.subject)}", "",
             f"*As seen by {audience}. Times are UTC.*", ""]
    for fact in facts:
        lines.append(f"- **{fact.label}:** {escape_block(fact.value, '  ').lstrip()}")
    lines += ["", "---", ""]
    for entry in entries:
        lines += _entry(entry)
    return "\n".join(lines).rstrip() + "\n"
