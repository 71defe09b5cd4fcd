"""Which controls a ticket's card shows: exactly the actions core allows its audience
(``TicketView.actions``: the team card any agent, the ticket card the requester), in
core's order (``core.capabilities.TICKET_ACTIONS``), and every persistent control the
bot registers at start-up."""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord.closing import CLOSING_ITEMS
from adapters.discord.components import Controls
from adapters.discord.paging import MoreButton
from adapters.discord.panel import CategorySelect, PanelButton
from adapters.discord.views import (
    CONTROLS,
    AskCloseButton,
    ClaimButton,
    CloseButton,
    EscalateButton,
    PrioritySelect,
    ReopenButton,
    ReplyButton,
    ResolveButton,
)
from core.capabilities import TICKET_ACTIONS
from core.views import TicketView


def card_view(t: TicketView) -> discord.ui.View:
    """Under a card: the controls for exactly ``t.actions`` — what core says the card's
    audience may do now (team card: any agent; ticket card: the requester)."""
    return Controls(CONTROLS[action](t) for action in TICKET_ACTIONS
                    if action in t.actions and action in CONTROLS)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ClaimButton, CloseButton, ReopenButton, ReplyButton, ResolveButton, EscalateButton,
    AskCloseButton, PrioritySelect, PanelButton, CategorySelect, *CLOSING_ITEMS, MoreButton,
)
