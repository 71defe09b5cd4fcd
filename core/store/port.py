"""The storage port the desk works through: one ``Store`` is one transaction.

``core.store.sql`` implements it on SQLAlchemy (SQLite, PostgreSQL); unit tests use
an in-memory implementation. Everything a use case writes in one ``Store`` commits
together or not at all — the ticket change, its events and its deliveries
("Nothing lost", DEVELOPERS.md).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.coalesce import Waiting
from core.events import Event, EventKind
from core.identity import UserRef
from core.inbound import Receipt, ThreadCursor
from core.routing import Binding, Delivery
from core.search import SearchQuery
from core.tickets import Status, Ticket
from core.timers import Timer, TimerSpec
from core.visibility import Viewer


@dataclass(frozen=True, slots=True)
class RequesterLoad:
    """What §8's limits need to know about one requester, read in one go."""

    open_count: int  # tickets in the four active statuses
    opened_since: int  # tickets opened since the hour-window start
    duplicate_of: int | None  # same subject+description inside the duplicate window


@dataclass(frozen=True, slots=True)
class TicketQuery:
    """A listing: ``statuses`` (None = all); ``viewer`` limits it to tickets they may see
    unless ``sees_internal``; ``mine`` keeps the viewer's own (requester or assignee);
    ``org`` keeps shared tickets of the viewer's org; ``unread`` those with news for the
    viewer (``Store.unread``). Newest activity the viewer may see first (for a viewer
    without ``sees_internal``, internal notes are no activity: ``public_activity_at``);
    with ``by_due``, soonest SLA due time first instead (none last). ``offset`` rows are
    skipped, then at most ``limit`` returned.
    ``search``: for ``Store.search_tickets`` (``core.search``)."""

    viewer: UserRef
    sees_internal: bool
    statuses: frozenset[Status] | None = None
    mine: bool = False
    org: bool = False
    unassigned_or_due_before: datetime | None = None
    search: SearchQuery | None = None
    unread: bool = False
    by_due: bool = False
    offset: int = 0
    limit: int = 50


# A search ranks at most this many matching tickets — the newest ones a viewer may see
# (ranking every match of a word in a fifth of a million tickets takes about half a
# second; the newest 200 take milliseconds, bench/search.py).
SEARCH_CANDIDATES = 200
# Deflection ranks the newest this many resolved tickets that share a word with a new
# one (full text) or have an embedding (semantic): bench/deflection.py measures both.
DEFLECT_CANDIDATES = 5000
SEMANTIC_CANDIDATES = 20000


@dataclass(frozen=True, slots=True)
class Hit:
    """A ticket a search found, with a short plain-text ``snippet`` around the match
    (None when the match was only the subject, a number or filters). Adapters escape it."""

    ticket: Ticket
    snippet: str | None


