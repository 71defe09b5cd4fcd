"""Timers: a command due at a time, set against the ticket's state then (DESIGN.md, "Time").

``plan`` says, for a ticket as a change leaves it, which timers it should have:
the next SLA warning or breach of each running clock, the waiting reminder and
expiry, the auto-close of a resolved ticket, the end of a close request. The
command path stores exactly these in the same transaction as the change
(``Store.replace_timers``), so a later change cancels what no longer applies.
Each carries a ``fingerprint`` of the state it was set against; a timer fires
only while the ticket still plans it with that fingerprint, re-checked inside
the transaction that fires it, and a (ticket, kind, fingerprint) fires at most
once (a unique key in the store).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core import commands as cmd
from core import sla
from core.business_hours import Calendar
from core.config import DeskConfig
from core.events import AutoClosed
from core.sla import Target
from core.tickets import ACTIVE, Status, Ticket


class TimerKind(StrEnum):
    FIRST_RESPONSE_WARNING = "first_response_warning"
    FIRST_RESPONSE_BREACH = "first_response_breach"
    RESOLUTION_WARNING = "resolution_warning"
    RESOLUTION_BREACH = "resolution_breach"
    WAITING_REMINDER = "waiting_reminder"
    WAITING_EXPIRY = "waiting_expiry"
    RESOLVED_CLOSE = "resolved_close"
    CLOSE_REQUEST_EXPIRY = "close_request_expiry"


_SLA_KINDS = {
    (Target.FIRST_RESPONSE, False): TimerKind.FIRST_RESPONSE_WARNING,
    (Target.FIRST_RESPONSE, True): TimerKind.FIRST_RESPONSE_BREACH,
    (Target.RESOLUTION, False): TimerKind.RESOLUTION_WARNING,
    (Target.RESOLUTION, True): TimerKind.RESOLUTION_BREACH,
}
SLA_NOTICES = frozenset(_SLA_KINDS.values())
CLOSING = frozenset({TimerKind.WAITING_EXPIRY, TimerKind.RESOLVED_CLOSE,
                     TimerKind.CLOSE_REQUEST_EXPIRY})


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """A timer a ticket should have: ``command`` is run as ``System`` at ``due_at`` (UTC)."""

    kind: TimerKind
    due_at: datetime
    command: cmd.TicketCommand
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Timer:
    """A stored timer, pending unless ``fired_at`` is set."""

    id: int
    ticket_number: int
    kind: TimerKind
    due_at: datetime
    command: cmd.TicketCommand
    fingerprint: str
    fired_at: datetime | None = None


def plan(ticket: Ticket, config: DeskConfig, calendar: Calendar | None = None
         ) -> list[TimerSpec]:
    """The timers ``ticket`` should have now (PRODUCT.md §7), soonest first."""
    cal = calendar or config.calendar()
    specs = [spec for target in Target
             if (spec := _sla_notice(ticket, config, cal, target)) is not None]
    life = config.lifecycle
    since = ticket.sla.status_since
    n = ticket.number
    if ticket.status is Status.WAITING and since is not None:
        expires = since + life.waiting_expires_after
        reminder = expires - life.waiting_reminder_before
        mark = f"waiting@{since.isoformat()}"
        if reminder > since:
            specs.append(TimerSpec(TimerKind.WAITING_REMINDER, reminder,
                                   cmd.RemindRequester(n, expires), mark))
        specs.append(TimerSpec(TimerKind.WAITING_EXPIRY, expires,
                               cmd.AutoClose(n, AutoClosed.NO_REPLY), mark))
    if ticket.status is Status.RESOLVED and ticket.resolved_at is not None:
        specs.append(TimerSpec(TimerKind.RESOLVED_CLOSE,
                               ticket.resolved_at + life.resolved_closes_after,
                               cmd.AutoClose(n, AutoClosed.RESOLVED),
                               f"resolved@{ticket.resolved_at.isoformat()}"))
    asked = ticket.close_requested_at
    if asked is not None and ticket.status in ACTIVE:
        specs.append(TimerSpec(TimerKind.CLOSE_REQUEST_EXPIRY, asked + life.close_request_after,
                               cmd.AutoClose(n, AutoClosed.CLOSE_REQUEST),
                               f"asked@{asked.isoformat()}"))
    return sorted(specs, key=lambda spec: spec.due_at)


def _sla_notice(ticket: Ticket, config: DeskConfig, cal: Calendar,
                target: Target) -> TimerSpec | None:
    """The next notice of ``target``'s running clock: its warning, or once warned its
    breach; nothing once breached in this cycle, met, paused or stopped. With
    ``business_hours.notify_outside_hours = false`` a notice due while closed waits for
    the next opening."""
    reading = sla.read(ticket, config, target, cal)
    if not reading.running or sla.breached(ticket, target):
        return None
    breach = target.value in ticket.sla.warned
    due = reading.due if breach else reading.warn_at
    assert due is not None and reading.due is not None
    hours = config.business_hours
    if hours is not None and not hours.notify_outside_hours:
        due = cal.next_opening(due)
    fingerprint = f"{ticket.sla.cycle}:{reading.due.isoformat()}"
    return TimerSpec(_SLA_KINDS[(target, breach)], due,
                     cmd.SlaAlert(ticket.number, target.value, breach), fingerprint)


def still_planned(timer: Timer, ticket: Ticket, config: DeskConfig, now: datetime,
                  calendar: Calendar | None = None) -> bool:
    """Whether ``timer`` may fire now: the ticket, as it stands inside the firing
    transaction, still plans this kind with the same fingerprint, due by ``now``."""
    return any(spec.kind is timer.kind and spec.fingerprint == timer.fingerprint
               and spec.due_at <= now for spec in plan(ticket, config, calendar))
