"""Embed fields for deflection (``core.deflection``): the receipt's "These may help" and
the team card's similar past tickets. User and config text is shown as itself (markdown
and mentions escaped; the messages' allowed mentions are off anyway); long notes are cut
visibly (``…``) to keep within Discord's embed limits (field name 256, value 1024)."""

from __future__ import annotations

import discord

from core.events import Opened

NAME_MAX = 256
NOTE_MAX = 300  # a resolution note on a card or receipt (the embed's 6000 in all)
ANSWER_MAX = 600


def _plain(text: str, limit: int) -> str:
    """``text`` on one line, markdown and mentions escaped, then cut to ``limit``."""
    flat = discord.utils.escape_mentions(discord.utils.escape_markdown(" ".join(text.split())))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def add_helpful(embed: discord.Embed, opened: Opened | None, number: int) -> discord.Embed:
    """The requester's similar resolved tickets and matching FAQ entries, as fields."""
    if opened is None or not (opened.helpful or opened.faq):
        return embed
    embed.add_field(name="These may help", value=(
        f"If one of these answers it, you can close #{number} yourself "
        f"(`/ticket close {number}`); otherwise an agent will answer."), inline=False)
    for p in opened.helpful:
        embed.add_field(name=f"#{p.number} · " + _plain(p.subject, NAME_MAX - 20),
                        value=_plain(p.resolution, NOTE_MAX) or "—", inline=False)
    for f in opened.faq:
        embed.add_field(name="FAQ · " + _plain(f.title, NAME_MAX - 20),
                        value=_plain(f.answer, ANSWER_MAX) or "—", inline=False)
    return embed


def add_similar(embed: discord.Embed, opened: Opened | None) -> discord.Embed:
    """The team card's similar past tickets, each with its resolution note."""
    if opened is None or not opened.similar:
        return embed
    for p in opened.similar:
        embed.add_field(name=f"Similar: #{p.number} · " + _plain(p.subject, NAME_MAX - 30),
                        value=_plain(p.resolution, NOTE_MAX) or "—", inline=False)
    return embed