class Store(Protocol):
    async def next_ticket_number(self) -> int:
        """The next ticket number, unique across processes. Take it last, after every
        check that can refuse the ticket: a transaction that fails after taking it may
        leave a gap (PostgreSQL's sequence; SQLite's counter gives it back)."""
        ...

    async def requester_load(
        self,
        requester: UserRef,
        opened_since: datetime,
        subject: str,
        description: str,
        duplicate_since: datetime,
    ) -> RequesterLoad:
        """Counts for the limits and a duplicate, holding a per-requester lock until the
        transaction ends, so two submissions by one requester are checked one at a time."""
        ...

    async def add_ticket(self, ticket: Ticket) -> None: ...

    async def add_new_ticket(self, ticket: Ticket, opened_by: UserRef) -> int:
        """Insert ``ticket`` under the next ticket number (its own ``number`` is ignored),
        marked read by ``opened_by`` at its ``opened_at``, and return that number:
        ``next_ticket_number``, ``add_ticket`` and ``mark_read`` in one step (one
        statement on PostgreSQL)."""
        ...

    async def get_ticket(self, number: int, *, for_update: bool = False) -> Ticket | None:
        """``for_update`` locks the row until commit (PostgreSQL ``FOR UPDATE``)."""
        ...

    async def update_ticket(self, ticket: Ticket) -> None: ...

    async def add_bindings(self, bindings: list[Binding]) -> None:
        """Stores them and sets each ``id``."""
        ...

    async def bindings(self, number: int) -> list[Binding]: ...

    async def binding_at(self, platform: str, channel: str, thread: str, *,
                         in_dm: bool = False, author: str | None = None) -> Binding | None:
        """The binding whose thread is ``thread`` in ``channel`` on ``platform``; with
        ``in_dm`` also one stored under the placeholder channel ``dm`` (a requester's
        DM) or, given the message's ``author`` (a user id), ``dm:<author>`` (their own
        thread as a watcher)."""
        ...

    async def add_event(self, event: Event) -> None:
        """Stores it and sets ``event.id``. Raises ``Conflict`` if its ``request_key``
        was already used (a platform retry)."""
        ...

    async def event_by_request_key(self, key: str) -> Event | None: ...

    async def events(self, number: int) -> list[Event]: ...

    async def add_deliveries(self, deliveries: list[Delivery]) -> None: ...

    async def waiting_notices(self, number: int, kind: EventKind,
                              now: datetime) -> list[Waiting]:
        """Ticket ``number``'s pending deliveries of ``kind`` events that a newer notice
        may replace (``core.coalesce``): taken by no worker (no lease, or one that ended
        before ``now``, UTC) and not ``maybe_sent``; oldest first, each with the earliest
        event it tells. Locked until the transaction ends; a row being claimed this instant
        is left out."""
        ...

    async def drop_deliveries(self, ids: list[int]) -> None:
        """Deletes these deliveries (superseded by a merged notice)."""
        ...

    async def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        """The tickets ``query`` lists (not ``query.search``), in its order, the page
        ``offset``/``limit`` of it cut in the query."""
        ...

    async def count_tickets(self, query: TicketQuery) -> int:
        """How many tickets ``find_tickets`` would list without ``offset``/``limit``."""
        ...

    async def search_tickets(self, query: TicketQuery) -> list[Hit]:
        """``query.search`` over the tickets ``query.viewer`` may see, filters applied
        in the query: subject, description, public comments; fields and internal text
        (notes, hold and escalation reasons, rating comments) only when
        ``sees_internal``. Ranked by relevance (subject > description > comments), then
        newest activity, among the ``SEARCH_CANDIDATES`` newest matches; a bare number's
        ticket first. At most ``query.limit``. Raises nothing on any parsed query."""
        ...

    # ---- deflection (core.deflection) --------------------------------------------

    async def similar_tickets(self, words: tuple[str, ...], viewer: Viewer,
                              limit: int) -> list[Ticket]:
        """Resolved or closed tickets with a resolution note that ``viewer`` may see and
        whose text holds any of ``words`` (``core.search.tokens``): subject, description
        and public comments; fields and internal text too when ``viewer.is_agent``.
        Ranked by relevance (subject > description > comments) among the
        ``DEFLECT_CANDIDATES`` newest matches, then newest. At most ``limit``."""
        ...

    async def nearest_tickets(self, vector: bytes, model: str, viewer: Viewer,
                              limit: int) -> list[Ticket]:
        """Resolved or closed tickets with a resolution note that ``viewer`` may see,
        by the cosine similarity of their embedding under ``model`` to ``vector``
        (``core.semantic``), among the ``SEMANTIC_CANDIDATES`` newest that have one.
        At most ``limit``."""
        ...

    async def add_embedding(self, number: int, model: str, vector: bytes) -> None:
        """Stores ticket ``number``'s embedding under ``model`` (replacing one)."""
        ...

    async def without_embedding(self, model: str, limit: int) -> list[Ticket]:
        """Up to ``limit`` tickets with no embedding under ``model``, newest first."""
        ...

    async def mark_read(self, number: int, reader: UserRef, at: datetime) -> None: ...

    async def unread(self, numbers: list[int], reader: UserRef, internal: bool) -> set[int]:
        """Those of ``numbers`` with an event ``reader`` has not seen: made by someone
        else (or the desk), public unless ``internal`` (agents), and later than the
        latest time ``reader`` — or, for a shared ticket, anyone of the reader's org —
        saw the ticket (PRODUCT.md §2, "read marks"). An agent's (``internal``) news is
        read only by their own look: an org member's look says nothing of notes."""
        ...

    # ---- inbound (core.inbound) -------------------------------------------------

    async def inbound_event(self, keys: tuple[str, ...]) -> Event | None:
        """The event a message with any of ``keys`` made, if one was stored."""
        ...

    async def record_inbound(self, receipt: Receipt, event_id: int | None,
                             binding_id: int | None, at: datetime) -> None:
        """Keeps ``receipt``'s keys (seen ``at``, UTC) and moves ``binding_id``'s cursor
        forward to it. Raises ``Conflict`` when a key is already kept."""
        ...

    async def thread_cursors(self, platform: str, closed_since: datetime
                             ) -> list[ThreadCursor]:
        """Every thread of ``platform`` on a ticket not closed, or closed since
        ``closed_since`` (UTC), with where catch-up reads on."""
        ...

    async def prune_inbound(self, before: datetime) -> int:
        """Forgets inbound keys seen before ``before`` (UTC); returns how many."""
        ...

    async def rename(self, person: UserRef, placeholder: str, name: str) -> int:
        """Where ``person`` is still named ``placeholder`` (events, requester, assignee),
        names them ``name``; returns the rows changed."""
        ...


    # ---- timers (core.timers) -----------------------------------------------------

    async def replace_timers(self, number: int, specs: list[TimerSpec],
                             now: datetime | None = None, *,
                             new_ticket: bool = False) -> datetime | None:
        """Makes ticket ``number``'s pending timers exactly ``specs``: drops pending ones no
        spec matches (kind, fingerprint and due time), inserts specs not stored yet — a
        spec whose (kind, fingerprint) already fired is not set again. ``new_ticket``: it
        was inserted in this transaction, so it has none yet (nothing to read). Returns
        the earliest due time (UTC) it inserted, if any (PostgreSQL also NOTIFYs it)."""
        ...

    async def lock_pending_timer(self, timer_id: int) -> bool:
        """Whether the timer is still pending, locking it until the transaction ends."""
        ...

    async def fire_timer(self, timer_id: int, now: datetime) -> None:
        """Marks it fired at ``now`` (UTC)."""
        ...

    async def drop_timer(self, timer_id: int) -> None:
        """Deletes it if still pending."""
        ...

    async def due_timers(self, now: datetime, limit: int) -> list[Timer]:
        """Pending timers due by ``now`` (UTC), soonest first."""
        ...

    async def next_timer_due(self) -> datetime | None:
        """The earliest pending timer's due time (UTC)."""
        ...

    async def tickets_without_timers(self, limit: int, after: int = 0) -> list[int]:
        """Tickets numbered above ``after``, not closed, that have no timer row at all
        (written before timers existed; paused ones): the scheduler plans theirs when it
        starts. Ascending, at most ``limit``."""
        ...

    async def timers(self, number: int) -> list[Timer]:
        """Every timer of ticket ``number``, pending and fired, oldest first."""
        ...


class QuickReads(Protocol):
    """The reads a pre-check makes before a form opens (``StoreFactory.quick_read``)."""

    async def requester_load(self, requester: UserRef, opened_since: datetime, subject: str,
                             description: str, duplicate_since: datetime) -> RequesterLoad:
        """As ``Store.requester_load``; it changes nothing."""
        ...

    async def get_ticket(self, number: int) -> Ticket | None:
        """As ``Store.get_ticket``, never locking it."""
        ...


class StoreFactory(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Store]:
        """A ``Store`` whose writes commit when the block exits cleanly."""
        ...

    def reading(self) -> AbstractAsyncContextManager[Store]:
        """A ``Store`` for reading only: it never takes the write lock (SQLite: a
        deferred transaction, where writes begin ``IMMEDIATE``), so reads run beside
        writers and each other. Writing through it is a bug."""
        ...

    def quick_read(self) -> AbstractAsyncContextManager[QuickReads]:
        """Like ``reading()``, for one small indexed statement that comes before a first
        answer (a pre-check before a form opens): where the database allows (a SQLite
        file) it runs on the event loop at once, never suspending. Each statement is
        its own snapshot."""
        ...
