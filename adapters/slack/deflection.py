"""Block Kit for deflection (``core.deflection``): the receipt's "These may help" and
the team card's similar past tickets. User and config text is escaped (``text.escape``):
it can format nothing that pings; long notes are cut visibly (``…``)."""

from __future__ import annotations

from typing import Any

from adapters.slack.text import SECTION_TEXT_MAX, escape, shorten
from core.events import Opened

NOTE_MAX = 300  # characters of a resolution note or an FAQ answer on a card or receipt
ANSWER_MAX = 600


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn",
                                        "text": shorten(text, SECTION_TEXT_MAX)}}


def helpful_blocks(opened: Opened | None, number: int) -> list[dict[str, Any]]:
    """The requester's similar resolved tickets and matching FAQ entries; none when
    nothing matched."""
    if opened is None or not (opened.helpful or opened.faq):
        return []
    lines = ["*These may help*"]
    lines += [f"• *#{p.number}* {escape(p.subject)}: "
              f"{escape(shorten(' '.join(p.resolution.split()), NOTE_MAX))}"
              for p in opened.helpful]
    lines += [f"• *{escape(f.title)}*: {escape(shorten(f.answer, ANSWER_MAX))}"
              for f in opened.faq]
    return [_section("\n".join(lines)), {"type": "context", "elements": [{
        "type": "mrkdwn", "text": f"If one of these answers it, you can close #{number} "
        "yourself; otherwise an agent will answer."}]}]


def similar_blocks(opened: Opened | None) -> list[dict[str, Any]]:
    """The team card's similar past tickets, each with its resolution note."""
    if opened is None or not opened.similar:
        return []
    lines = ["*Similar past tickets*"]
    lines += [f"• *#{p.number}* {escape(p.subject)}\n   _Resolution:_ "
              f"{escape(shorten(' '.join(p.resolution.split()), NOTE_MAX))}"
              for p in opened.similar]
    return [_section("\n".join(lines))]
