"""The ``Outbox`` contract (issue 10, points 4–6), the same on the in-memory store,
SQLite and PostgreSQL: queues claimed by their due heads, short leases renewed by their
owner only, the attempt-started mark, parking that frees the queue, re-queueing, and
notices of one field merging while they wait.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.events import Audience, EventKind, PriorityChanged
from core.outbound import Delivered, Done
from core.routing import Delivery, DeliveryState, PlatformRoute
from tests.contract.conftest import StoreUnderTest
from tests.support.people import agent, desk_config, form, make_desk, person
from tests.support.recording import RecordingOutbound

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LENA, MARCO, SAM = person("lena"), person("marco"), agent("sam")
# A platform whose ticket thread does not reach the requester (as on Slack): what the
# requester is told goes by DM, so it can be counted.
DM_ROUTE = PlatformRoute(platform="shell", workspace="local", support_channel="ticket",
                         default_team_channel="team", thread_reaches_requester=False)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def two_tickets(contract: StoreUnderTest) -> None:
    """Ticket 1: two cards and a receipt, then a reply (two thread messages); ticket 2:
    two cards and a receipt."""
    desk = make_desk(contract.stores)
    await desk.open_ticket(LENA, form())
    await desk.reply(SAM, 1, "On it.")
    await desk.open_ticket(MARCO, form("Second"))


def queue_of(deliveries: list[Delivery]) -> dict[tuple[int, int | None, str], list[int]]:
    out: dict[tuple[int, int | None, str], list[int]] = {}
    for d in deliveries:
        out.setdefault((d.ticket_number, d.binding_id, d.purpose.value), []).append(d.id or 0)
    return out


async def test_a_claim_takes_each_queue_once_and_a_lease_keeps_others_out(
        contract: StoreUnderTest) -> None:
    await two_tickets(contract)
    outbox = contract.outbox
    first = await outbox.claim(["shell"], T0, later(15), "w1", 1)
    assert {d.ticket_number for d in first} == {1}
    assert [d.id for d in first] == sorted(d.id or 0 for d in first) and len(first) == 5
    second = await outbox.claim(["shell"], T0, later(15), "w2", 10)
    assert {d.ticket_number for d in second} == {2}, "ticket 1's queue is held by w1"
    assert await outbox.claim(["shell"], later(10), later(25), "w3", 10) == []
    assert await outbox.claim(["slack"], T0, later(15), "w3", 10) == []

    # the heartbeat: only the owner renews, only pending rows it holds
    assert await outbox.renew([d.id or 0 for d in first], "w2", later(40)) == set()
    assert await outbox.renew([d.id or 0 for d in first], "w1", later(40)) == {
        d.id for d in first}
    meanwhile = await outbox.claim(["shell"], later(20), later(35), "w3", 10)
    assert {d.ticket_number for d in meanwhile} == {2}, \
        "renewed: ticket 1 is still w1's after its first lease ran out"
    taken = await outbox.claim(["shell"], later(41), later(56), "w3", 10)
    assert {d.ticket_number for d in taken} == {1, 2}, "w1 stopped renewing: freed"
    assert await outbox.record([], [first[0]], "w1") == set(), "w1 lost it: it must not deliver"


async def test_an_attempt_is_marked_before_the_call_and_a_refusal_unmarks_it(
        contract: StoreUnderTest) -> None:
    await two_tickets(contract)
    outbox = contract.outbox
    head, *rest = await outbox.claim(["shell"], T0, later(15), "w1", 1)
    assert not head.maybe_sent and head.attempts == 0
    assert await outbox.record([], [head], "w1") == {head.id}
    await outbox.release(rest, "w1")
    # the process dies here: the lease runs out, the next worker is warned
    [again, *_] = await outbox.claim(["shell"], later(16), later(31), "w2", 1)
    assert again.id == head.id and again.maybe_sent and again.attempts == 1
    assert await outbox.record([], [again], "w2") == {again.id}
    await outbox.retry(again, "HTTP 503", later(60), maybe_sent=True)
    early = await outbox.claim(["shell"], later(59), later(74), "w2", 10)
    assert {d.ticket_number for d in early} == {2}, "ticket 1 is due at 60 s, not before"
    [third, *_] = await outbox.claim(["shell"], later(61), later(76), "w3", 1)
    assert third.id == head.id and third.attempts == 2 and third.last_error == "HTTP 503"
    await outbox.record([Done(third, Delivered(thread="T1", card_message="M1"), later(61))],
                        [], "w3")
    stored = {d.id: d for d in await contract.deliveries()}
    assert stored[head.id].state is DeliveryState.DONE


async def test_retry_makes_only_that_queue_wait(contract: StoreUnderTest) -> None:
    await two_tickets(contract)
    outbox = contract.outbox
    claimed = await outbox.claim(["shell"], T0, later(15), "w1", 10)
    heads = {d.ticket_number: d for d in reversed(claimed)}
    assert await outbox.record([], [heads[1]], "w1") == {heads[1].id}
    await outbox.retry(heads[1], "Slack rate limit (HTTP 429)", later(30), maybe_sent=False)
    await outbox.release([d for d in claimed if d is not heads[1]], "w1")
    due = await outbox.claim(["shell"], later(1), later(16), "w2", 10)
    assert {d.ticket_number for d in due} == {2}, "ticket 1 waits for its Retry-After"
    [back] = [d for d in await contract.deliveries() if d.id == heads[1].id]
    assert not back.maybe_sent, "a 429 made nothing: no need to look before re-posting"


async def test_a_parked_delivery_leaves_its_queue_and_can_be_requeued(
        contract: StoreUnderTest) -> None:
    await two_tickets(contract)
    outbox = contract.outbox
    claimed = await outbox.claim(["shell"], T0, later(15), "w1", 1)
    card = claimed[0]
    await outbox.park(card, "Slack refused it: channel_not_found", T0)
    await outbox.release(claimed[1:], "w1")
    nxt = await outbox.claim(["shell"], T0, later(15), "w1", 1)
    assert nxt and nxt[0].ticket_number == 1 and nxt[0].id != card.id, \
        "what follows a parked delivery goes out"
    await outbox.release(nxt, "w2")  # not w2's: nothing happens
    others = await outbox.claim(["shell"], T0, later(15), "w3", 10)
    assert 1 not in {d.ticket_number for d in others}, "still w1's"
    await outbox.release(nxt, "w1")

    parked = await outbox.listing(parked_only=True, limit=10)
    assert [(d.id, d.state, d.last_error) for d in parked] == [
        (card.id, DeliveryState.PARKED, "Slack refused it: channel_not_found")]
    everything = await outbox.listing(parked_only=False, limit=100)
    assert len(everything) == 8 and {d.state for d in everything} == {
        DeliveryState.PENDING, DeliveryState.PARKED}
    assert await outbox.listing(parked_only=False, limit=10, ids=[card.id or 0, 999]) == \
        parked
    assert await outbox.pending(["shell"]) == 7

    assert await outbox.requeue([999], T0) == []
    assert await outbox.requeue(None, later(5)) == [card.id]
    assert await outbox.listing(parked_only=True, limit=10) == []
    [back] = [d for d in await contract.deliveries() if d.id == card.id]
    assert back.state is DeliveryState.PENDING and back.attempts == 0
    assert back.next_attempt_at == later(5)


async def test_twenty_priority_changes_make_at_most_two_notices_per_target(
        contract: StoreUnderTest) -> None:
    """Issue 10, point 6 at the store: one notice in flight, one waiting that absorbs
    the rest and tells the whole change; comments between them are all kept; the
    requester hears nothing of priorities, a watcher hears of them at most twice."""
    desk = make_desk(contract.stores, desk_config(), routes=[DM_ROUTE])
    outbound = RecordingOutbound()
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, MARCO.person)
    await desk.claim(SAM, 1)
    from core.delivery import DeliveryWorker

    worker = DeliveryWorker(contract.outbox, [outbound], desk.config, clock=desk.clock)
    assert await worker.run_until_idle() == 0
    outbound.jobs.clear()

    levels = ["high", "urgent", "low", "normal"] * 5
    await desk.set_priority(SAM, 1, levels[0])
    in_flight = await contract.outbox.claim(["shell"], desk.clock.now(),
                                            desk.clock.now() + timedelta(seconds=15), "w", 50)
    for i, level in enumerate(levels[1:-1], start=1):
        await desk.set_priority(SAM, 1, level)
        if i == 9:
            await desk.comment(LENA, 1, "Any news?")
    await desk.set_priority(SAM, 1, "urgent")
    await contract.outbox.release(in_flight, "w")
    assert await worker.run_until_idle() == 0

    notices = [j for j in outbound.jobs if j.event.kind is EventKind.PRIORITY_CHANGED]
    per_target: dict[tuple[int | None, str | None], list[PriorityChanged]] = {}
    for job in notices:
        assert isinstance(job.event.payload, PriorityChanged)
        per_target.setdefault((job.delivery.binding_id, job.delivery.address),
                              []).append(job.event.payload)
    assert len(per_target) == 3, "two threads and the watcher's DMs"
    for told in per_target.values():
        assert told == [PriorityChanged("normal", "high"), PriorityChanged("high", "urgent")]
    assert LENA.ref.key not in {j.delivery.address for j in notices}, \
        "the requester is not told of priorities (PRODUCT.md §6)"
    comments = [j for j in outbound.jobs if j.event.kind is EventKind.COMMENTED]
    assert len(comments) == 3 and all(j.event.text == "Any news?" for j in comments), \
        "two threads and the watcher: comments are never merged"
    assert all(j.ticket.priority == "urgent" for j in notices[-3:]), "the final state"
    assert {j.delivery.audience for j in notices} == {Audience.PUBLIC, Audience.INTERNAL}


async def test_recording_one_done_marks_the_next_started_in_one_go(
        contract: StoreUnderTest) -> None:
    await two_tickets(contract)
    outbox = contract.outbox
    first, second, third, *_ = await outbox.claim(["shell"], T0, later(15), "w1", 1)
    assert await outbox.record([], [first], "w1") == {first.id}
    assert await outbox.record([Done(first, Delivered("T1", "M1"), T0)], [second],
                               "w1") == {second.id}
    assert await outbox.record([Done(second, Delivered(), T0)], [third], "w2") == set(), \
        "w2 holds nothing: third not started"
    assert await outbox.record([Done(third, Delivered(), T0)], [], "w1") == set()
    stored = {d.id: d for d in await contract.deliveries()}
    assert (stored[second.id].attempts, stored[second.id].maybe_sent) == (1, True)
    assert (stored[third.id].attempts, stored[third.id].maybe_sent) == (0, False)
    assert {stored[d.id].state for d in (first, second, third)} == {DeliveryState.DONE}


async def test_one_record_holds_several_queues_outcomes(contract: StoreUnderTest) -> None:
    """The worker's group commit: deliveries of two tickets done, the next of each queue
    begun, in one call; a platform id made is kept on the binding, None keeps the old."""
    await two_tickets(contract)
    outbox = contract.outbox
    claimed = await outbox.claim(["shell"], T0, later(15), "w1", 10)
    one = [d for d in claimed if d.ticket_number == 1]
    two = [d for d in claimed if d.ticket_number == 2]
    assert await outbox.record([], [one[0], two[0]], "w1") == {one[0].id, two[0].id}
    started = await outbox.record(
        [Done(one[0], Delivered(thread="T1", card_message="M1"), later(1)),
         Done(two[0], Delivered(thread="T2"), later(2))], [one[1], two[1]], "w1")
    assert started == {one[1].id, two[1].id}
    same = next(d for d in one[1:] if d.binding_id == one[0].binding_id)
    assert await outbox.record([Done(same, Delivered(card_message="M2"), later(3))], [],
                               "w1") == set()
    stored = {d.id: d for d in await contract.deliveries()}
    assert {stored[d.id].state for d in (one[0], two[0], same)} == {DeliveryState.DONE}
    assert (stored[two[1].id].attempts, stored[two[1].id].maybe_sent) == (1, True)
    assert stored[two[1].id].state is DeliveryState.PENDING
    async with contract.stores.reading() as store:
        bindings = {b.id: b for n in (1, 2) for b in await store.bindings(n)}
    assert (bindings[one[0].binding_id].thread,
            bindings[one[0].binding_id].card_message) == ("T1", "M2"), "no thread: T1 kept"
    assert bindings[two[0].binding_id].thread == "T2"
