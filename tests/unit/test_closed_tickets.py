"""README "A closed ticket is locked", for an agent who is also the requester: their
``/ticket reply`` is the team's word (refused on a closed ticket, as anyone's), a
message they type in the thread is the requester's (it reopens or opens a follow-up)."""

from __future__ import annotations

import pytest

from core.clock import FrozenClock
from core.errors import InvalidTransition
from core.events import EventKind
from core.tickets import Status
from core.views import continued_in
from tests.support.memory import MemoryStores
from tests.support.people import agent, desk_config, form, make_desk

SAM = agent("sam")
ANA = agent("ana")


async def test_an_agents_reply_to_their_own_closed_ticket_is_refused() -> None:
    stores, clock = MemoryStores(), FrozenClock()
    desk = make_desk(stores, clock=clock)
    await desk.open_ticket(SAM, form())
    await desk.close(SAM, 1, "done")
    before = len(stores.state.events)
    with pytest.raises(InvalidTransition, match="#1 is closed; reopen it first: "
                                                "/ticket reopen 1"):
        await desk.reply(SAM, 1, "public reply")
    assert len(stores.state.events) == before, "nothing stored"
    assert (await desk.show(SAM, 1)).ticket.status is Status.CLOSED


async def test_an_agents_reply_to_their_own_resolved_ticket_does_not_reopen_it() -> None:
    desk = make_desk(MemoryStores(), clock=FrozenClock())
    await desk.open_ticket(SAM, form())
    await desk.resolve(ANA, 1, "Fixed the cookie domain")
    outcome = await desk.reply(SAM, 1, "For the record, it works")
    assert outcome.ticket.status is Status.RESOLVED, "the team's word, not the requester's"


async def test_the_agent_requesters_message_reopens_within_the_window() -> None:
    stores, clock = MemoryStores(), FrozenClock()
    desk = make_desk(stores, clock=clock)
    await desk.open_ticket(SAM, form())
    await desk.close(SAM, 1, "done")
    outcome = await desk.comment(SAM, 1, "It broke again")
    assert outcome.ticket.status in (Status.OPEN, Status.IN_PROGRESS)
    kinds = [e.kind for e in stores.state.events if e.ticket_number == 1][-2:]
    assert kinds == [EventKind.COMMENTED, EventKind.REOPENED]


async def test_past_the_window_the_agent_requesters_message_opens_a_follow_up() -> None:
    stores, clock = MemoryStores(), FrozenClock()
    desk = make_desk(stores, desk_config(lifecycle={"reopen_window": "5s"}), clock=clock)
    await desk.open_ticket(SAM, form())
    await desk.close(SAM, 1, "done")
    clock.advance(60)
    outcome = await desk.comment(SAM, 1, "Broken once more")
    assert outcome.follow_up is not None and outcome.follow_up.number == 2
    assert (await desk.show(SAM, 1)).ticket.status is Status.CLOSED
    commented = [e for e in stores.state.events
                 if e.kind is EventKind.COMMENTED and e.ticket_number == 1]
    assert commented == [], "not stored on the closed ticket"


@pytest.mark.parametrize(("status", "says"), [
    (Status.RESOLVED, "#1 is resolved; your message is in follow-up #2."),
    (Status.CLOSED, "#1 is closed; your message is in follow-up #2."),
])
def test_the_follow_up_notice_names_the_status(status: Status, says: str) -> None:
    assert continued_in(1, status, 2) == says
