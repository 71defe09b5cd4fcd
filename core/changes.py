"""What every desk use case shares: construction, the one-transaction change path,
recording an event with its deliveries (DESIGN.md, "How data flows")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import policy
from core.clock import Clock, SystemClock
from core.config import DeskConfig
from core.errors import Conflict, NotFound
from core.events import Audience, Event, EventKind
from core.identity import Actor
from core.routing import Binding, PlatformRoute, plan_deliveries
from core.store.port import Store, StoreFactory
from core.tickets import Ticket


class DeskBase:
    """The desk's state and its shared change path. ``routes`` are the platforms running
    now (where new tickets get threads); ``on_commit`` is called after every commit."""

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

    # ---- the shared path of every change -------------------------------------

    async def _changed(self, actor: Actor, number: int, kind: EventKind,
                       apply: Callable[[Ticket], dict[str, Any]], agent_only: str | None,
                       audience: Audience = Audience.PUBLIC,
                       request_key: str | None = None) -> Ticket:
        ticket, _ = await self._change(actor, number, kind, apply, audience=audience,
                                       agent_only=agent_only, request_key=request_key)
        return ticket

    async def _change(self, actor: Actor, number: int, kind: EventKind,
                      apply: Callable[[Ticket], dict[str, Any]], *, audience: Audience,
                      agent_only: str | None, origin: Binding | None = None,
                      request_key: str | None = None) -> tuple[Ticket, Event]:
        if agent_only:
            policy.require_agent(actor, self.config, agent_only)
        try:
            return await self._change_once(actor, number, kind, apply, audience, origin,
                                           request_key)
        except Conflict:
            # A concurrent retry of the same request was stored first: answer with it.
            return await self._change_once(actor, number, kind, apply, audience, origin,
                                           request_key)

    async def _change_once(self, actor: Actor, number: int, kind: EventKind,
                           apply: Callable[[Ticket], dict[str, Any]], audience: Audience,
                           origin: Binding | None,
                           request_key: str | None) -> tuple[Ticket, Event]:
        now = self.clock.now()
        async with self.stores.transaction() as store:
            if request_key and (prior := await store.event_by_request_key(request_key)):
                return await self._load(store, prior.ticket_number), prior
            ticket = await self._load(store, number, lock=True)
            policy.require_visible(actor, ticket, self.config)
            data = apply(ticket)
            ticket.last_activity_at = now
            await store.update_ticket(ticket)
            event = Event(number, kind, actor.person, now, actor.ref.platform,
                          audience=audience, data=data, request_key=request_key,
                          origin_binding_id=origin.id if origin else None)
            await self._record(store, ticket, event)
        self._on_commit()
        return ticket, event

    async def _record(self, store: Store, ticket: Ticket, event: Event,
                      bindings: list[Binding] | None = None) -> None:
        await store.add_event(event)
        if bindings is None:
            bindings = await store.bindings(ticket.number)
        deliveries = plan_deliveries(event, ticket, bindings, self.routes, event.at)
        if deliveries:
            await store.add_deliveries(deliveries)

    @staticmethod
    async def _load(store: Store, number: int, *, lock: bool = False) -> Ticket:
        ticket = await store.get_ticket(number, for_update=lock)
        if ticket is None:
            raise NotFound(f"there is no ticket #{number}")
        return ticket
