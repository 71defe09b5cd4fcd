"""Slack text in and out: escaping, reading Slack markup, splitting long text.

Slack's mrkdwn treats ``<…>`` as control sequences (``<!channel>``, ``<@U123>``,
links) and ``&`` as the start of an entity. Everything a user typed that the app
posts again is escaped here first, so it can never ping anyone (PRODUCT.md §5;
https://api.slack.com/reference/surfaces/formatting#escaping). Plain text is
never sent with ``link_names``, so a typed ``@channel`` stays text too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

SECTION_TEXT_MAX = 3000  # a section block's text (Block Kit reference, "Section")
FIELD_TEXT_MAX = 2000  # one of a section's fields
OPTION_TEXT_MAX = 75  # a static_select option's text
MESSAGE_TEXT_MAX = 40_000  # chat.postMessage ``text`` (longer is truncated by Slack)

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKUP = re.compile(r"<([^<>]*)>")
_LINK_UNSAFE = re.compile(r"[<>|\s]")
_BARE_USER = re.compile(r"<@([UW][A-Z0-9]+)>")
_BARE_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)>")


def escape(text: str) -> str:
    """``text`` safe inside mrkdwn: ``&``, ``<``, ``>`` become entities (nothing else)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _markup_to_plain(match: re.Match[str], names: Mapping[str, str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):  # user mention <@U123> or <@U123|name>
        return "@" + (label or names.get(target[1:]) or target[1:])
    if target.startswith("#"):  # channel <#C123|name>
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):  # user group <!subteam^S123|@team>
        group = target.split("^", 1)[1]
        return label or "@" + (names.get(group) or group)
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):  # <!channel>, <!here>, <!everyone>
        return "@" + (label or target[1:])
    target = target.removeprefix("mailto:")
    if label and label != target:
        return f"{label} ({target})"
    return target


def from_slack(text: str, names: Mapping[str, str] | None = None) -> str:
    """What a user typed, as plain text: Slack's ``<…>`` markup becomes readable words
    (``<!channel>`` → ``@channel``, ``<url|label>`` → ``label (url)``) and entities are
    decoded. ``names`` maps user and user-group ids to names for mentions Slack sent
    without one (events carry ``<@U123>``, not ``<@U123|ada>``). The result is stored by
    the desk and escaped again on the way out."""
    known = names or {}
    plain = _MARKUP.sub(lambda m: _markup_to_plain(m, known), text or "")
    return html.unescape(plain).replace("\r\n", "\n")


def mentioned_ids(text: str) -> tuple[set[str], set[str]]:
    """``(user ids, user-group ids)`` mentioned in ``text`` without a name."""
    return set(_BARE_USER.findall(text or "")), set(_BARE_GROUP.findall(text or ""))


def message_text(message: dict[str, Any]) -> str:
    """A message event's text in Slack markup, for ``from_slack``: its ``text``; else
    what its rich-text blocks say (a message sent with blocks only); plus what it
    forwards (a shared message arrives as an attachment with ``is_share``, and ``text``
    empty)."""
    text = str(message.get("text") or "")
    if not text.strip():
        text = "\n".join(filter(None, (_rich_text(b) for b in message.get("blocks") or [])))
    for shared in message.get("attachments") or []:
        if not isinstance(shared, dict) or not shared.get("is_share"):
            continue
        body = str(shared.get("text") or shared.get("fallback") or "").strip()
        if body:
            author = str(shared.get("author_name") or "")
            head = f"Forwarded from {author}:" if author else "Forwarded:"
            quoted = "\n".join("> " + line for line in body.split("\n"))
            text = "\n".join(filter(None, (text, head, quoted)))
    return text


def _link(e: dict[str, Any]) -> str:
    url = str(e.get("url", ""))
    return f"<{url}|{escape(str(e['text']))}>" if e.get("text") else url


_RICH_TEXT_MARKUP: dict[str, Callable[[dict[str, Any]], str]] = {  # leaf -> Slack markup
    "text": lambda e: escape(str(e.get("text", ""))),  # rich text is plain: made markup
    "link": _link,
    "user": lambda e: f"<@{e.get('user_id', '')}>",
    "usergroup": lambda e: f"<!subteam^{e.get('usergroup_id', '')}>",
    "channel": lambda e: f"<#{e.get('channel_id', '')}>",
    "broadcast": lambda e: f"<!{e.get('range', 'here')}>",
    "emoji": lambda e: f":{e.get('name', '')}:",
}


def _rich_text(element: Any) -> str:
    """The text of a ``rich_text`` block (sections, lists, quotes, code), in markup."""
    if not isinstance(element, dict):
        return ""
    leaf = _RICH_TEXT_MARKUP.get(str(element.get("type")))
    if leaf is not None:
        return leaf(element)
    parts = [_rich_text(e) for e in element.get("elements") or []]
    joiner = "\n" if element.get("type") in ("rich_text", "rich_text_list") else ""
    return joiner.join(p for p in parts if p)


def chunks(text: str, limit: int = SECTION_TEXT_MAX) -> Iterator[str]:
    """Escaped ``text`` in pieces of at most ``limit`` characters, never splitting an
    entity; breaks at a newline or space near the end of a piece when there is one."""
    piece: list[str] = []
    size = 0
    for ch in text:
        out = _ESCAPES.get(ch, ch)
        if size + len(out) > limit:
            joined = "".join(piece)
            cut = max(joined.rfind("\n"), joined.rfind(" "))
            if cut > limit // 2:
                yield joined[:cut]
                rest = joined[cut + 1:]
                piece, size = [rest], len(rest)
            else:
                yield joined
                piece, size = [], 0
        piece.append(out)
        size += len(out)
    if piece:
        yield "".join(piece)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a visible ``…`` (display only)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def date(moment: datetime | None) -> str:
    """A time every reader sees in their own time zone (Slack's ``<!date>`` token),
    with a UTC fallback for clients that cannot render it."""
    if moment is None:
        return "—"
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def link(url: str | None, label: str) -> str:
    """An mrkdwn link with an escaped label, or the label alone without a URL. A URL that
    could end the link early or open another control (``<``, ``>``, ``|``, spaces;
    user-supplied, e.g. an attachment's) is shown as escaped text instead; ``&`` in a
    URL is written ``&amp;``, as Slack's formatting reference asks."""
    if not url:
        return escape(label)
    if _LINK_UNSAFE.search(url) or not url.startswith(("https://", "http://")):
        return f"{escape(label)} ({escape(url)})"
    return f"<{url.replace('&', '&amp;')}|{escape(label).replace('|', '¦')}>"
