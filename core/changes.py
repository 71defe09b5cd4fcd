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

from core import policy
from core.clock import Clock, SystemClock
from core.coalesce import MERGEABLE, coalesce
from core.commands import TicketCommand
from core.config import DeskConfig
from core.errors import Conflict, NotFound
from core.events import Audience, Event, Payload
from core.identity import Actor
from core.inbound import Receipt
from core.policy import Action
from core.routing import Binding, PlatformRoute, plan_deliveries
from core.store.port import Store, StoreFactory
from core.tickets import Ticket

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


class Redirect(Exception):
    """The command belongs on ticket ``number`` (a follow-up that continues this one)."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


@dataclass
class Change:
    """One command's unit of work on one locked ticket: handlers change ``ticket`` and
    ``record`` the events that say what happened."""

    desk: DeskBase
    store: Store
    ticket: Ticket
    actor: Actor
    now: datetime
    origin: Binding | None
    recorded: list[tuple[Payload, Audience]] = field(default_factory=list)
    follow_up: Ticket | None = None

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

    async def run(self, actor: Actor, command: TicketCommand, *,
                  request_key: str | None = None, receipt: Receipt | None = None) -> Outcome:
        """Run a ticket command (``core.commands``) as ``actor``. Raises the typed errors
        of ``core.errors``; the same ``request_key`` again — or a ``receipt`` sharing a
        key with one stored before (``core.inbound``) — returns the first outcome with
        ``replayed=True`` and changes nothing."""
        for _ in range(REDIRECTS_MAX + 1):
            try:
                return await self._run_retrying(actor, command, request_key, receipt)
            except Redirect as redirect:
                command = _moved(command, redirect.number)
        raise NotFound("this conversation has moved on too many times; open a new ticket")

    async def _run_retrying(self, actor: Actor, command: TicketCommand,
                            request_key: str | None, receipt: Receipt | None) -> Outcome:
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return await self._run_once(actor, command, request_key, receipt)
            except Conflict:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _run_once(self, actor: Actor, command: TicketCommand,
                        request_key: str | None, receipt: Receipt | None = None) -> Outcome:
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
            policy.authorize(actor, action, self.config, ticket, now)
            change = Change(self, store, ticket, actor, now, origin)
            await handler(change, command)
            ticket.last_activity_at = now
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
        self._on_commit()
        return Outcome(ticket, events[0], change.follow_up)

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
            raise NotFound(f"there is no ticket #{number}")
        return ticket


def _moved(command: TicketCommand, number: int) -> TicketCommand:
    """``command`` aimed at ticket ``number``, no longer typed in a thread of it."""
    changes: dict[str, Any] = {"number": number}
    if hasattr(command, "in_thread"):
        changes["in_thread"] = None
    moved: TicketCommand = dataclasses.replace(command, **changes)
    return moved
