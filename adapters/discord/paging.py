"""``/ticket list`` and ``/ticket queue`` page by page (issue 12, point 2), answered
ephemerally: a page of 20 and, under a page that goes on, a "More" button.

The button is a ``DynamicItem`` whose ``custom_id`` is ``more:`` and the listing's words
for the next page (``core.grammar.ListTickets.words``: ``more:list open mine page 2``,
at most 60 characters of Discord's 100), so it works after a restart. A press reads
the words back with ``grammar.parse_listing`` and asks the desk again *as the
presser*: a forged or forwarded button shows only what the presser may see, a
non-agent's queue is refused, and words naming another command are refused. A page
longer than a message (2000 characters) comes as several messages, none cut short.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from adapters.discord import render
from adapters.discord.acting import act, answer, bot_of
from adapters.discord.views import Button, answered
from core import grammar
from core.identity import Actor
from core.views import Page

QUEUE_EMPTY = "The queue is empty: nothing unassigned or overdue."
Listing = grammar.ListTickets | grammar.Queue


class MoreButton(discord.ui.DynamicItem[Button],
                 template=r"more:(?P<words>(?:list|queue)[a-z0-9 ]{0,80})"):
    """"More" under a page: the next page, for whoever presses it."""

    def __init__(self, words: str) -> None:
        super().__init__(discord.ui.Button(label="More", style=discord.ButtonStyle.secondary,
                                           custom_id=f"more:{words}"))
        self.words = words

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> MoreButton:
        return cls(match["words"])

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work(actor: Actor) -> None:
            await show(interaction, actor, grammar.parse_listing(self.words))
        await act(interaction, None, work)


async def show(interaction: discord.Interaction[Any], actor: Actor, request: Listing) -> None:
    """Answers with the page ``request`` names as ``actor`` may see it, with "More" under
    it when it goes on. Raises the desk's errors."""
    desk = bot_of(interaction).desk
    page: Page
    if isinstance(request, grammar.Queue):
        page, empty = await desk.queue_page(actor, request.page), QUEUE_EMPTY
    else:
        page = await desk.list_page(actor, request.scope, mine=request.mine,
                                    org=request.org, unread=request.unread, page=request.page)
        empty = request.nothing()
    texts = messages(page, empty)
    view = None
    if page.more:
        view = discord.ui.View(timeout=None)
        view.add_item(MoreButton(request.words(page.number + 1)))
    for i, text in enumerate(texts):
        await answer(interaction, text, view=view if i == len(texts) - 1 else None)


def messages(page: Page, empty: str) -> list[str]:
    """The page as messages of at most ``render.CONTENT_MAX`` characters, whole lines
    each; from page 2 on, its number first."""
    lines = [render.listed_line(item) for item in page.items] or [empty]
    if page.number > 1:
        lines.insert(0, f"*Page {page.number}*")
    texts: list[str] = []
    for line in lines:
        line = line[:render.CONTENT_MAX]
        if texts and len(texts[-1]) + 1 + len(line) <= render.CONTENT_MAX:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts
