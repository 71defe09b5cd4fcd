"""A card's controls go out as plain component payloads (``components.Controls``): laid
out exactly as discord.py's own ``View`` lays out the same items, and leaving no cyclic
garbage behind (a ``View`` with items is a reference cycle only the collector frees —
its pauses set the interaction answers' p99, bench/RESULTS.md)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import discord
import pytest

from adapters.discord.cards import card_view
from adapters.discord.closing import close_request_view, rating_view
from adapters.discord.components import Controls
from adapters.discord.panel import panel_view
from adapters.discord.views import CONTROLS, ClaimButton, PrioritySelect
from core.capabilities import TICKET_ACTIONS
from core.config import DeskConfig
from core.identity import Person, UserRef
from core.tickets import Ticket
from core.views import TicketView, ticket_view


def offering_everything(number: int) -> TicketView:
    """A ticket's view with every action offered: every control a card can have."""
    requester = Person(UserRef("discord", "1", "2"), "Ann")
    ticket = Ticket(number=number, subject="s", description="d", category="general",
                    priority="normal", requester=requester, opened_at=datetime.now(UTC),
                    source="discord")
    return replace(ticket_view(ticket, DeskConfig(), internal=True),
                   actions=frozenset(TICKET_ACTIONS))


def every_control(number: int) -> list[discord.ui.Item[Any]]:
    t = offering_everything(number)
    return [CONTROLS[a](t) for a in TICKET_ACTIONS if a in CONTROLS]


@pytest.fixture
def collecting_to_garbage() -> Iterator[list[Any]]:
    """``gc.garbage`` receiving every object a collection finds unreachable."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_controls_are_laid_out_as_discord_py_lays_out_a_view() -> None:
    items = every_control(42)
    view = discord.ui.View(timeout=None)
    for item in every_control(42):
        view.add_item(item)
    assert Controls(items).to_components() == view.to_components()
    assert len(Controls(items).to_components()) == 3  # 5 buttons; the select; 2 buttons


async def test_an_item_that_does_not_fit_is_refused_as_view_refuses_it() -> None:
    with pytest.raises(ValueError, match="action rows"):
        Controls([PrioritySelect(n, "normal") for n in range(6)])
    with pytest.raises(ValueError, match="action rows"):
        Controls([ClaimButton(n) for n in range(26)])


@pytest.mark.parametrize("make", [
    lambda: card_view(offering_everything(7)),
    lambda: rating_view(7), lambda: close_request_view(7), panel_view,
], ids=["card", "rating", "close request", "panel"])
async def test_controls_leave_no_cyclic_garbage(
        collecting_to_garbage: list[Any], make: Callable[[], discord.ui.View]) -> None:
    for _ in range(50):
        assert make().to_components()
    gc.collect()
    # (other tests' objects may turn unreachable meanwhile: only a view's parts count)
    assert [type(o).__name__ for o in collecting_to_garbage
            if type(o).__module__.startswith(("discord.ui", "adapters.discord"))] == []
