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
        left = limit - used
        # Time used up: it was due when it ran out (kept by ``settle``), not now.
        due = (cal.add(clock.running_since, left) if left > timedelta(0)
               else _deadline(ticket, target) or clock.running_since)
        warn_at = cal.add(clock.running_since, max(limit * WARNING_AT - used, timedelta(0)))
        if now is not None:
            used += cal.between(clock.running_since, now)
    met = (ticket.first_response_at is not None if target is Target.FIRST_RESPONSE
           else ticket.resolved_at is not None)  # closed unresolved (expired): not met
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
    # Where each clock would have run out during the run now ending (the targets as they
    # stand after this change: a priority change counts from its own target).
    ran_out = {t: _runs_out(ticket, config, t, cal) for t in Target}
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
            clock.resolution_deadline = ran_out[Target.RESOLUTION] = None
    if ticket.status in RUNNING:
        clock.running_since = now
    for target in Target:
        used = (clock.first_response_used if target is Target.FIRST_RESPONSE
                else clock.resolution_used)
        if timedelta(seconds=used) < _limit(ticket, config, target):
            _keep_deadline(ticket, target, None)
        elif _deadline(ticket, target) is None:
            before_now = ran_out[target]
            _keep_deadline(ticket, target,
                           before_now if before_now is not None and before_now <= now
                           else now)
    ticket.first_response_due = read(ticket, config, Target.FIRST_RESPONSE, cal).due
    ticket.resolution_due = read(ticket, config, Target.RESOLUTION, cal).due


def _runs_out(ticket: Ticket, config: DeskConfig, target: Target,
              cal: Calendar) -> datetime | None:
    """When ``target``'s running clock runs out if it keeps running (None: it is not
    running, or its time was used up before this run)."""
    reading = read(ticket, config, target, cal)
    if not reading.running or reading.used >= reading.limit:
        return None
    return reading.due


def forget_deadlines(ticket: Ticket) -> None:
    """Targets changed (a new priority): a missed one runs out afresh, at the latest now."""
    ticket.sla.first_response_deadline = ticket.sla.resolution_deadline = None


def _deadline(ticket: Ticket, target: Target) -> datetime | None:
    clock = ticket.sla
    return (clock.first_response_deadline if target is Target.FIRST_RESPONSE
            else clock.resolution_deadline)


def _keep_deadline(ticket: Ticket, target: Target, at: datetime | None) -> None:
    if target is Target.FIRST_RESPONSE:
        ticket.sla.first_response_deadline = at
    else:
        ticket.sla.resolution_deadline = at


def breached(ticket: Ticket, target: Target) -> bool:
    return target.value in ticket.sla.breached


def record(ticket: Ticket, target: Target, *, breach: bool) -> None:
    """Marks ``target`` warned (or breached: counted once more) in this cycle."""
    clock = ticket.sla
    if breach:
        clock.breached = (*clock.breached, target.value)
        clock.breaches += 1
    clock.warned = (*clock.warned, target.value)
