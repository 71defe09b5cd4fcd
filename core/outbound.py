"""The delivery port: what the worker (``core.delivery``) hands a platform's adapter
(``DeliveryJob``), what the adapter answers (``Delivered``, ``RetryLater``,
``Undeliverable``), and the storage the worker claims from (``Outbox``). Adapters
implement ``Outbound``; ``core.store.outbox.SqlOutbox`` implements ``Outbox``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.events import Event, Opened
from core.routing import Binding, Delivery
from core.tickets import Ticket
from core.views import TicketView


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """What an adapter needs to render one delivery. ``event`` is already as
    ``delivery.audience`` may read it (``Event.visible_to``) and, for a merged notice,
    tells the whole change (``core.coalesce``); ``ticket`` is the ticket now, without
    sensitive fields; ``binding`` is set for thread deliveries. ``opened`` is the
    ticket's ``Opened`` payload as ``delivery.audience`` may read it (its deflection:
    what the receipt and the cards suggest, ``core.deflection``), for every card edit.

    ``maybe_sent`` is true when an earlier attempt of this delivery began and was
    neither recorded as done nor refused outright (a process died mid-call, a
    timeout): the platform may already show it. ``delivery.id`` is the same on every
    attempt and unique in the database — the key to find or de-duplicate it by."""

    delivery: Delivery
    event: Event
    ticket: TicketView
    binding: Binding | None
    desk_name: str = "Helpthread"  # desk.name: how the desk signs what it says
    maybe_sent: bool = False
    opened: Opened | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """Platform ids the delivery made: ``thread`` (Slack ``thread_ts``, Discord thread id)
    and ``card_message`` when a card was posted; recorded on the binding."""

    thread: str | None = None
    card_message: str | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """A delivery made at ``at`` (UTC), with what the platform answered
    (``Outbox.record``)."""

    delivery: Delivery
    delivered: Delivered
    at: datetime


class RetryLater(Exception):
    """The platform asked us to wait ``after`` seconds (HTTP 429 ``Retry-After``) or failed
    for now (5xx, connection refused; ``after`` None: backoff). Either way the next
    attempt has ``maybe_sent``: a delivery of several calls may have made some before
    the one refused."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """The platform refused the delivery for good (channel gone, user unknown)."""


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What a batch of deliveries refers to, by id: events (also those merged notices
    start from), tickets (by number), bindings; ``openings``: each ticket's ``Opened``
    event (by ticket number), for the cards' deflection."""

    events: dict[int, Event]
    tickets: dict[int, Ticket]
    bindings: dict[int, Binding]
    openings: dict[int, Event] = field(default_factory=dict)


class Outbound(Protocol):
    """A platform's outbound port. ``platform`` names which deliveries it takes."""

    platform: str

    async def deliver(self, job: DeliveryJob) -> Delivered: ...


class Outbox(Protocol):
    """The delivery queue in storage (``core.store.outbox.SqlOutbox``; the tests' memory
    store has one too). Times are aware UTC datetimes."""

    async def claim(self, platforms: list[str], now: datetime, lease_until: datetime,
                    owner: str, limit: int) -> list[Delivery]:
        """Lease to ``owner`` until ``lease_until`` the due heads of up to ``limit``
        (ticket, platform) queues of ``platforms`` that nobody holds, each with the due
        deliveries behind it; in id order. Workers never get the same row."""
        ...

    async def renew(self, ids: list[int], owner: str, lease_until: datetime) -> set[int]:
        """Extend ``owner``'s lease on ``ids`` (pending ones it still holds); returns those."""
        ...

    async def contexts(self, deliveries: list[Delivery]) -> DeliveryContext: ...

    async def release(self, deliveries: list[Delivery], owner: str) -> None:
        """Give back those of ``deliveries`` ``owner`` holds (not attempted: their queue
        stopped at a retry, or the worker stops)."""
        ...

    async def record(self, done: list[Done], start: list[Delivery], owner: str) -> set[int]:
        """In one transaction: each of ``done`` marked done, with the platform ids it made
        recorded on its binding; then each of ``start`` marked as an attempt beginning
        (``attempts`` + 1, ``maybe_sent``) if ``owner`` still holds it. Returns the ids
        of ``start`` so marked: one missing lost its lease (another worker may hold it
        now) and must not be delivered. The worker records a delivery done and the next
        of its queue begun together, and several queues' outcomes at once."""
        ...

    async def retry(self, delivery: Delivery, error: str, at: datetime, *,
                    maybe_sent: bool) -> None:
        """Due again at ``at``, with ``error`` as its last error."""
        ...

    async def park(self, delivery: Delivery, error: str, now: datetime) -> None:
        """A dead letter: kept with ``error``, out of its queue, until re-queued."""
        ...

    async def pending(self, platforms: list[str]) -> int: ...

    async def listing(self, *, parked_only: bool, limit: int,
                      ids: list[int] | None = None) -> list[Delivery]:
        """Pending and parked deliveries (``parked_only``: parked; ``ids``: those of
        them), oldest first."""
        ...

    async def requeue(self, ids: list[int] | None, now: datetime) -> list[int]:
        """Parked deliveries ``ids`` (None: all parked) are due again at ``now`` with a
        fresh count of attempts; returns the ids re-queued."""
        ...
