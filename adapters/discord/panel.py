"""``/ticket panel``: a message with "Open a ticket", which shows the category menu; a
category chosen opens the ticket form (``views.TicketForm``). Both are persistent
``DynamicItem``s, so a panel posted before a restart still works."""

from __future__ import annotations

import re
from typing import Any

import discord

from adapters.discord.acting import Deferral, act, answer, bot_of
from adapters.discord.components import Controls
from adapters.discord.views import (
    FORM_TIMEOUT,
    AnsweredView,
    Button,
    Select,
    TicketForm,
    answered,
)
from core.config import Category
from core.identity import Actor


class PanelButton(discord.ui.DynamicItem[Button], template=r"ticket:panel:open"):
    """The "Open a ticket" button of ``/ticket panel``: shows the category menu."""

    deferral: Deferral = "thinking"

    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Open a ticket", custom_id="ticket:panel:open",
                                           style=discord.ButtonStyle.primary, emoji="🎫"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PanelButton:
        return cls()

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work(actor: Actor) -> None:
            await bot_of(interaction).desk.check_may_open(actor)
            view = AnsweredView(timeout=FORM_TIMEOUT)
            view.add_item(CategorySelect(bot_of(interaction).config.categories))
            await answer(interaction, "What is your ticket about?", view=view)
        await act(interaction, None, work, deferral=self.deferral)


class CategorySelect(discord.ui.DynamicItem[Select], template=r"ticket:panel:category"):
    def __init__(self, categories: tuple[Category, ...] = ()) -> None:
        options = [discord.SelectOption(label=c.name, value=c.key) for c in categories]
        super().__init__(discord.ui.Select(custom_id="ticket:panel:category",
                                           options=options or [discord.SelectOption(label="-")],
                                           placeholder="Choose a category"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> CategorySelect:
        return cls()

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        category = bot.config.category(self.item.values[0] if self.item.values else "")
        if category is None:
            await answer(interaction, "That category no longer exists; press the button again.")
            return
        await interaction.response.send_modal(TicketForm(category))
        bot_of(interaction).answers.answered()


def panel_view() -> discord.ui.View:
    return Controls((PanelButton(),))
