"""Service-level clocks (PRODUCT.md §7): targets, business time, pause and resume.

A ticket's two clocks — first response and resolution — count business time
(``BusinessCalendar``; around the clock without ``[business_hours]``) while the
ticket is ``open`` or ``in_progress``, and stand still in ``waiting`` and
``on_hold`` (paused) and once it is resolved or closed (stopped). ``settle``
brings a ticket's clocks and due times in line after every change; the due
times it writes are what cards, ``show`` and ``/ticket queue`` show (None while
paused) and what ``core.timers`` sets warnings and breaches by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.business_hours import AroundTheClock, BusinessCalendar, Calendar
from core.config import DeskConfig
from core.tickets import ACTIVE, DONE, Status, Ticket

__all__ = ["AroundTheClock", "BusinessCalendar", "Calendar", "ClockReading", "Target",
           "read", "settle", "start"]

WARNING_AT = 0.8  # a warning at 80% of a target (PRODUCT.md §7)
RUNNING = frozenset({Status.OPEN, Status.IN_PROGRESS})
PAUSED = frozenset({Status.WAITING, Status.ON_HOLD})


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One target's clock now: ``target`` and ``used`` business time; ``due`` (UTC) when
    it runs, None when it is met, paused or stopped; ``warn_at`` the 80% instant."""

    target: Target
    limit: timedelta
    used: timedelta
    running: bool
    met: bool
    due: datetime | None
    warn_at: datetime | None

    @property
    def left(self) -> timedelta:
        return max(self.limit - self.used, timedelta(0))


def start(ticket: Ticket, config: DeskConfig, now: datetime,
          calendar: Calendar | None = None) -> None:
    """A new ticket's clocks start at ``now`` (UTC) and its due times are set."""
    ticket.sla.status_since = now
    settle(ticket, ticket.status, False, config, now, calendar)


def _limit(ticket: Ticket, config: DeskConfig, target: Target) -> timedelta:
    targets = config.targets(ticket.category, ticket.priority)
    return targets.first_response if target is Target.FIRST_RESPONSE else targets.resolution


def _counts(ticket: Ticket, target: Target) -> bool:
    """Whether ``target``'s clock is still counting (not met, not stopped)."""
    if target is Target.FIRST_RESPONSE:
        return ticket.first_response_at is None and ticket.status in ACTIVE
    return ticket.status in ACTIVE


def read(ticket: Ticket, config: DeskConfig, target: Target,
         calendar: Calendar | None = None, now: datetime | None = None) -> ClockReading:
    """``target``'s clock as the ticket's stored state says, counted up to ``now`` (UTC)
    when given and running (else up to when it last stopped)."""
    cal = calendar or config.calendar()
    limit = _limit(ticket, config, target)
    clock = ticket.sla
    used = timedelta(seconds=(clock.first_response_used if target is Target.FIRST_RESPONSE
                              else clock.resolution_used))
    counting = _counts(ticket, target)
    running = counting and clock.running_since is not None
    due = warn_at = None
    if running:
        assert clock.running_since is not None
        due = cal.add(clock.running_since, max(limit - used, timedelta(0)))
        warn_at = cal.add(clock.running_since, max(limit * WARNING_AT - used, timedelta(0)))
        if now is not None:
            used += cal.between(clock.running_since, now)
    met = (ticket.first_response_at is not None if target is Target.FIRST_RESPONSE
           else ticket.status in DONE)
    return ClockReading(target, limit, used, running, met, due, warn_at)


def settle(ticket: Ticket, before: Status, answered_before: bool, config: DeskConfig,
           now: datetime, calendar: Calendar | None = None) -> None:
    """After a change at ``now`` (UTC): bank the business time run since the clocks last
    started, start a new resolution cycle on a reopen, run the clocks again when the
    ticket is ``open``/``in_progress``, and rewrite its due times. ``before`` is the
    status and ``answered_before`` whether the first response was made before the
    change."""
    cal = calendar or config.calendar()
    clock = ticket.sla
    if clock.running_since is not None:
        ran = cal.between(clock.running_since, now).total_seconds()
        if not answered_before:
            clock.first_response_used += ran
        clock.resolution_used += ran
        clock.running_since = None
    if ticket.status is not before:
        clock.status_since = now
        if before in DONE and ticket.status in ACTIVE:  # a reopen: a new resolution cycle
            clock.cycle += 1
            clock.resolution_used = 0.0
            clock.warned = tuple(t for t in clock.warned if t != Target.RESOLUTION)
            clock.breached = tuple(t for t in clock.breached if t != Target.RESOLUTION)
    if ticket.status in RUNNING:
        clock.running_since = now
    ticket.first_response_due = read(ticket, config, Target.FIRST_RESPONSE, cal).due
    ticket.resolution_due = read(ticket, config, Target.RESOLUTION, cal).due


def breached(ticket: Ticket, target: Target) -> bool:
    return target.value in ticket.sla.breached


def record(ticket: Ticket, target: Target, *, breach: bool) -> None:
    """Marks ``target`` warned (or breached: counted once more) in this cycle."""
    clock = ticket.sla
    if breach:
        clock.breached = (*clock.breached, target.value)
        clock.breaches += 1
    clock.warned = (*clock.warned, target.value)
