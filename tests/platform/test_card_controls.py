"""Issue 9, point 3: both chat adapters map the same core actions to card controls, so
a ticket's cards offer the same actions on Slack and Discord (the table in
``tests/platform/cards.py``, which each platform's test reads back from what it sent)."""

from __future__ import annotations

from adapters.discord import views as discord_views
from adapters.slack import views as slack_views
from tests.platform.cards import CARD_ACTIONS


def test_slack_and_discord_have_a_control_for_the_same_actions() -> None:
    assert set(slack_views.CONTROLS) == set(discord_views.CONTROLS) == CARD_ACTIONS
    assert set(slack_views.ACTION_OF.values()) == CARD_ACTIONS
