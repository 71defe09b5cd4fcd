"""The ``Store`` port on SQLAlchemy Core over an ``AsyncConnection`` (SQLite, PostgreSQL).

Core statements rather than ORM sessions: a use case is a handful of statements
in one transaction, and the desk must stay within 2× of raw INSERTs (bench/core.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from core.coalesce import Waiting
from core.errors import Conflict
from core.events import Event, EventKind
from core.identity import UserRef
from core.routing import WATCHER_DM, Binding, Delivery, DeliveryState
from core.store.deflect_sql import DeflectSql
from core.store.engine import READING, quick_reader
from core.store.failures import unavailable
from core.store.inbound_sql import InboundSql
from core.store.port import QuickReads, RequesterLoad, TicketQuery
from core.store.quick import QuickStore
from core.store.rows import (
    Prefixed,
    binding_from,
    delivery_from,
    delivery_values,
    event_from,
    event_values,
    ticket_from,
    ticket_values,
)
from core.store.search_sql import SearchSql
from core.store.tables import (
    Base,
    BindingRow,
    CounterRow,
    DeliveryRow,
    EventRow,
    ReadMarkRow,
    TicketRow,
)
from core.store.timers_sql import TimersSql
from core.store.visible_sql import activity, grant_condition, unread_by, visible_to
from core.tickets import ACTIVE, Ticket
from core.visibility import Grant, Viewer


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


T = _table(TicketRow)
B = _table(BindingRow)
E = _table(EventRow)
D = _table(DeliveryRow)
R = _table(ReadMarkRow)
C = _table(CounterRow)
ACTIVE_VALUES = sorted(s.value for s in ACTIVE)

# The statements every write runs, built once: building a statement per call (and its
# cache key) cost more than the database round trip it makes (bench/core.py).
# SQLite: the ``counters`` row, under the write lock ``BEGIN IMMEDIATE`` took anyway.
# PostgreSQL: a sequence (migration 0004), which locks nothing until commit; gap-free as
# long as no transaction fails after taking its number (``Intake._create`` takes it last).
NEXT_NUMBER = (update(C).where(C.c.name == "ticket").values(value=C.c.value + 1)
               .returning(C.c.value))
NEXT_NUMBER_POSTGRES = select(func.nextval("ticket_numbers"))
# A new ticket and its opener's read mark in one round trip (openings are measured at 8
# callers against raw INSERTs: each round trip is a large part of the desk's cost).
_NEW_TICKET = insert(T).values(
    number=func.nextval("ticket_numbers"),
    **{c.name: bindparam(f"t_{c.name}", type_=c.type) for c in T.c if c.name != "number"},
).returning(T.c.number).cte("new_ticket")
INSERT_NEW_TICKET_POSTGRES = insert(R).from_select(
    [R.c.ticket_number, R.c.reader_key, R.c.reader_org, R.c.seen_at],
    select(_NEW_TICKET.c.number, bindparam("reader_key", type_=R.c.reader_key.type),
           bindparam("reader_org", type_=R.c.reader_org.type),
           bindparam("seen_at", type_=R.c.seen_at.type)),
).returning(R.c.ticket_number)
_MINE = T.c.requester_key == bindparam("requester")
REQUESTER_LOAD = select(
    select(func.count()).where(_MINE, T.c.status.in_(ACTIVE_VALUES)).scalar_subquery(),
    select(func.count()).where(_MINE, T.c.opened_at >= bindparam("opened_since"))
    .scalar_subquery(),
    select(T.c.number)
    .where(_MINE, T.c.opened_at >= bindparam("duplicate_since"),
           T.c.subject == bindparam("subject"), T.c.description == bindparam("description"))
    .order_by(T.c.number.desc()).limit(1).scalar_subquery(),
)
# Two identical submissions at the same moment must not both pass the duplicate check.
LOCK_REQUESTER = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
INSERT_TICKET = insert(T)
GET_TICKET = select(T).where(T.c.number == bindparam("number"))
# A locked load also reads the ticket's bindings (one round trip instead of two): every
# change records an event, and planning its deliveries needs them.
LOCK_TICKET_WITH_BINDINGS = (
    select(T, *(column.label(f"binding_{column.name}") for column in B.c))
    .select_from(T.outerjoin(B, B.c.ticket_number == T.c.number))
    .where(T.c.number == bindparam("number"))
    .order_by(B.c.id)
    .with_for_update(of=T)
)
# No SET clause: the parameters' column keys make it (``ticket_number`` is the WHERE's).
UPDATE_TICKET = update(T).where(T.c.number == bindparam("ticket_number"))
INSERT_BINDINGS = insert(B).returning(B.c.id, sort_by_parameter_order=True)
# SQLAlchemy cannot batch the ordered form on SQLite (it would send one INSERT per row),
# but SQLite assigns the new rowids in VALUES order: one INSERT, ids sorted ascending.
INSERT_BINDINGS_SQLITE = insert(B).returning(B.c.id)
BINDINGS_OF = select(B).where(B.c.ticket_number == bindparam("number")).order_by(B.c.id)
INSERT_EVENT = insert(E).returning(E.c.id)
EVENT_BY_REQUEST_KEY = select(E).where(E.c.request_key == bindparam("key"))
EVENTS_OF = select(E).where(E.c.ticket_number == bindparam("number")).order_by(E.c.id)
INSERT_DELIVERIES = insert(D)
_STARTS_AT = E.alias("start")
_OWN_EVENT = E.alias("own")
# Deliveries of one ticket's notices of one kind that no worker has taken and that
# cannot have reached a platform: what a newer notice of that kind may replace. A row
# a worker's claim has locked this instant is being taken: skipped, never waited for
# (the claim may be waiting for a row this transaction locked).
WAITING_NOTICES = (
    select(D, *(c.label(f"start_{c.name}") for c in _STARTS_AT.c))
    .join(_OWN_EVENT, _OWN_EVENT.c.id == D.c.event_id)
    .join(_STARTS_AT, _STARTS_AT.c.id == func.coalesce(D.c.merged_from, D.c.event_id))
    .where(D.c.ticket_number == bindparam("number"),
           D.c.state == DeliveryState.PENDING.value,
           _OWN_EVENT.c.kind == bindparam("kind"), D.c.maybe_sent.is_(False),
           or_(D.c.leased_until.is_(None), D.c.leased_until <= bindparam("now")))
    .order_by(D.c.id)
    .with_for_update(of=D, skip_locked=True)
)


class SqlStore(InboundSql, TimersSql, SearchSql, DeflectSql):
    """One transaction on one connection; see ``core.store.port.Store``.

    ``get_ticket(…, for_update=True)`` reads the ticket's bindings in the same statement
    and ``bindings()`` answers from that read for the rest of the transaction (nothing in
    it changes a binding but ``add_bindings``, which drops the remembered list)."""

    def __init__(self, conn: AsyncConnection, search_language: str = "simple") -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.search_language = search_language
        self._bindings: dict[int, list[Binding]] = {}

    async def next_ticket_number(self) -> int:
        taking = NEXT_NUMBER_POSTGRES if self.dialect == "postgresql" else NEXT_NUMBER
        return int((await self.conn.execute(taking)).scalar_one())

    async def requester_load(self, requester: UserRef, opened_since: datetime, subject: str,
                             description: str, duplicate_since: datetime) -> RequesterLoad:
        if self.dialect == "postgresql":  # SQLite: BEGIN IMMEDIATE already serialises writers
            await self.conn.execute(LOCK_REQUESTER, {"key": requester.key})
        row = (await self.conn.execute(REQUESTER_LOAD, {
            "requester": requester.key, "opened_since": opened_since,
            "duplicate_since": duplicate_since, "subject": subject, "description": description,
        })).one()
        return RequesterLoad(int(row[0]), int(row[1]), row[2])

    async def add_ticket(self, ticket: Ticket) -> None:
        await self.conn.execute(INSERT_TICKET, ticket_values(ticket))

    async def add_new_ticket(self, ticket: Ticket, opened_by: UserRef) -> int:
        if self.dialect != "postgresql":
            number = await self.next_ticket_number()
            await self.add_ticket(replace(ticket, number=number))
            await self.mark_read(number, opened_by, ticket.opened_at)
            return number
        values = {f"t_{k}": v for k, v in ticket_values(ticket).items() if k != "number"}
        values.update(reader_key=opened_by.key, reader_org=opened_by.org,
                      seen_at=ticket.opened_at)
        return int((await self.conn.execute(INSERT_NEW_TICKET_POSTGRES, values)).scalar_one())

    async def get_ticket(self, number: int, *, for_update: bool = False) -> Ticket | None:
        if not for_update:
            row = (await self.conn.execute(GET_TICKET, {"number": number})).first()
            return ticket_from(row) if row else None
        rows = (await self.conn.execute(LOCK_TICKET_WITH_BINDINGS, {"number": number})).all()
        if not rows:
            return None
        self._bindings[number] = [
            binding_from(r, "binding_") for r in rows if r._mapping["binding_id"] is not None]
        return ticket_from(rows[0])

    async def update_ticket(self, ticket: Ticket) -> None:
        values = ticket_values(ticket)
        values["ticket_number"] = values.pop("number")
        await self.conn.execute(UPDATE_TICKET, values)

    async def add_bindings(self, bindings: list[Binding]) -> None:
        if not bindings:
            return
        for binding in bindings:
            self._bindings.pop(binding.ticket_number, None)
        rows = [{
            "ticket_number": b.ticket_number, "platform": b.platform, "workspace": b.workspace,
            "audience": b.audience.value, "channel": b.channel,
            "reaches_requester": b.reaches_requester, "in_requester_dm": b.in_requester_dm,
            "thread": b.thread, "card_message": b.card_message,
        } for b in bindings]
        if self.dialect == "sqlite":
            ids = sorted((await self.conn.execute(INSERT_BINDINGS_SQLITE, rows)).scalars())
        else:
            ids = list((await self.conn.execute(INSERT_BINDINGS, rows)).scalars())
        for binding, binding_id in zip(bindings, ids, strict=True):
            binding.id = int(binding_id)

    async def bindings(self, number: int) -> list[Binding]:
        known = self._bindings.get(number)
        if known is not None:
            return [replace(b) for b in known]
        rows = await self.conn.execute(BINDINGS_OF, {"number": number})
        return [binding_from(r) for r in rows]

    async def binding_at(self, platform: str, channel: str, thread: str, *,
                         in_dm: bool = False, author: str | None = None) -> Binding | None:
        where = [B.c.platform == platform, B.c.thread == thread]
        channels = [channel]
        if in_dm:
            channels += ["dm"] + ([WATCHER_DM + author] if author else [])
        where.append(B.c.channel.in_(channels))
        row = (await self.conn.execute(select(B).where(*where))).first()
        return binding_from(row) if row else None

    async def add_event(self, event: Event) -> None:
        try:
            async with self.conn.begin_nested() if event.request_key else _no_savepoint():
                result = await self.conn.execute(INSERT_EVENT, event_values(event))
        except IntegrityError as err:
            raise Conflict("this request was already handled") from err
        event.id = int(result.scalar_one())

    async def event_by_request_key(self, key: str) -> Event | None:
        row = (await self.conn.execute(EVENT_BY_REQUEST_KEY, {"key": key})).first()
        return event_from(row) if row else None

    async def events(self, number: int) -> list[Event]:
        rows = await self.conn.execute(EVENTS_OF, {"number": number})
        return [event_from(r) for r in rows]

    async def add_deliveries(self, deliveries: list[Delivery]) -> None:
        await self.conn.execute(INSERT_DELIVERIES, [delivery_values(d) for d in deliveries])

    async def waiting_notices(self, number: int, kind: EventKind,
                              now: datetime) -> list[Waiting]:
        rows = await self.conn.execute(WAITING_NOTICES, {
            "number": number, "kind": kind.value, "now": now})
        return [Waiting(delivery_from(r), event_from(Prefixed(r, "start_"))) for r in rows]

    async def drop_deliveries(self, ids: list[int]) -> None:
        await self.conn.execute(delete(D).where(D.c.id.in_(ids)))

    async def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        if query.by_due:
            due = func.coalesce(T.c.first_response_due, T.c.resolution_due)
            order = [due.asc().nulls_last(), T.c.number.asc()]
        else:
            order = [activity(query.sees_internal).desc(), T.c.number.desc()]
        rows = await self.conn.execute(
            select(T).where(*_listing(query)).order_by(*order)
            .offset(query.offset).limit(query.limit))
        return [ticket_from(r) for r in rows]

    async def count_tickets(self, query: TicketQuery) -> int:
        return int((await self.conn.execute(
            select(func.count()).select_from(T).where(*_listing(query)))).scalar_one())

    async def mark_read(self, number: int, reader: UserRef, at: datetime) -> None:
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(R).values(ticket_number=number, reader_key=reader.key,
                                        reader_org=reader.org, seen_at=at)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=[R.c.ticket_number, R.c.reader_key], set_={"seen_at": at}))

    async def unread(self, numbers: list[int], reader: UserRef, internal: bool) -> set[int]:
        if not numbers:
            return set()
        rows = await self.conn.execute(
            select(T.c.number).where(T.c.number.in_(numbers), unread_by(reader, internal)))
        return {int(n) for n in rows.scalars()}


def _listing(query: TicketQuery) -> list[ColumnElement[bool]]:
    """``query``'s conditions on ``tickets`` (``Store.find_tickets``)."""
    me = query.viewer
    conditions: list[ColumnElement[bool]] = [visible_to(Viewer(me, query.sees_internal))]
    if query.statuses is not None:
        conditions.append(T.c.status.in_(sorted(s.value for s in query.statuses)))
    if query.mine:
        conditions.append(or_(T.c.requester_key == me.key, T.c.assignee_key == me.key))
    if query.org:
        conditions.append(grant_condition(Grant.ORG_SHARED, Viewer(me, False)))
    if query.unassigned_or_due_before is not None:
        due = query.unassigned_or_due_before
        conditions.append(or_(
            T.c.assignee_key.is_(None),
            T.c.resolution_due < due,
            and_(T.c.first_response_at.is_(None), T.c.first_response_due < due),
        ))
    if query.unread:
        conditions.append(unread_by(me, query.sees_internal))
    return conditions


