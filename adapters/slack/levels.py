"""How service levels read on Slack (PRODUCT.md §7): the SLA clocks of a card and of
``/ticket show``, when the desk closes a ticket by itself, a pending close request, the
requester's rating (agents only), who an SLA notice mentions, and the requester's
buttons under a close request and under a resolution.

Times are Slack ``<!date>`` tokens (each reader's own time zone, ``text.date``) with
the span from ``now`` (UTC) beside them where a span helps ("closes in 2 days").
Mentions (``<@U…>``, ``<!subteam^S…>``) are the app's own words; user text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from adapters.slack import ids
from adapters.slack.text import date, escape
from core.durations import spoken
from core.events import CloseRequested, Event, Resolved
from core.policy import Action
from core.tickets import Rating
from core.views import ClockView, TicketView

TARGETS = {"first_response": "first response", "resolution": "resolution"}
RATING_FACE = {Rating.GOOD: ":+1:", Rating.BAD: ":-1:"}


def span(delta: timedelta) -> str:
    """``2 days``, ``1 day 23 hours`` (``core.durations.spoken``), never negative."""
    return spoken(delta)


def relative(moment: datetime, now: datetime | None) -> str:
    """``in 2 days`` / ``3 hours ago`` from ``now`` (UTC); "" without ``now``."""
    if now is None:
        return ""
    delta = moment - now
    if abs(delta) < timedelta(minutes=1):
        return "now"
    return f"in {span(delta)}" if delta > timedelta(0) else f"{span(delta)} ago"


def clock_line(clock: ClockView, *, team: bool) -> str:
    """One SLA clock: ``first response due <date>``, ``… paused (2 hours left)``, ``… met``;
    ``team`` (agents) also sees the breach mark — breaches are never shown to the
    requester (PRODUCT.md §7)."""
    name = TARGETS.get(clock.target, clock.target).capitalize()
    breached = team and clock.breached
    if clock.met:
        return f"{name}: met" + (", late (:red_circle: breached)" if breached else "")
    if clock.paused:
        return f":double_vertical_bar: {name}: paused ({span(clock.left)} left)" + \
            (" — :red_circle: breached" if breached else "")
    if clock.due is None:
        return f"{name}: —"
    if breached:
        return f":red_circle: {name}: *breached* (was due {date(clock.due)})"
    return f"{name}: due {date(clock.due)}"


def clock_lines(t: TicketView, *, team: bool) -> list[str]:
    """The ticket's SLA clocks, one line each (none once it has none)."""
    return [clock_line(c, team=team) for c in t.clocks]


def state_lines(t: TicketView, *, team: bool, now: datetime | None) -> list[str]:
    """A pending close request, when the desk closes it by itself, and — for agents
    (``team``) — the requester's rating with its comment."""
    lines = []
    if t.close_requested:
        lines.append(":wave: Waiting for the requester to confirm closing")
    if t.closes_at is not None:
        when = relative(t.closes_at, now)
        lines.append(f":alarm_clock: Closes {when} ({date(t.closes_at)})" if when
                     else f":alarm_clock: Closes {date(t.closes_at)}")
    if team and t.rating is not None:
        comment = f": “{escape(t.rating_comment)}”" if t.rating_comment else ""
        lines.append(f"{RATING_FACE[t.rating]} Rated *{t.rating.value}* by the "
                     f"requester{comment}")
    return lines


def mentions(t: TicketView, agent_groups: Iterable[str], agent_users: Iterable[str]) -> str:
    """Who an SLA notice calls: the assignee when a Slack user, else the agents' user
    groups (``slack.agent_groups``), else the agents named by id (``slack.agent_users``)."""
    if t.assignee is not None and t.assignee.ref.platform == "slack":
        return f"<@{t.assignee.ref.user_id}>"
    groups = [f"<!subteam^{g}>" for g in agent_groups]
    if groups:
        return " ".join(groups)
    return " ".join(f"<@{u}>" for u in agent_users)


def _button(text: str, action_id: str, number: int, style: str | None = None
            ) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": str(number),
                              "text": {"type": "plain_text", "text": text}}
    if style:
        button["style"] = style
    return button


def requester_buttons(event: Event, t: TicketView) -> list[dict[str, Any]]:
    """The requester's buttons under ``event``: "Yes, close it" / "No, I still need help"
    under a close request still waiting, "Good" / "Bad" under a resolution that can still
    be rated (``t.actions``: what the requester may do now). Blocks, maybe none."""
    n = t.number
    if isinstance(event.payload, CloseRequested) and Action.KEEP_OPEN in t.actions:
        return [{"type": "actions", "block_id": f"ticket:{n}:close_request", "elements": [
            _button("Yes, close it", ids.CONFIRM_CLOSE, n, "primary"),
            _button("No, I still need help", ids.KEEP_OPEN, n)]}]
    if isinstance(event.payload, Resolved) and Action.RATE in t.actions:
        return [
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                f"*How did we do on #{n}?* One click rates it; you can add a comment "
                "after.")}},
            {"type": "actions", "block_id": f"ticket:{n}:rating", "elements": [
                _button("Good", ids.RATE_GOOD, n, "primary"),
                _button("Bad", ids.RATE_BAD, n)]}]
    return []
