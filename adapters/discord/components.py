"""A message's controls sent as component payloads, without a live ``discord.ui.View``.

Every control the desk sends is a ``DynamicItem`` registered at start-up: a press is
matched by its ``custom_id`` and handled by the registered class, never by the view the
message went out with (discord.py does not even store a view whose items are all
dynamic). A view with items attached is a reference cycle — each item refers back to
its view — that only the cyclic garbage collector frees: 37 objects for a card's
controls (``gc.DEBUG_SAVEALL``), two cards edited per claim, and the collector's pauses
were what set the interaction answers' p99 (bench/RESULTS.md). ``Controls`` lays the
items out as discord.py does, keeps their payloads and lets the items go; nothing of
it is in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord

ROW_WIDTH = 5  # Discord: an action row holds 5 buttons or 1 select (width 5)
ROWS = 5  # Discord: a message holds at most 5 action rows


class Controls(discord.ui.View):
    """The action rows of ``items`` (buttons and selects), placed as ``discord.ui.View``
    places them: an item's ``row`` if it names one, else the first row with room.

    Raises ``ValueError`` when an item does not fit (as ``View.add_item`` does)."""

    def __init__(self, items: Iterable[discord.ui.Item[Any]]) -> None:
        super().__init__(timeout=None)
        rows: list[list[dict[str, Any]]] = [[] for _ in range(ROWS)]
        widths = [0] * ROWS
        for item in items:
            row = item.row if item.row is not None else next(
                (i for i, used in enumerate(widths) if used + item.width <= ROW_WIDTH), None)
            if row is None or widths[row] + item.width > ROW_WIDTH:
                raise ValueError(f"no room for {item!r} in a message's {ROWS} action rows")
            widths[row] += item.width
            rows[row].append(item.to_component_dict())
        self._rows = [{"type": discord.ComponentType.action_row.value, "components": row}
                      for row in rows if row]

    def to_components(self) -> list[dict[str, Any]]:
        """The action rows as Discord's API takes them (``components`` of a message)."""
        return self._rows
