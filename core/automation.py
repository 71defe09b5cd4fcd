"""Service levels and automation: the handlers of PRODUCT.md §7's commands.

Close requests and satisfaction ratings are people's commands; SLA notices,
reminders and automatic closes are the desk's own, stored as timers
(``core.timers``) and run by the scheduler as ``System`` through the same
command path as everything else (``core.changes``).
"""

from __future__ import annotations

from typing import Any

from core import commands as cmd
from core import policy, sla
from core import tickets as lifecycle
from core.changes import Change
from core.errors import Invalid, InvalidTransition
from core.events import (
    Audience,
    Closed,
    CloseDeclined,
    CloseRequested,
    Rated,
    Reminded,
    SlaBreached,
    SlaWarning,
)
from core.policy import Action
from core.sla import Target
from core.tickets import Rating, Status
from core.validation import COMMENT_MAX, clean_text


def _optional(field: str, value: str | None) -> str | None:
    return clean_text(field, value, max_length=COMMENT_MAX, multiline=True,
                      required=False) or None


async def ask_close(change: Change, command: cmd.AskClose) -> None:
    """An agent asks the requester to confirm closing; unanswered, it closes after
    ``lifecycle.close_request_after``."""
    message = _optional("message", command.message)
    lifecycle.ask_close(change.ticket)
    change.ticket.close_requested_at = change.now
    # An agent's public word to the requester: a first response (as asking is).
    change.ticket.first_response_at = change.ticket.first_response_at or change.now
    closes_at = change.now + change.config.lifecycle.close_request_after
    change.record(CloseRequested(message, closes_at))


async def keep_open(change: Change, command: cmd.KeepOpen) -> None:
    lifecycle.keep_open(change.ticket)
    change.record(CloseDeclined())


def declined_by_reply(change: Change) -> None:
    """A requester's reply while a close request waits counts as "no" (PRODUCT.md §7)."""
    ticket = change.ticket
    if ticket.close_requested_at is not None and policy.is_requester(change.actor, ticket):
        ticket.close_requested_at = None
        change.record(CloseDeclined(by_reply=True))


def _rating(value: str) -> Rating:
    try:
        return Rating(value.strip().casefold())
    except ValueError:
        raise Invalid("rating", f"{str(value)[:40]!r} is not a rating; say good or bad"
                      ) from None


async def rate(change: Change, command: cmd.Rate) -> None:
    """One rating per resolution; a second changes it (both are in the history)."""
    rating = _rating(command.rating)
    comment = _optional("comment", command.comment)
    previous = lifecycle.rate(change.ticket, rating, comment)
    change.record(Rated(rating, change.ticket.rating_comment, previous), Audience.INTERNAL)


async def sla_alert(change: Change, command: cmd.SlaAlert) -> None:
    """A warning at 80% or a breach at 100% of a target, once each per cycle. A warning
    that fires after its breach is also due (downtime) is the breach instead."""
    ticket, target = change.ticket, Target(command.target)
    reading = sla.read(ticket, change.config, target, now=change.now)
    if reading.due is None or sla.breached(ticket, target):
        raise InvalidTransition(f"#{ticket.number}: no {target.value} clock is running")
    breach = command.breach or reading.due <= change.now
    sla.record(ticket, target, breach=breach)
    payload = (SlaBreached(target.value, reading.due) if breach
               else SlaWarning(target.value, reading.due))
    change.record(payload, Audience.INTERNAL)


async def remind(change: Change, command: cmd.RemindRequester) -> None:
    """The reminder before a waiting ticket expires; one that comes too late (after
    downtime, its expiry is due too) is skipped rather than sent with no time left."""
    if change.ticket.status is not Status.WAITING:
        raise InvalidTransition(f"#{change.ticket.number} is not waiting on its requester")
    if command.closes_at <= change.now:
        raise InvalidTransition(f"#{change.ticket.number} expires now; too late to remind")
    change.record(Reminded(command.closes_at))


async def auto_close(change: Change, command: cmd.AutoClose) -> None:
    lifecycle.close(change.ticket, change.now)
    change.record(Closed(None, by_system=True, why=command.why))


HANDLERS: dict[type[Any], tuple[Action, Any]] = {
    cmd.AskClose: (Action.ASK_CLOSE, ask_close),
    cmd.KeepOpen: (Action.KEEP_OPEN, keep_open),
    cmd.Rate: (Action.RATE, rate),
    cmd.SlaAlert: (Action.SLA_ALERT, sla_alert),
    cmd.RemindRequester: (Action.REMIND, remind),
    cmd.AutoClose: (Action.AUTO_CLOSE, auto_close),
}
