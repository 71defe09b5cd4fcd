"""An in-memory ``Store`` for unit tests of the core (no database), as in cosmicpython.

It implements the storage port (``core.store.port``) with dicts and copies, commits
on a clean exit and throws the transaction's writes away on an exception — the
same contract as ``core.store.sql.SqlStores``.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import Conflict
from core.events import Audience, Event
from core.identity import UserRef
from core.routing import Binding, Delivery
from core.store.port import RequesterLoad, TicketQuery
from core.tickets import ACTIVE, Ticket, Visibility
from core.visibility import Viewer, in_shared_org, may_see


@dataclass
class MemoryState:
    counter: int = 0
    tickets: dict[int, Ticket] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    read_marks: dict[tuple[int, str], tuple[str, datetime]] = field(default_factory=dict)


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
                         in_dm: bool = False) -> Binding | None:
        channels = (channel, "dm") if in_dm else (channel,)
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
            d.id = len(self.s.deliveries) + 1
            self.s.deliveries.append(copy.deepcopy(d))

    async def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        me = query.viewer
        found = []
        for t in self.s.tickets.values():
            visible = may_see(Viewer(me, query.sees_internal), t)
            if not visible or (query.statuses is not None and t.status not in query.statuses):
                continue
            if query.mine and me not in (t.requester.ref, t.assignee.ref if t.assignee else None):
                continue
            if query.org and not in_shared_org(me, t):
                continue
            due = query.unassigned_or_due_before
            if due is not None and not (
                t.assignee is None
                or (t.resolution_due is not None and t.resolution_due < due)
                or (t.first_response_at is None and t.first_response_due is not None
                    and t.first_response_due < due)):
                continue
            if not all(self._matches(t, word, query.sees_internal) for word in query.words):
                continue
            found.append(copy.deepcopy(t))
        found.sort(key=lambda t: (t.last_activity_at, t.number), reverse=True)
        return found[: query.limit]

    def _matches(self, t: Ticket, word: str, agent: bool) -> bool:
        w = word.lower()
        if w in t.subject.lower() or w in t.description.lower():
            return True
        return any(e.ticket_number == t.number and e.text and w in e.text.lower()
                   and (agent or e.audience is Audience.PUBLIC) for e in self.s.events)

    async def mark_read(self, number: int, reader: UserRef, at: datetime) -> None:
        self.s.read_marks[(number, reader.key)] = (reader.org, at)

    async def unread(self, numbers: list[int], reader: UserRef, internal: bool) -> set[int]:
        out: set[int] = set()
        for number in numbers:
            t = self.s.tickets.get(number)
            if t is None:
                continue
            shared = t.visibility is Visibility.SHARED and reader.org == t.requester.ref.org
            marks = [at for (n, key), (org, at) in self.s.read_marks.items() if n == number
                     and (key == reader.key or (shared and org == t.requester.ref.org))]
            seen = max(marks, default=None)
            if any(e.ticket_number == number and (e.actor is None or e.actor.ref != reader)
                   and (internal or e.audience is Audience.PUBLIC)
                   and (seen is None or e.at > seen) for e in self.s.events):
                out.add(number)
        return out


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
