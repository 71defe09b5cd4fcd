"""A delivery meant for a person that is parked is noted on its ticket for the agents
(``core.undelivered``), once, by the desk — never for the requester to see."""

from __future__ import annotations

from functools import partial

from core.delivery import DeliveryWorker
from core.events import Audience, EventKind, Noted
from core.outbound import Delivered, DeliveryJob, Undeliverable
from core.routing import Purpose
from core.store.outbox import SqlOutbox
from core.undelivered import ERROR_MOST, note_parked
from tests.integration.conftest import Wired
from tests.support.people import agent, form, person
from tests.support.recording import RecordingOutbound

LENA, SAM = person("lena"), agent("sam")


class Refusing(RecordingOutbound):
    """Refuses receipts for good, or (``failing``) fails every delivery of a purpose."""

    def __init__(self, refuse: str = "receipt", error: str = "user has left the workspace",
                 *, for_good: bool = True) -> None:
        super().__init__()
        self.refuse, self.error, self.for_good = refuse, error, for_good

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.delivery.purpose == self.refuse:
            if self.for_good:
                raise Undeliverable(self.error)
            raise RuntimeError(self.error)
        return await super().deliver(job)


def worker_for(wired: Wired, outbound: RecordingOutbound) -> DeliveryWorker:
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [outbound], wired.desk.config,
                            clock=wired.clock)
    worker.on_parked = partial(note_parked, wired.desk)
    return worker


async def notes(wired: Wired) -> list[str]:
    details = await wired.desk.show(SAM, 1)
    return [e.payload.text for e in details.events
            if isinstance(e.payload, Noted) and e.actor is None]


async def test_a_refused_receipt_is_noted_for_the_agents_only(wired: Wired) -> None:
    outbound = Refusing()
    worker = worker_for(wired, outbound)
    await wired.desk.open_ticket(LENA, form())
    assert await worker.run_until_idle() == 0
    assert await notes(wired) == [
        "Not delivered: the receipt by shell direct message (user has left the workspace). "
        "It is parked: `helpthread deliveries --parked` lists it, `helpthread deliveries "
        "retry` sends it again."]
    seen_by_lena = await wired.desk.show(LENA, 1)
    assert EventKind.NOTED not in [e.kind for e in seen_by_lena.events]
    # the note itself went to the team side only
    noted = [j for j in outbound.jobs if j.event.kind is EventKind.NOTED]
    assert noted and {j.delivery.audience for j in noted} == {Audience.INTERNAL}


async def test_parked_again_after_a_retry_it_is_noted_once(wired: Wired) -> None:
    worker = worker_for(wired, Refusing())
    await wired.desk.open_ticket(LENA, form())
    assert await worker.run_until_idle() == 0
    assert await SqlOutbox(wired.stores.engine).requeue(None, wired.clock.now())
    assert await worker.run_until_idle() == 0
    assert len(await notes(wired)) == 1


async def test_failing_until_the_last_attempt_is_noted_with_the_last_error(
        wired: Wired) -> None:
    worker = worker_for(wired, Refusing(error="x" * 1000, for_good=False))
    worker.max_attempts = 2
    await wired.desk.open_ticket(LENA, form())
    for _ in range(3):
        await worker.run_until_idle()
        wired.clock.advance(3600)
    [text] = await notes(wired)
    assert "RuntimeError: " in text and "x" * (ERROR_MOST - 20) in text
    assert "x" * ERROR_MOST not in text and "…)" in text  # shortened, and says so


async def test_a_team_side_delivery_parked_is_not_noted(wired: Wired) -> None:
    worker = worker_for(wired, Refusing(refuse=Purpose.CARD.value))
    await wired.desk.open_ticket(LENA, form())
    assert await worker.run_until_idle() == 0
    assert await notes(wired) == []
