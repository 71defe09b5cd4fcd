"""The desk's read side: show, transcripts, list, search and the queue (PRODUCT.md §4).

Mixed into ``core.desk.Desk``; every read is filtered by what the viewer may see
(PRODUCT.md §1) and internal events are shown to agents only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from core import policy, search, transcripts
from core.capabilities import transition_refusal
from core.characters import trim
from core.clock import Clock
from core.config import DeskConfig
from core.errors import Invalid, no_ticket
from core.events import Audience
from core.identity import Actor
from core.policy import Action
from core.routing import Binding
from core.sla import WARNING_AT
from core.store.port import Store, StoreFactory, TicketQuery
from core.tickets import ACTIVE, DONE, Status, Ticket
from core.transcripts import Transcript
from core.validation import clean_text
from core.views import (
    Listed,
    Page,
    TicketDetails,
    TicketView,
    sensitive_fields,
    ticket_view,
)

LIST_SCOPES = {"open": ACTIVE, "closed": DONE, "all": None}
PAGE_SIZE = 20  # tickets on a page of /ticket list and /ticket queue
QUEUE_CANDIDATES = 500  # the queue ranks at most this many soonest-due active tickets
SEARCH_MAX = 200
SEARCH_SHOWN = 50  # hits ``search`` returns at once (``search_page``: 20 a page)


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
            raise no_ticket(number)
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
            raise no_ticket(number)
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

    async def list_page(self, actor: Actor, scope: str = "open", *, mine: bool = False,
                        org: bool = False, unread: bool = False, page: int = 1) -> Page:
        """``/ticket list [open|closed|all] [mine|org] [unread] [page N]``: page ``page``
        (``PAGE_SIZE`` a page) of the tickets ``actor`` may see, newest activity they
        may see first (an internal note is activity for agents only), cut in the query.
        Reads only: marks nothing read. Raises ``Invalid("scope", …)`` for another
        scope, ``Invalid("page", …)`` for a page below 1 or past the end (naming how
        many pages there are)."""
        if scope not in LIST_SCOPES:
            raise Invalid("scope", "must be open, closed or all")
        _check_page(page)
        agent = policy.can(actor, Action.SEE_INTERNAL, self.config)
        query = TicketQuery(viewer=actor.ref, sees_internal=agent,
                            statuses=LIST_SCOPES[scope], mine=mine, org=org, unread=unread,
                            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
        async with self.stores.reading() as store:
            found: list[Ticket] = await store.find_tickets(query)
            if not found and page > 1:
                raise _past_end(page, await store.count_tickets(query))
            shown = found[:PAGE_SIZE]
            news = {t.number for t in shown} if unread else await store.unread(
                [t.number for t in shown], actor.ref, internal=agent)
        return Page(tuple(self._line(t, agent, news) for t in shown), page,
                    more=len(found) > PAGE_SIZE)

    async def list_tickets(self, actor: Actor, scope: str = "open", *, mine: bool = False,
                           org: bool = False, unread: bool = False) -> list[Listed]:
        """The first page of ``list_page``."""
        return list((await self.list_page(actor, scope, mine=mine, org=org,
                                          unread=unread)).items)

    async def search(self, actor: Actor, text: str) -> list[Listed]:
        """``/ticket search``: the query language of ``core.search`` over the tickets
        ``actor`` may see (internal text for agents only), best match first (at most
        50), each with a snippet. Reads only: marks nothing read and takes no write
        lock. Raises ``Invalid("search", …)`` for an empty or over-long query,
        ``Invalid(<filter>, …)`` for a bad filter value."""
        hits, _ = await self._search(actor, text, SEARCH_SHOWN, 0)
        return hits

    async def search_page(self, actor: Actor, text: str, page: int = 1) -> Page:
        """``/ticket search … page N``: page ``page`` (``PAGE_SIZE`` a page) of ``search``'s
        ranking (within ``SEARCH_CANDIDATES``, ``core.store.port``). Raises what
        ``search`` raises, and ``Invalid("page", …)`` for a page below 1 or past the
        end."""
        _check_page(page)
        start = (page - 1) * PAGE_SIZE
        shown, total = await self._search(actor, text, start + PAGE_SIZE + 1, start)
        if not shown and page > 1:
            raise _past_end(page, total)
        return Page(tuple(shown[:PAGE_SIZE]), page, more=total > start + PAGE_SIZE)

    async def _search(self, actor: Actor, text: str, limit: int, start: int
                      ) -> tuple[list[Listed], int]:
        """The hits from ``start`` of the best ``limit``, and how many of those there were."""
        text = trim(text)
        if not text:
            raise Invalid("search", "type some words, a \"phrase\" or a ticket number")
        text = clean_text("search", text, max_length=SEARCH_MAX, multiline=True)
        parsed = search.parse(text, self.config, actor.ref)
        agent = policy.can(actor, Action.SEE_INTERNAL, self.config)
        query = TicketQuery(viewer=actor.ref, sees_internal=agent, search=parsed, limit=limit)
        async with self.stores.reading() as store:
            hits = await store.search_tickets(query)
            shown = hits[start:]
            unread = await store.unread([h.ticket.number for h in shown], actor.ref,
                                        internal=agent)
        return [replace(self._line(h.ticket, agent, unread), snippet=h.snippet)
                for h in shown], len(hits)

    async def queue_page(self, actor: Actor, page: int = 1) -> Page:
        """``/ticket queue [page N]``, agents only: breached, then at-risk (warned, or less
        than a fifth of a target left), then unassigned active tickets, each by SLA due
        time (PRODUCT.md §4); paused tickets are not due. The rank needs each ticket's
        targets (config), so it is computed here over the ``QUEUE_CANDIDATES`` soonest
        due candidates the query returns. Raises ``NotAllowed`` for a non-agent,
        ``Invalid("page", …)`` for a page below 1 or past the end."""
        policy.authorize(actor, Action.QUEUE, self.config)
        _check_page(page)
        now = self.clock.now()
        query = TicketQuery(viewer=actor.ref, sees_internal=True, statuses=ACTIVE,
                            unassigned_or_due_before=now + AT_RISK_HORIZON, by_due=True,
                            limit=QUEUE_CANDIDATES)
        async with self.stores.reading() as store:
            candidates = await store.find_tickets(query)
            ranked = [(rank, t) for t in candidates
                      if (rank := _urgency(ticket_view(t, self.config, internal=True,
                                                       now=now), now)) is not None]
            far = datetime.max.replace(tzinfo=now.tzinfo)
            ranked.sort(key=lambda pair: (pair[0], _due(pair[1]) or far))
            start = (page - 1) * PAGE_SIZE
            shown = [t for _, t in ranked[start:start + PAGE_SIZE]]
            if not shown and page > 1:
                raise _past_end(page, len(ranked))
            news = await store.unread([t.number for t in shown], actor.ref, internal=True)
        return Page(tuple(self._line(t, True, news) for t in shown), page,
                    more=len(ranked) > start + PAGE_SIZE)

    async def queue(self, actor: Actor) -> list[Listed]:
        """The first page of ``queue_page``."""
        return list((await self.queue_page(actor)).items)

    async def binding_at(self, platform: str, channel: str, thread: str, *,
                         in_dm: bool = False, author: str | None = None) -> Binding | None:
        """The ticket or team thread at ``thread`` in ``channel`` (for adapters' events).
        ``in_dm``: the message was written in someone's DM with the app, so a thread
        stored under the placeholder channel ``dm`` (a requester's DM) may match, and
        with ``author`` (the writer's user id) their own watcher thread ``dm:<author>``;
        a message in any other channel never lands on a DM thread (ts values are unique
        only within a channel)."""
        async with self.stores.reading() as store:
            return await store.binding_at(platform, channel, thread, in_dm=in_dm,
                                          author=author)

    async def bindings_of(self, number: int) -> list[Binding]:
        """Where ticket ``number`` lives on every platform (adapters link to its threads).
        No actor: for rendering deliveries, never shown to a user as such."""
        async with self.stores.reading() as store:
            return await store.bindings(number)

    def _line(self, ticket: Ticket, agent: bool, news: set[int]) -> Listed:
        """One line of a list as a viewer (``agent`` or not) sees it."""
        return Listed(ticket_view(ticket, self.config, internal=agent),
                      unread=ticket.number in news,
                      last_activity_at=ticket.last_activity_at if agent
                      else ticket.public_activity_at)


def _due(ticket: Ticket) -> datetime | None:
    """``TicketView.sla_due`` of an active ticket."""
    return ticket.first_response_due or ticket.resolution_due


def _check_page(page: int) -> None:
    if page < 1:
        raise Invalid("page", "pages are numbered from 1")


def _past_end(page: int, total: int) -> Invalid:
    """The answer to a page past the end of a list of ``total`` tickets."""
    pages = -(-total // PAGE_SIZE)
    if pages == 0:
        return Invalid("page", f"there is no page {page}; the list is empty")
    return Invalid("page", f"there is no page {page}; the list has {pages} "
                           f"page{'s' if pages > 1 else ''}")


__all__ = ["LIST_SCOPES", "PAGE_SIZE", "Page", "Reading", "Status"]
