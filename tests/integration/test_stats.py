"""What ``/healthz`` and ``/metrics`` read from the database (``core.store.stats``), on
SQLite and PostgreSQL: tickets by status, deliveries waiting and parked by platform,
and when the oldest waiting one was committed."""

from __future__ import annotations

from core.delivery import DeliveryWorker
from core.outbound import Delivered, DeliveryJob, Undeliverable
from core.store.outbox import SqlOutbox
from core.store.stats import desk_stats
from tests.integration.conftest import Wired
from tests.support.people import agent, form, person

LENA, SAM = person("lena"), agent("sam")


class RefusingPlatform:
    """A platform that refuses every delivery for good (a channel deleted)."""

    platform = "shell"

    async def deliver(self, job: DeliveryJob) -> Delivered:
        raise Undeliverable("channel_not_found")


async def test_tickets_waiting_and_parked_deliveries(wired: Wired) -> None:
    empty = await desk_stats(wired.stores.engine)
    assert (empty.tickets_by_status, empty.pending, empty.parked) == ({}, {}, {})
    assert empty.oldest_pending_at is None

    first = await wired.desk.open_ticket(LENA, form(subject="First"))
    wired.clock.advance(60)
    await wired.desk.open_ticket(LENA, form(subject="Second"))
    await wired.desk.claim(SAM, first.ticket.number)
    stats = await desk_stats(wired.stores.engine)
    assert stats.tickets_by_status == {"open": 1, "in_progress": 1}
    assert stats.pending["shell"] >= 4  # two cards each at least
    assert stats.oldest_pending_at == first.ticket.opened_at
    assert stats.parked == {}

    refusing = DeliveryWorker(SqlOutbox(wired.stores.engine), [RefusingPlatform()],
                              wired.desk.config, clock=wired.clock)
    await refusing.run_until_idle()
    stats = await desk_stats(wired.stores.engine)
    assert stats.pending == {} and stats.oldest_pending_at is None
    assert stats.parked["shell"] >= 4
