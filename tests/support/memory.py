"""An in-memory ``Store`` for unit tests of the core (no database), as in cosmicpython.

It implements the storage port (``core.store.port``) with dicts and copies, commits
on a clean exit and throws the transaction's writes away on an exception — the
same contract as ``core.store.sql.SqlStores``.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from core.coalesce import Waiting
from core.errors import Conflict
from core.events import Audience, Event, EventKind
from core.identity import Person, UserRef
from core.inbound import Receipt, ThreadCursor
from core.routing import Binding, Delivery, DeliveryState
from core.semantic import rank
from core.store.port import Hit, RequesterLoad, TicketQuery
from core.tickets import ACTIVE, DONE, Status, Ticket, Visibility
from core.timers import Timer, TimerSpec
from core.visibility import Viewer, in_shared_org, may_see
from tests.support import memory_search


@dataclass
class MemoryState:
    counter: int = 0
    tickets: dict[int, Ticket] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    leases: dict[int, tuple[str, datetime]] = field(default_factory=dict)  # id → owner, until
    delivery_ids: int = 0  # the last id given (ids are never reused, as in SQL)
    read_marks: dict[tuple[int, str], tuple[str, datetime]] = field(default_factory=dict)
    inbound: dict[str, tuple[int | None, datetime]] = field(default_factory=dict)
    cursors: dict[int, tuple[int, str]] = field(default_factory=dict)
    timers: dict[int, Timer] = field(default_factory=dict)
    timer_ids: int = 0
    embeddings: dict[tuple[int, str], bytes] = field(default_factory=dict)


class MemoryStore:
    def __init__(self, state: MemoryState) -> None:
        self.s = state

    async def next_ticket_number(self) -> int:
        self.s.counter += 1
        return self.s.counter

    async def requester_load(self, requester: UserRef, opened_since: datetime, subject: str,
                             description: str, duplicate_since: datetime) -> RequesterLoad:
        mine = [t for t in self.s.tickets.values() if t.requester.ref == requester]
        duplicates = [t.number for t in mine if t.opened_at >= duplicate_since
                      and t.subject == subject and t.description == description]
        return RequesterLoad(
            open_count=sum(t.status in ACTIVE for t in mine),
            opened_since=sum(t.opened_at >= opened_since for t in mine),
            duplicate_of=max(duplicates) if duplicates else None,
        )

    async def add_ticket(self, ticket: Ticket) -> None:
        self.s.tickets[ticket.number] = copy.deepcopy(ticket)

    async def add_new_ticket(self, ticket: Ticket, opened_by: UserRef) -> int:
        number = await self.next_ticket_number()
        await self.add_ticket(replace(ticket, number=number))
        await self.mark_read(number, opened_by, ticket.opened_at)
        return number

    async def get_ticket(self, number: int, *, for_update: bool = False) -> Ticket | None:
        ticket = self.s.tickets.get(number)
        return copy.deepcopy(ticket) if ticket else None

    async def update_ticket(self, ticket: Ticket) -> None:
        if ticket.number in self.s.tickets:  # as SQL's UPDATE: a missing row stays missing
            self.s.tickets[ticket.number] = copy.deepcopy(ticket)

    async def add_bindings(self, bindings: list[Binding]) -> None:
        for binding in bindings:
            binding.id = len(self.s.bindings) + 1
            self.s.bindings.append(copy.deepcopy(binding))

    async def bindings(self, number: int) -> list[Binding]:
        return [copy.deepcopy(b) for b in self.s.bindings if b.ticket_number == number]

    async def binding_at(self, platform: str, channel: str, thread: str, *,
                         in_dm: bool = False, author: str | None = None) -> Binding | None:
        channels = (channel, "dm", f"dm:{author}" if author else "dm") if in_dm \
            else (channel,)
        for b in self.s.bindings:
            if b.platform == platform and b.thread == thread and b.channel in channels:
                return copy.deepcopy(b)
        return None

    async def add_event(self, event: Event) -> None:
        if event.request_key and any(e.request_key == event.request_key for e in self.s.events):
            raise Conflict("this request was already handled")
        event.id = len(self.s.events) + 1
        self.s.events.append(copy.deepcopy(event))

    async def event_by_request_key(self, key: str) -> Event | None:
        found = [e for e in self.s.events if e.request_key == key]
        return copy.deepcopy(found[0]) if found else None

    async def events(self, number: int) -> list[Event]:
        return [copy.deepcopy(e) for e in self.s.events if e.ticket_number == number]

    async def add_deliveries(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            self.s.delivery_ids += 1
            d.id = self.s.delivery_ids
            self.s.deliveries.append(copy.deepcopy(d))

    async def waiting_notices(self, number: int, kind: EventKind,
                              now: datetime) -> list[Waiting]:
        events = {e.id: e for e in self.s.events}
        found = []
        for d in self.s.deliveries:
            lease = self.s.leases.get(d.id or 0)
            if d.ticket_number != number or d.state is not DeliveryState.PENDING \
                    or events[d.event_id].kind is not kind or d.maybe_sent \
                    or (lease is not None and lease[1] > now):
                continue
            start = events[d.merged_from or d.event_id]
            found.append(Waiting(copy.deepcopy(d), copy.deepcopy(start)))
        return found

    async def drop_deliveries(self, ids: list[int]) -> None:
        self.s.deliveries = [d for d in self.s.deliveries if d.id not in ids]

    def _listing(self, query: TicketQuery) -> list[Ticket]:
        me = query.viewer
        found = []
        news = self._news(list(self.s.tickets), me, query.sees_internal) \
            if query.unread else set()
        for t in self.s.tickets.values():
            visible = may_see(Viewer(me, query.sees_internal), t)
            if not visible or (query.statuses is not None and t.status not in query.statuses):
                continue
            if query.mine and me not in (t.requester.ref, t.assignee.ref if t.assignee else None):
                continue
            if query.org and not in_shared_org(me, t):
                continue
            if query.unread and t.number not in news:
                continue
            due = query.unassigned_or_due_before
            if due is not None and not (
                t.assignee is None
                or (t.resolution_due is not None and t.resolution_due < due)
                or (t.first_response_at is None and t.first_response_due is not None
                    and t.first_response_due < due)):
                continue
            found.append(t)
        return found

    async def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        found = self._listing(query)
        if query.by_due:
            far = datetime.max.replace(tzinfo=UTC)
            found.sort(key=lambda t: (t.first_response_due or t.resolution_due or far,
                                      t.number))
        else:
            found.sort(key=lambda t: (t.last_activity_at if query.sees_internal
                                      else t.public_activity_at, t.number), reverse=True)
        return [copy.deepcopy(t) for t in found[query.offset: query.offset + query.limit]]

    async def count_tickets(self, query: TicketQuery) -> int:
        return len(self._listing(query))

    async def search_tickets(self, query: TicketQuery) -> list[Hit]:
        return memory_search.search(self.s.tickets.values(), self.s.events, query)

    async def similar_tickets(self, words: tuple[str, ...], viewer: Viewer,
                              limit: int) -> list[Ticket]:
        return memory_search.similar(self.s.tickets.values(), self.s.events, words, viewer,
                                     limit)

    async def nearest_tickets(self, vector: bytes, model: str, viewer: Viewer,
                              limit: int) -> list[Ticket]:
        candidates = [(n, v) for (n, m), v in self.s.embeddings.items() if m == model
                      and self.s.tickets[n].status in DONE and self.s.tickets[n].resolution
                      and may_see(viewer, self.s.tickets[n])]
        return [copy.deepcopy(self.s.tickets[n]) for n in rank(vector, candidates, limit)]

    async def add_embedding(self, number: int, model: str, vector: bytes) -> None:
        self.s.embeddings[(number, model)] = vector

    async def without_embedding(self, model: str, limit: int) -> list[Ticket]:
        missing = [t for n, t in self.s.tickets.items() if (n, model) not in self.s.embeddings]
        return [copy.deepcopy(t) for t in sorted(missing, key=lambda t: -t.number)[:limit]]

    async def mark_read(self, number: int, reader: UserRef, at: datetime) -> None:
        self.s.read_marks[(number, reader.key)] = (reader.org, at)

    async def unread(self, numbers: list[int], reader: UserRef, internal: bool) -> set[int]:
        return self._news(numbers, reader, internal)

    def _news(self, numbers: list[int], reader: UserRef, internal: bool) -> set[int]:
        out: set[int] = set()
        for number in numbers:
            t = self.s.tickets.get(number)
            if t is None:
                continue
            shared = (not internal and t.visibility is Visibility.SHARED
                      and reader.org == t.requester.ref.org)
            marks = [at for (n, key), (org, at) in self.s.read_marks.items() if n == number
                     and (key == reader.key or (shared and org == t.requester.ref.org))]
            seen = max(marks, default=None)
            if any(e.ticket_number == number and (e.actor is None or e.actor.ref != reader)
                   and (internal or e.audience is Audience.PUBLIC)
                   and (seen is None or e.at > seen) for e in self.s.events):
                out.add(number)
        return out

    async def inbound_event(self, keys: tuple[str, ...]) -> Event | None:
        ids = {self.s.inbound[k][0] for k in keys if k in self.s.inbound}
        found = [e for e in self.s.events if e.id in ids]
        return copy.deepcopy(found[0]) if found else None

    async def record_inbound(self, receipt: Receipt, event_id: int | None,
                             binding_id: int | None, at: datetime) -> None:
        if any(k in self.s.inbound for k in receipt.keys):
            raise Conflict("this message was already stored")
        for key in receipt.keys:
            self.s.inbound[key] = (event_id, at)
        if binding_id is not None and receipt.order is not None and receipt.message:
            old = self.s.cursors.get(binding_id)
            if old is None or old[0] < receipt.order:
                self.s.cursors[binding_id] = (receipt.order, receipt.message)

    async def thread_cursors(self, platform: str, closed_since: datetime
                             ) -> list[ThreadCursor]:
        out = []
        for b in self.s.bindings:
            t = self.s.tickets[b.ticket_number]
            if b.platform != platform or b.thread is None or (
                    t.closed_at is not None and t.closed_at < closed_since):
                continue
            typed = [e.at for e in self.s.events if e.origin_binding_id == b.id]
            cursor = self.s.cursors.get(b.id or 0)
            out.append(ThreadCursor(copy.deepcopy(b), cursor[1] if cursor else None,
                                    max(typed, default=t.opened_at), t.requester.ref))
        return out

    async def prune_inbound(self, before: datetime) -> int:
        old = [k for k, (_, at) in self.s.inbound.items() if at < before]
        for key in old:
            del self.s.inbound[key]
        return len(old)

    async def rename(self, person: UserRef, placeholder: str, name: str) -> int:
        changed = 0
        renamed = Person(person, name)
        for e in self.s.events:
            if e.actor is not None and e.actor.ref == person and e.actor.name == placeholder:
                e.actor = renamed
                changed += 1
        for t in self.s.tickets.values():
            if t.requester.ref == person and t.requester.name == placeholder:
                t.requester = renamed
                changed += 1
            if t.assignee is not None and t.assignee.ref == person \
                    and t.assignee.name == placeholder:
                t.assignee = renamed
                changed += 1
        return changed


    # ---- timers ----------------------------------------------------------------

    async def replace_timers(self, number: int, specs: list[TimerSpec],
                             now: datetime | None = None, *,
                             new_ticket: bool = False) -> datetime | None:
        mine = [t for t in self.s.timers.values() if t.ticket_number == number]
        wanted = {(spec.kind, spec.fingerprint): spec for spec in specs}
        for timer in mine:
            spec = wanted.get((timer.kind, timer.fingerprint))
            if timer.fired_at is None and (spec is None or spec.due_at != timer.due_at):
                del self.s.timers[timer.id]
        known = {(t.kind, t.fingerprint) for t in self.s.timers.values()
                 if t.ticket_number == number}
        new = [spec for key, spec in wanted.items() if key not in known]
        for spec in new:
            self.s.timer_ids += 1
            self.s.timers[self.s.timer_ids] = Timer(self.s.timer_ids, number, spec.kind,
                                                    spec.due_at, spec.command, spec.fingerprint)
        return min((spec.due_at for spec in new), default=None)

    async def lock_pending_timer(self, timer_id: int) -> bool:
        timer = self.s.timers.get(timer_id)
        return timer is not None and timer.fired_at is None

    async def fire_timer(self, timer_id: int, now: datetime) -> None:
        timer = self.s.timers.get(timer_id)
        if timer is not None and timer.fired_at is None:
            self.s.timers[timer_id] = replace(timer, fired_at=now)

    async def drop_timer(self, timer_id: int) -> None:
        timer = self.s.timers.get(timer_id)
        if timer is not None and timer.fired_at is None:
            del self.s.timers[timer_id]

    def _pending(self) -> list[Timer]:
        return sorted((t for t in self.s.timers.values() if t.fired_at is None),
                      key=lambda t: (t.due_at, t.id))

    async def due_timers(self, now: datetime, limit: int) -> list[Timer]:
        return [t for t in self._pending() if t.due_at <= now][:limit]

    async def next_timer_due(self) -> datetime | None:
        pending = self._pending()
        return pending[0].due_at if pending else None

    async def tickets_without_timers(self, limit: int, after: int = 0) -> list[int]:
        with_timers = {t.ticket_number for t in self.s.timers.values()}
        return sorted(n for n, t in self.s.tickets.items() if n > after
                      and t.status is not Status.CLOSED and n not in with_timers)[:limit]

    async def timers(self, number: int) -> list[Timer]:
        return sorted((t for t in self.s.timers.values() if t.ticket_number == number),
                      key=lambda t: t.id)


class MemoryStores:
    """``StoreFactory``: a transaction works on a copy and swaps it in on commit."""

    def __init__(self) -> None:
        self.state = MemoryState()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryStore]:
        working = copy.deepcopy(self.state)
        yield MemoryStore(working)
        self.state = working

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[MemoryStore]:
        """A read: its copy is thrown away, so a write through it changes nothing."""
        yield MemoryStore(copy.deepcopy(self.state))

    def quick_read(self) -> AbstractAsyncContextManager[MemoryStore]:
        """As ``reading()`` (memory never waits)."""
        return self.reading()
