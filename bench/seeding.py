"""Seeding ``bench.schedule``'s desks: tickets built as ``Intake._create`` builds them and
written in batches with the rows, bindings, opened events and timers the desk writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from rich.console import Console
from sqlalchemy import insert, text

from bench.core import DESCRIPTION, requester
from core import sla, timers
from core.desk import Desk, NewTicket
from core.events import Event
from core.events import Opened as OpenedPayload
from core.routing import bindings_for
from core.store.rows import event_values, ticket_values
from core.store.sql import B, E, T
from core.tickets import Ticket

SEED_BATCH = 1000  # seeded tickets per transaction
SEED_PRIORITIES = ("normal", "high", "low")


def seed_ticket(desk: Desk, i: int, opened_at: datetime, priority: str) -> Ticket:
    """A ticket as ``Intake._create`` builds it, opened at ``opened_at`` (number unset)."""
    who = requester(i, "seed")
    cleaned = desk.validate(NewTicket(category="technical", subject=f"Postback 404 on {i}",
                                      description=DESCRIPTION, priority=priority))
    ticket = Ticket(number=0, requester=who.person, opened_at=opened_at, source="shell",
                    locale=who.locale, last_activity_at=opened_at,
                    public_activity_at=opened_at, **cleaned)
    sla.start(ticket, desk.config, opened_at)
    return ticket


async def write_tickets(desk: Desk, tickets: list[Ticket]) -> datetime | None:
    """Numbers, ticket rows, bindings, opened events and timers of ``tickets``, in one
    transaction; returns the earliest timer due (UTC) it set."""
    async with desk.stores.transaction() as store:
        conn = store.conn  # type: ignore[attr-defined]
        k = len(tickets)
        if conn.dialect.name == "postgresql":
            numbers = list((await conn.execute(text(
                "SELECT nextval('ticket_numbers') FROM generate_series(1, :k)"), {"k": k})
            ).scalars())
        else:
            last = (await conn.execute(text(
                "UPDATE counters SET value = value + :k WHERE name = 'ticket' "
                "RETURNING value"), {"k": k})).scalar_one()
            numbers = list(range(last - k + 1, last + 1))
        for ticket, number in zip(tickets, numbers, strict=True):
            ticket.number = int(number)
        await conn.execute(insert(T), [ticket_values(t) for t in tickets])
        await conn.execute(insert(B), [{
            "ticket_number": b.ticket_number, "platform": b.platform,
            "workspace": b.workspace, "audience": b.audience.value, "channel": b.channel,
            "reaches_requester": b.reaches_requester, "in_requester_dm": b.in_requester_dm,
            "thread": b.thread, "card_message": b.card_message}
            for t in tickets for b in bindings_for(t, desk.routes)])
        await conn.execute(insert(E), [event_values(Event(
            t.number, OpenedPayload(on_behalf=False), t.requester, t.opened_at, "shell"))
            for t in tickets])
        earliest: datetime | None = None
        for t in tickets:
            due = await store.replace_timers(t.number, timers.plan(t, desk.config))
            if due is not None and (earliest is None or due < earliest):
                earliest = due
    return earliest


async def seed(desk: Desk, count: int, console: Console) -> float:
    """``count`` bulk tickets opened over the last 30 minutes; returns seconds taken."""
    start = time.perf_counter()
    now = datetime.now(UTC)
    for first in range(0, count, SEED_BATCH):
        batch = [seed_ticket(desk, i, now - timedelta(seconds=i % 1800),
                             SEED_PRIORITIES[i % len(SEED_PRIORITIES)])
                 for i in range(first, min(first + SEED_BATCH, count))]
        await write_tickets(desk, batch)
        if (first // SEED_BATCH) % 20 == 19:
            console.print(f"  seeded {first + len(batch):,} in "
                          f"{time.perf_counter() - start:.0f} s")
    return time.perf_counter() - start


async def check_seeded(desk: Desk, numbers: list[int]) -> None:
    """Seeded rows read back as the desk reads them, and still plan the stored timers."""
    async with desk.stores.reading() as store:
        for number in numbers:
            ticket = await store.get_ticket(number)
            assert ticket is not None, number
            stored = await store.timers(number)
            planned = {(s.kind, s.fingerprint, s.due_at)
                       for s in timers.plan(ticket, desk.config)}
            assert stored and {(t.kind, t.fingerprint, t.due_at) for t in stored} == planned, \
                (number, stored, planned)
