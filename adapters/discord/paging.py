"""``/ticket list``, ``queue`` and ``search`` page by page (issue 12, point 2), answered
ephemerally: a page of 20 and, under a page that goes on, a "More" button.

The button is a ``DynamicItem`` whose ``custom_id`` is ``more:`` and the listing's words
for the next page (``core.grammar.ListTickets.words``: ``more:list open mine page 2``,
at most 60 characters of Discord's 100; a search's words are as long as typed, so a
search too long for a ``custom_id`` names the next page in text instead), so it
works after a restart. A press reads
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
from adapters.discord.acting import Deferral, act, answer, bot_of
from adapters.discord.views import Button, answered
from core import grammar
from core.identity import Actor
from core.views import Page

QUEUE_EMPTY = "The queue is empty: nothing unassigned or overdue."
NOTHING_FOUND = "Nothing found."
CUSTOM_ID_MAX = 100
Listing = grammar.ListTickets | grammar.Queue | grammar.Search


class MoreButton(discord.ui.DynamicItem[Button],
                 template=r"(?s)more:(?P<words>(?:list|queue|search) .{1,93})"):
    """"More" under a page: the next page, for whoever presses it."""

    deferral: Deferral = "thinking"

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
        await act(interaction, None, work, deferral=self.deferral)


async def show(interaction: discord.Interaction[Any], actor: Actor, request: Listing) -> None:
    """Answers with the page ``request`` names as ``actor`` may see it, with "More" under
    it when it goes on. Raises the desk's errors."""
    desk = bot_of(interaction).desk
    page: Page
    if isinstance(request, grammar.Queue):
        page, empty = await desk.queue_page(actor, request.page), QUEUE_EMPTY
    elif isinstance(request, grammar.Search):
        page, empty = await desk.search_page(actor, request.text, request.page), NOTHING_FOUND
    else:
        page = await desk.list_page(actor, request.scope, mine=request.mine,
                                    org=request.org, unread=request.unread, page=request.page)
        empty = request.nothing()
    texts = messages(page, empty)
    view = None
    following = request.words(page.number + 1)
    if page.more and len("more:" + following) <= CUSTOM_ID_MAX:
        view = discord.ui.View(timeout=None)
        view.add_item(MoreButton(following))
    elif page.more:  # a long search: its words do not fit a custom_id
        texts = messages(page, empty, f"More: the same search with page:{page.number + 1}")
    for i, text in enumerate(texts):
        await answer(interaction, text, view=view if i == len(texts) - 1 else None)


def messages(page: Page, empty: str, *after: str) -> list[str]:
    """The page as messages of at most ``render.CONTENT_MAX`` characters, whole lines
    each; from page 2 on, its number first; ``after``: lines under it."""
    lines = [render.listed_line(item) for item in page.items] or [empty]
    if page.number > 1:
        lines.insert(0, f"*Page {page.number}*")
    lines += after
    texts: list[str] = []
    for line in lines:
        line = line[:render.CONTENT_MAX]
        if texts and len(texts[-1]) + 1 + len(line) <= render.CONTENT_MAX:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts
