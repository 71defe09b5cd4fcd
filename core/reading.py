"""The desk's read side: show, transcripts, list, search and the queue (PRODUCT.md §4).

Mixed into ``core.desk.Desk``; every read is filtered by what the viewer may see
(PRODUCT.md §1) and internal events are shown to agents only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core import policy, search, transcripts
from core.capabilities import transition_refusal
from core.characters import trim
from core.clock import Clock
from core.config import DeskConfig
from core.errors import Invalid, NotFound
from core.events import Audience
from core.identity import Actor
from core.policy import Action
from core.routing import Binding
from core.sla import WARNING_AT
from core.store.port import Store, StoreFactory, TicketQuery
from core.tickets import ACTIVE, DONE, Status, Ticket
from core.transcripts import Transcript
from core.validation import clean_text
from core.views import Listed, TicketDetails, TicketView, sensitive_fields, ticket_view

LIST_SCOPES = {"open": ACTIVE, "closed": DONE, "all": None}
SEARCH_MAX = 200


# Assigned tickets whose due time is this close are read, then ranked by how much of
# their target is used (a week covers 20% of the longest default target and a weekend).
AT_RISK_HORIZON = timedelta(days=7)


def _urgency(view: TicketView, now: datetime) -> int | None:
    """0 breached, 1 at risk (warned, or less than a fifth of a target left), 2
    unassigned; None: not for the queue."""
    if view.breached or (view.sla_due is not None and view.sla_due <= now):
        return 0
    if any(c.due is not None and (c.warned or c.due - now <= c.limit * (1 - WARNING_AT))
           for c in view.clocks):
        return 1
    return 2 if view.assignee is None else None


class Reading:
    config: DeskConfig
    stores: StoreFactory
    clock: Clock

    async def show(self, actor: Actor, number: int) -> TicketDetails:
        """All fields and the history ``actor`` may read; marks the ticket read.
        Raises ``NotFound`` if it does not exist or ``actor`` may not see it."""
        async with self.stores.transaction() as store:
            details = await self._details(store, actor, number)
            await store.mark_read(number, actor.ref, self.clock.now())
        return details

    async def transcript(self, actor: Actor, number: int) -> Transcript:
        """``/ticket transcript N``: the whole conversation and history ``actor`` may read
        (internal notes and internal fields only for agents; never sensitive fields) as
        an HTML page and Markdown. Reads only: marks nothing read, never takes the write
        lock. Raises ``NotFound`` if it does not exist or ``actor`` may not see it."""
        async with self.stores.reading() as store:
            details = await self._details(store, actor, number)
        return transcripts.build(details, desk_name=self.config.desk.name,
                                 generated_at=self.clock.now())

    async def _details(self, store: Store, actor: Actor, number: int) -> TicketDetails:
        """Ticket ``number`` as ``actor`` may read it (``Action.SEE``; internal events,
        fields and bindings with ``Action.SEE_INTERNAL``). Raises ``NotFound``."""
        ticket = await store.get_ticket(number)
        if ticket is None:
            raise NotFound(f"there is no ticket #{number}")
        now = self.clock.now()
        policy.require_visible(actor, ticket, self.config)
        agent = policy.can(actor, Action.SEE_INTERNAL, self.config, ticket)
        audience = Audience.INTERNAL if agent else Audience.PUBLIC
        events = [e.visible_to(audience) for e in await store.events(number)
                  if agent or e.audience is Audience.PUBLIC]
        bindings = [b for b in await store.bindings(number)
                    if agent or b.audience is Audience.PUBLIC]
        held = policy.roles(actor, self.config, ticket)
        return TicketDetails(
            ticket=ticket_view(ticket, self.config, internal=agent, now=now, viewer=held,
                               who=actor.person),
            events=tuple(events),
            bindings=tuple(bindings),
            sensitive=sensitive_fields(ticket, self.config) if agent else (),
            sees_internal=agent,
        )

    async def check(self, actor: Actor, number: int, action: Action) -> TicketView:
        """Raises what running ``action`` on ticket ``number`` would raise for ``actor``
        now — ``NotFound``, ``NotAllowed``, ``InvalidTransition`` — and changes nothing:
        a control is pre-checked with this before its form opens. Returns the ticket as
        ``actor`` may see it."""
        async with self.stores.quick_read() as store:  # one statement, before the form
            ticket = await store.get_ticket(number)
        if ticket is None:
            raise NotFound(f"there is no ticket #{number}")
        now = self.clock.now()
        policy.authorize(actor, action, self.config, ticket, now)
        refusal = transition_refusal(action, ticket, actor.person, now)
        if refusal is not None:
            raise refusal
        agent = policy.can(actor, Action.SEE_INTERNAL, self.config, ticket)
        return ticket_view(ticket, self.config, internal=agent, now=now,
                           viewer=policy.roles(actor, self.config, ticket), who=actor.person)

    async def check_may_escalate(self, actor: Actor, number: int) -> None:
        """``check(actor, number, Action.ESCALATE)`` (the Escalate button's form)."""
        await self.check(actor, number, Action.ESCALATE)

    def may(self, actor: Actor, action: Action) -> bool:
        """True if ``actor`` may take ``action``, which names no ticket (open for
        someone, the queue, a panel, stats): adapters ask before they show a form."""
        return policy.can(actor, action, self.config)

    def require(self, actor: Actor, action: Action) -> None:
        """Raises ``NotAllowed`` unless ``actor`` may take ``action`` (no ticket)."""
        policy.authorize(actor, action, self.config)

    async def list_tickets(self, actor: Actor, scope: str = "open", *, mine: bool = False,
                           org: bool = False, unread: bool = False) -> list[Listed]:
        """``/ticket list [open|closed|all] [mine|org] [unread]``, newest activity first."""
        if scope not in LIST_SCOPES:
            raise Invalid("scope", "must be open, closed or all")
        query = TicketQuery(
            viewer=actor.ref,
            sees_internal=policy.can(actor, Action.SEE_INTERNAL, self.config),
            statuses=LIST_SCOPES[scope],
            mine=mine,
            org=org,
            limit=200 if unread else 50,
        )
        listed = await self._listed(actor, query)
        return [item for item in listed if item.unread][:50] if unread else listed

    async def search(self, actor: Actor, text: str) -> list[Listed]:
        """``/ticket search``: the query language of ``core.search`` over the tickets
        ``actor`` may see (internal text for agents only), best match first, each with
        a snippet. Reads only: marks nothing read and takes no write lock. Raises
        ``Invalid("search", …)`` for an empty or over-long query, ``Invalid(<filter>,
        …)`` for a bad filter value."""
        text = trim(text)
        if not text:
            raise Invalid("search", "type some words, a \"phrase\" or a ticket number")
        text = clean_text("search", text, max_length=SEARCH_MAX, multiline=True)
        parsed = search.parse(text, self.config, actor.ref)
        agent = policy.can(actor, Action.SEE_INTERNAL, self.config)
        query = TicketQuery(viewer=actor.ref, sees_internal=agent, search=parsed)
        async with self.stores.reading() as store:
            hits = await store.search_tickets(query)
            unread = await store.unread([h.ticket.number for h in hits], actor.ref,
                                        internal=agent)
        return [Listed(ticket_view(h.ticket, self.config, internal=agent),
                       unread=h.ticket.number in unread,
                       last_activity_at=h.ticket.last_activity_at, snippet=h.snippet)
                for h in hits]

    async def queue(self, actor: Actor) -> list[Listed]:
        """Agents: breached, then at-risk (past 80% of a target), then unassigned active
        tickets, each by SLA due time (PRODUCT.md §4); paused tickets are not due."""
        policy.authorize(actor, Action.QUEUE, self.config)
        now = self.clock.now()
        query = TicketQuery(viewer=actor.ref, sees_internal=True, statuses=ACTIVE,
                            unassigned_or_due_before=now + AT_RISK_HORIZON, limit=200)
        ranked = [(rank, item) for item in await self._listed(actor, query)
                  if (rank := _urgency(item.ticket, now)) is not None]
        far = datetime.max.replace(tzinfo=now.tzinfo)
        ranked.sort(key=lambda pair: (pair[0], pair[1].ticket.sla_due or far))
        return [item for _, item in ranked[:50]]

    async def binding_at(self, platform: str, channel: str, thread: str, *,
                         in_dm: bool = False) -> Binding | None:
        """The ticket or team thread at ``thread`` in ``channel`` (for adapters' events).
        ``in_dm``: the message was written in someone's DM with the app, so a thread
        stored under the placeholder channel ``dm`` (a requester's DM) may match; a
        message in any other channel never lands on a DM thread (ts values are unique
        only within a channel)."""
        async with self.stores.reading() as store:
            return await store.binding_at(platform, channel, thread, in_dm=in_dm)

    async def bindings_of(self, number: int) -> list[Binding]:
        """Where ticket ``number`` lives on every platform (adapters link to its threads).
        No actor: for rendering deliveries, never shown to a user as such."""
        async with self.stores.reading() as store:
            return await store.bindings(number)

    async def _listed(self, actor: Actor, query: TicketQuery) -> list[Listed]:
        async with self.stores.reading() as store:
            found: list[Ticket] = await store.find_tickets(query)
            unread = await store.unread([t.number for t in found], actor.ref,
                                        internal=query.sees_internal)
        return [
            Listed(
                ticket_view(t, self.config, internal=query.sees_internal),
                unread=t.number in unread,
                last_activity_at=t.last_activity_at,
            )
            for t in found
        ]


__all__ = ["LIST_SCOPES", "Reading", "Status"]
