"""The one path every command takes (DESIGN.md, "How data flows").

``DeskBase.execute`` runs a ticket command in one unit of work: idempotency by
request key, load the ticket (locked), authorise from the permission table
(``core.policy``), apply the command's handler (a pure transition plus the
typed events it records), plan deliveries, commit, wake the delivery worker.
A conflict (a retry of the same request stored first) runs it once more, which
finds the stored answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from core import policy, sla, timers
from core.clock import Clock, SystemClock
from core.coalesce import MERGEABLE, coalesce
from core.commands import TicketCommand
from core.config import DeskConfig
from core.errors import Conflict, DeskError, NotFound, no_ticket
from core.events import Audience, Event, Payload
from core.identity import SYSTEM, Actor
from core.inbound import Receipt
from core.policy import Action
from core.routing import Binding, PlatformRoute, plan_deliveries
from core.store.port import Store, StoreFactory
from core.tickets import Ticket
from core.timers import Timer

CONFLICT_ATTEMPTS = 3
REDIRECTS_MAX = 3  # a message in an old thread follows at most this many follow-ups


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did: the ticket as it left it and its main event. ``follow_up``
    is a ticket the command opened (a requester's message past the reopen window);
    ``replayed`` when the request key had been handled before (nothing changed now)."""

    ticket: Ticket
    event: Event
    follow_up: Ticket | None = None
    replayed: bool = False


class Stale(Exception):
    """A timer that no longer applies: a later change cancelled or moved it, or it fired."""


