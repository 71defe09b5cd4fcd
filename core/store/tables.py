"""The database tables, as SQLAlchemy 2 typed models (migrations: ``core/store/migrations``).

Times are stored as UTC (``UtcDateTime``); JSON columns hold category fields,
watchers, links and event data. The ``counters`` row ``ticket`` hands out ticket
numbers inside the opening transaction, so a refused submission takes none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class CounterRow(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class TicketRow(Base):
    __tablename__ = "tickets"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), index=True)
    visibility: Mapped[str] = mapped_column(String(10))
    requester_key: Mapped[str] = mapped_column(String(200))
    requester_org: Mapped[str] = mapped_column(String(120), index=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    assignee_key: Mapped[str | None] = mapped_column(String(200), index=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]]
    watchers: Mapped[list[Any]]
    watcher_keys: Mapped[str] = mapped_column(Text, default="|")  # "|key|key|" for LIKE
    links: Mapped[list[Any]]
    source: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(20))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None] = mapped_column(index=True)
    # the newest event a requester may see (migration 0009): non-agents' lists sort by it
    public_activity_at: Mapped[datetime | None] = mapped_column(index=True)
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    sla: Mapped[dict[str, Any] | None]  # core.tickets.SlaClock
    close_requested_at: Mapped[datetime | None]
    rating: Mapped[str | None] = mapped_column(String(8))
    rating_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_tickets_requester_opened", "requester_key", "opened_at"),
        # A requester's search walks her tickets and her org's shared ones newest first
        # (core.store.search_sql; migration 0008).
        Index("ix_tickets_requester_number", "requester_key", "number"),
        Index("ix_tickets_org_shared", "requester_org", "visibility", "number"),
    )


class WatcherRow(Base):
    """Who watches a ticket (kept in step with ``tickets.watchers`` by a trigger,
    migration 0007): the visibility filter reads it through ``ix_watchers_key``."""

    __tablename__ = "watchers"
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"), primary_key=True)
    watcher_key: Mapped[str] = mapped_column(String(200), primary_key=True)

    __table_args__ = (Index("ix_watchers_key", "watcher_key", "ticket_number"),)


class BindingRow(Base):
    __tablename__ = "bindings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(64))
    reaches_requester: Mapped[bool]
    in_requester_dm: Mapped[bool]
    thread: Mapped[str | None] = mapped_column(String(64))
    card_message: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_bindings_thread", "platform", "thread"),)


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_key: Mapped[str | None] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
    platform: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(10))
    data: Mapped[dict[str, Any]]
    body: Mapped[str | None] = mapped_column(Text)  # the event's text, for search
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    origin_binding_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_events_ticket", "ticket_number", "id"),)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    platform: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(10))
    audience: Mapped[str] = mapped_column(String(10))
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("bindings.id"))
    address: Mapped[str | None] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    leased_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(32))  # the worker holding it
    maybe_sent: Mapped[bool] = mapped_column(default=False)
    merged_from: Mapped[int | None] = mapped_column(Integer)  # core.coalesce
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_deliveries_due", "state", "platform", "next_attempt_at"),
        Index("ix_deliveries_chain", "ticket_number", "platform", "state", "id"),
    )


class ReadMarkRow(Base):
    __tablename__ = "read_marks"
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"), primary_key=True)
    reader_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    reader_org: Mapped[str] = mapped_column(String(120))
    seen_at: Mapped[datetime]


class InboundKeyRow(Base):
    """What identified an inbound message (``core.inbound``): pruned after a while."""

    __tablename__ = "inbound_keys"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    seen_at: Mapped[datetime] = mapped_column(index=True)


class ThreadCursorRow(Base):
    """The newest platform message stored from a thread: where catch-up reads on."""

    __tablename__ = "thread_cursors"
    binding_id: Mapped[int] = mapped_column(ForeignKey("bindings.id"), primary_key=True,
                                            autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class TimerRow(Base):
    """A command due at a time (``core.timers``): pending while ``fired_at`` is NULL. A
    ticket's (kind, fingerprint) is unique, so a timer set against one state fires once."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    command: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(120))
    set_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_timers_once", "ticket_number", "kind", "fingerprint", unique=True),
        Index("ix_timers_due", "fired_at", "due_at"),
    )


class EmbeddingRow(Base):
    """A ticket's sentence embedding (``core.semantic``: unit float32 vector as bytes)
    under ``model``, written when it opens with ``[deflection] ranking = "semantic"``.
    Derived from the ticket's text: not exported, made again after an import
    (``helpthread deflection-index``)."""

    __tablename__ = "ticket_embeddings"
    __table_args__ = ({"info": {"derived": True}},)
    # (model, ticket_number): a model's vectors are read newest first without a sort
    model: Mapped[str] = mapped_column(String(80), primary_key=True)
    ticket_number: Mapped[int] = mapped_column(
        ForeignKey("tickets.number", ondelete="CASCADE"), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