@asynccontextmanager
async def _no_savepoint() -> AsyncIterator[None]:
    yield


_NO_QUEUE = contextlib.nullcontext()
_WRITERS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _sqlite_writers(engine: AsyncEngine) -> asyncio.Lock | None:
    """One queue per SQLite engine (every ``SqlStores`` on it shares it); None elsewhere."""
    if engine.dialect.name != "sqlite":
        return None
    return _WRITERS.setdefault(engine, asyncio.Lock())


class SqlStores:
    """``StoreFactory`` over an engine: each ``transaction()`` is one connection's
    transaction, committed on a clean exit and rolled back on an exception; a failing
    database raises ``Unavailable`` (``core.store.failures``), never the driver's error.
    ``search_language``: the text search configuration searches use, the one the index
    was built with (``core.store.search_language.use_search_language``)."""

    def __init__(self, engine: AsyncEngine, search_language: str = "simple") -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", search_language):
            raise ValueError(f"search_language: {search_language!r} is not a text search "
                             "configuration's name")
        self.engine = engine
        self.search_language = search_language
        self._quick = quick_reader(engine)
        self._writers = _sqlite_writers(engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlStore]:
        """Raises ``core.errors.Unavailable`` when the database fails (``failures``).
        On SQLite this process's writers queue first come, first served: a waiting
        ``BEGIN IMMEDIATE`` only sleeps and retries, so a busy writer taking the lock
        again at once could starve the others (a timer firing seconds late)."""
        async with self._writers or _NO_QUEUE, unavailable("a desk transaction"), \
                self.engine.begin() as conn:
            yield SqlStore(conn, self.search_language)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqlStore]:
        """A transaction that only reads (``engine.READING``: SQLite begins it deferred,
        taking no write lock). Raises ``Unavailable`` like ``transaction``."""
        async with unavailable("a read"), self.engine.connect() as conn:
            await conn.execution_options(**{READING: True})
            async with conn.begin():
                yield SqlStore(conn, self.search_language)

    def quick_read(self) -> AbstractAsyncContextManager[QuickReads]:
        """One small read on the loop itself (SQLite file: ``quick.QuickStore`` on
        ``engine.quick_reader``, whose statements never suspend); ``reading()`` on any
        other database. Only for one indexed statement: each statement is its own
        snapshot. Raises ``Unavailable`` like ``transaction``."""
        if self._quick is None:
            return self.reading()
        return QuickStore(self._quick, self._on_connection)

    def _on_connection(self, conn: Connection) -> SqlStore:
        return SqlStore(cast(AsyncConnection, _AtOnce(conn)), self.search_language)


class _AtOnce:
    """``AsyncConnection.execute`` over a synchronous connection: awaiting it runs the
    statement at once and never suspends."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)
