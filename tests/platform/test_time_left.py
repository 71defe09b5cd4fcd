"""Fix 6 on every chat platform: a paused SLA clock's time left is phrased with the
same rounding as a due time (``core.durations.spoken``): 47 h 59 m left is "2 days",
never "a day"."""

from __future__ import annotations

from datetime import timedelta

from adapters.discord import render as discord_render
from adapters.shell import views as shell_views
from adapters.slack import levels as slack_levels
from core.views import ClockView

PAUSED = ClockView("resolution", None, paused=True, met=False, breached=False,
                   left=timedelta(hours=47, minutes=59), limit=timedelta(days=2))


def test_each_platform_says_2_days_left_for_47_hours_59_minutes() -> None:
    assert slack_levels.clock_line(PAUSED, team=True) == \
        ":double_vertical_bar: Resolution: paused (2 days left)"
    assert discord_render.clock_text(PAUSED, team=True) == "paused, 2 days left"
    assert shell_views.span(PAUSED.left) == "2 days"


def test_and_47_hours_is_1_day_23_hours_everywhere() -> None:
    left = timedelta(hours=47)
    assert slack_levels.span(left) == shell_views.span(left) == "1 day 23 hours"