class Redirect(Exception):
    """The command belongs on ticket ``number`` (a follow-up that continues this one)."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


@dataclass
class Change:
    """One command's unit of work on one locked ticket: handlers change ``ticket`` and
    ``record`` the events that say what happened; ``bindings`` are the ticket's threads
    its events are planned for (a handler that adds one stores it and appends it)."""

    desk: DeskBase
    store: Store
    ticket: Ticket
    actor: Actor
    now: datetime
    origin: Binding | None
    recorded: list[tuple[Payload, Audience]] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    follow_up: Ticket | None = None
    timer_set: datetime | None = None  # the earliest timer another ticket got (a follow-up)

    def record(self, payload: Payload, audience: Audience = Audience.PUBLIC) -> None:
        self.recorded.append((payload, audience))

    @property
    def config(self) -> DeskConfig:
        return self.desk.config


Handler = Callable[[Change, Any], Awaitable[None]]


class DeskBase:
    """The desk's state and its command path. ``routes`` say where new tickets get
    threads; ``on_commit`` is called after every commit (wakes the delivery worker)."""

    handlers: ClassVar[dict[type[Any], tuple[Action, Handler]]] = {}

    def __init__(
        self,
        config: DeskConfig,
        stores: StoreFactory,
        routes: list[PlatformRoute],
        clock: Clock | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.stores = stores
        self.routes = routes
        self.clock = clock or SystemClock()
        self._on_commit = on_commit or (lambda: None)
        # Told the due time (UTC) of each timer a commit set: wakes the scheduler early.
        self.on_timer: Callable[[datetime], None] = lambda due: None

    async def fire(self, timer: Timer) -> bool:
        """Run a due timer's command as ``System`` through the command path, marking it
        fired in the same transaction; True if it did something. A timer that no longer
        applies — cancelled, already fired, set against a state that has changed since —
        or whose command is refused now, is dropped and its ticket's timers planned
        afresh (PRODUCT.md §7: never twice, never one a later change cancelled)."""
        try:
            outcome = await self.run(SYSTEM, timer.command, request_key=f"timer:{timer.id}",
                                     timer=timer)
            return not outcome.replayed
        except (Stale, DeskError):
            earliest = None
            async with self.stores.transaction() as store:
                ticket = await store.get_ticket(timer.ticket_number, for_update=True)
                await store.drop_timer(timer.id)
                if ticket is not None:
                    earliest = await self._plan_timers(store, ticket)
            self._committed(earliest, deliveries=False)
            return False

    async def replan(self, number: int) -> None:
        """Stores the timers ticket ``number`` needs now (a ticket stored before timers
        existed; after a config change). Raises ``NotFound``."""
        async with self.stores.transaction() as store:
            ticket = await self._load(store, number, lock=True)
            earliest = await self._plan_timers(store, ticket)
        self._committed(earliest, deliveries=False)

    async def _plan_timers(self, store: Store, ticket: Ticket, *,
                           new_ticket: bool = False) -> datetime | None:
        """Stores the timers ``ticket`` needs now, cancelling the rest; returns the
        earliest due time (UTC) it set, if it set any."""
        return await store.replace_timers(ticket.number, timers.plan(ticket, self.config),
                                          new_ticket=new_ticket)

    async def run(self, actor: Actor, command: TicketCommand, *,
                  request_key: str | None = None, receipt: Receipt | None = None,
                  timer: Timer | None = None) -> Outcome:
        """Run a ticket command (``core.commands``) as ``actor``. Raises the typed errors
        of ``core.errors``; the same ``request_key`` again — or a ``receipt`` sharing a
        key with one stored before (``core.inbound``) — returns the first outcome with
        ``replayed=True`` and changes nothing."""
        for _ in range(REDIRECTS_MAX + 1):
            try:
                return await self._run_retrying(actor, command, request_key, receipt, timer)
            except Redirect as redirect:
                command = _moved(command, redirect.number)
        raise NotFound("this conversation has moved on too many times; open a new ticket")

    async def _run_retrying(self, actor: Actor, command: TicketCommand,
                            request_key: str | None, receipt: Receipt | None,
                            timer: Timer | None) -> Outcome:
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return await self._run_once(actor, command, request_key, receipt, timer)
            except Conflict:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _run_once(self, actor: Actor, command: TicketCommand,
                        request_key: str | None, receipt: Receipt | None = None,
                        timer: Timer | None = None) -> Outcome:
        action, handler = self.handlers[type(command)]
        now = self.clock.now()
        async with self.stores.transaction() as store:
            prior = await store.event_by_request_key(request_key) if request_key else None
            if prior is None and receipt is not None:
                prior = await store.inbound_event(receipt.keys)
            if prior is not None:
                return Outcome(await self._load(store, prior.ticket_number), prior,
                               replayed=True)
            ticket = await self._load(store, command.number, lock=True)
            bindings = await store.bindings(ticket.number)
            in_thread = getattr(command, "in_thread", None)
            origin = next((b for b in bindings if b.id == in_thread), None)
            if timer is not None and not (
                    await store.lock_pending_timer(timer.id)
                    and timers.still_planned(timer, ticket, self.config, now)):
                raise Stale(timer.id)
            policy.authorize(actor, action, self.config, ticket, now)
            change = Change(self, store, ticket, actor, now, origin, bindings=bindings)
            before, answered = ticket.status, ticket.first_response_at is not None
            await handler(change, command)
            sla.settle(ticket, before, answered, self.config, now)
            if not (actor.system and all(a is Audience.INTERNAL for _, a in change.recorded)):
                ticket.last_activity_at = now  # an SLA notice is not activity
            if any(a is Audience.PUBLIC for _, a in change.recorded):
                ticket.public_activity_at = now  # what a requester may see moved
            await store.update_ticket(ticket)
            # Only the first event is what was typed in ``origin`` (not echoed back there);
            # what it caused (a reopen, a resume) is news to that thread too.
            events = [await self._record(store, ticket, payload, actor, now, audience,
                                         *((request_key, origin) if i == 0 else (None, None)),
                                         bindings)
                      for i, (payload, audience) in enumerate(change.recorded)]
            if receipt is not None:  # in the same transaction: stored means known
                await store.record_inbound(receipt, events[0].id,
                                           origin.id if origin else None, now)
            if timer is not None:
                await store.fire_timer(timer.id, now)
            earliest = await self._plan_timers(store, ticket)
        self._committed(min((t for t in (earliest, change.timer_set) if t is not None),
                            default=None))
        return Outcome(ticket, events[0], change.follow_up)

    def _committed(self, earliest_timer: datetime | None, *, deliveries: bool = True) -> None:
        """After a commit: wake the delivery worker, and the scheduler for a new timer."""
        if deliveries:
            self._on_commit()
        if earliest_timer is not None:
            self.on_timer(earliest_timer)

    async def _record(self, store: Store, ticket: Ticket, payload: Payload, actor: Actor,
                      now: datetime, audience: Audience = Audience.PUBLIC,
                      request_key: str | None = None, origin: Binding | None = None,
                      bindings: list[Binding] | None = None) -> Event:
        """Append one event and the deliveries it needs (PRODUCT.md §5–6)."""
        event = Event(ticket.number, payload, None if actor.system else actor.person, now,
                      actor.ref.platform, audience=audience, request_key=request_key,
                      origin_binding_id=origin.id if origin else None)
        await store.add_event(event)
        if bindings is None:
            bindings = await store.bindings(ticket.number)
        deliveries = plan_deliveries(event, ticket, bindings, self.routes, now)
        if deliveries and event.kind in MERGEABLE:  # a waiting notice of this field merges
            waiting = await store.waiting_notices(ticket.number, event.kind, now)
            superseded = coalesce(event, deliveries, waiting)
            if superseded:
                await store.drop_deliveries(superseded)
        if deliveries:
            await store.add_deliveries(deliveries)
        return event

    @staticmethod
    async def _load(store: Store, number: int, *, lock: bool = False) -> Ticket:
        ticket = await store.get_ticket(number, for_update=lock)
        if ticket is None:
            raise no_ticket(number)
        return ticket


def _moved(command: TicketCommand, number: int) -> TicketCommand:
    """``command`` aimed at ticket ``number``, no longer typed in a thread of it."""
    changes: dict[str, Any] = {"number": number}
    if hasattr(command, "in_thread"):
        changes["in_thread"] = None
    moved: TicketCommand = dataclasses.replace(command, **changes)
    return moved
