"""Which controls a ticket's card shows: exactly the actions core allows its audience
(``TicketView.actions``: the team card any agent, the ticket card the requester), in
core's order (``core.capabilities.TICKET_ACTIONS``), and every persistent control the
bot registers at start-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord

from adapters.discord.closing import CLOSING_ITEMS, AskCloseButton
from adapters.discord.views import (
    CONTROLS,
    CategorySelect,
    ClaimButton,
    CloseButton,
    EscalateButton,
    PanelButton,
    PrioritySelect,
    ReopenButton,
    ReplyButton,
    ResolveButton,
)
from core.capabilities import TICKET_ACTIONS
from core.policy import Action
from core.views import TicketView

# Card controls beyond the table both chat adapters share (``views.CONTROLS``, checked
# equal to Slack's by tests/platform/test_card_controls.py): the close request. The
# requester's answers and rating are buttons under the messages that ask for them
# (``closing.close_request_view``, ``closing.rating_view``), not on the card.
SERVICE_CONTROLS: dict[Action, Callable[[TicketView], discord.ui.DynamicItem[Any]]] = {
    Action.ASK_CLOSE: lambda t: AskCloseButton(t.number),
}


def card_view(t: TicketView) -> discord.ui.View:
    """Under a card: the controls for exactly ``t.actions`` — what core says the card's
    audience may do now (team card: any agent; ticket card: the requester)."""
    controls = {**CONTROLS, **SERVICE_CONTROLS}
    view = discord.ui.View(timeout=None)
    for action in TICKET_ACTIONS:
        if action in t.actions and action in controls:
            view.add_item(controls[action](t))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ClaimButton, CloseButton, ReopenButton, ReplyButton, ResolveButton, EscalateButton,
    PrioritySelect, PanelButton, CategorySelect, *CLOSING_ITEMS,
)
