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
    flat = " ".join(text.split())
    cut = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return discord.utils.escape_mentions(discord.utils.escape_markdown(cut))


def add_helpful(embed: discord.Embed, opened: Opened | None, number: int) -> discord.Embed:
    """The requester's similar resolved tickets and matching FAQ entries, as fields."""
    if opened is None or not (opened.helpful or opened.faq):
        return embed
    embed.add_field(name="These may help", value=(
        f"If one of these answers it, you can close #{number} yourself "
        f"(`/ticket close {number}`); otherwise an agent will answer."), inline=False)
    for p in opened.helpful:
        embed.add_field(name=_plain(f"#{p.number} · {p.subject}", NAME_MAX),
                        value=_plain(p.resolution, NOTE_MAX) or "—", inline=False)
    for f in opened.faq:
        embed.add_field(name=_plain(f"FAQ · {f.title}", NAME_MAX),
                        value=_plain(f.answer, ANSWER_MAX) or "—", inline=False)
    return embed


def add_similar(embed: discord.Embed, opened: Opened | None) -> discord.Embed:
    """The team card's similar past tickets, each with its resolution note."""
    if opened is None or not opened.similar:
        return embed
    for p in opened.similar:
        embed.add_field(name=_plain(f"Similar: #{p.number} · {p.subject}", NAME_MAX),
                        value=_plain(p.resolution, NOTE_MAX) or "—", inline=False)
    return embed
