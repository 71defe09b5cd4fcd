"""The command path: every command serialises, System acts under the same table, one
follow-up per closed conversation, capabilities agree with what running says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import commands as cmd
from core.capabilities import audience_roles, available
from core.clock import FrozenClock
from core.config import DeskSection
from core.errors import DeskError, Limited, NotAllowed
from core.events import Attachment, AutoClosed, Closed, EventKind, Linked
from core.identity import SYSTEM, Person, UserRef
from core.policy import PERMISSIONS, Action
from core.tickets import LinkKind, Status
from tests.support.memory import MemoryStores
from tests.support.people import agent, desk_config, form, make_desk, person

LENA, SAM = person("lena"), agent("sam")

EVERY_COMMAND: list[cmd.Command] = [
    cmd.OpenTicket("refund", "Charged twice", "Order 77", "high", "1234", "shared",
                   {"receipt": "RC-1"}, requester=LENA),
    cmd.Comment(3, "hi", (Attachment("a.png", 10, "https://x.test/a"),), in_thread=4),
    cmd.MailComment(3, "thanks", (Attachment("log.txt", 120),)),
    cmd.Reply(3, "On it"), cmd.Note(3, "log checked"), cmd.Claim(3), cmd.Assign(3, SAM),
    cmd.Unassign(3), cmd.RequestInfo(3, "Which order?"), cmd.Hold(3, "bank"), cmd.Resume(3),
    cmd.Resolve(3, "Refunded"), cmd.Close(3), cmd.Close(3, "dup"), cmd.Reopen(3),
    cmd.SetPriority(3, "urgent"), cmd.Escalate(3, "partner"),
    cmd.Link(3, LinkKind.DUPLICATE_OF, 2),
    cmd.AddWatcher(3, Person(UserRef("email", "", "omar@example.com"), "Omar")),
    cmd.RemoveWatcher(3, Person(UserRef("slack", "T1", "U2"), "Omar")),
    cmd.Watch(3), cmd.Unwatch(3), cmd.SetVisibility(3, "shared"),
    cmd.OpenTicket("general", "Hi", "There", watchers=(
        Person(UserRef("email", "", "omar@example.com"), "omar@example.com"),)),
    cmd.AskClose(3, "All sorted?"), cmd.AskClose(3), cmd.KeepOpen(3),
    cmd.Rate(3, "good", "Quick, thanks"), cmd.Rate(3, "bad"),
    cmd.SlaAlert(3, "first_response", False), cmd.SlaAlert(3, "resolution", True),
    cmd.RemindRequester(3, datetime(2026, 1, 9, 9, 0, tzinfo=UTC)),
    cmd.AutoClose(3, AutoClosed.NO_REPLY),
]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda c: type(c).__name__)
def test_every_command_round_trips_through_json(command: cmd.Command) -> None:
    import json

    stored = json.loads(json.dumps(cmd.to_json(command)))
    assert cmd.from_json(stored) == command


def test_every_ticket_command_has_a_handler_and_a_row_in_the_table() -> None:
    from core.desk import HANDLERS

    ticket_commands = {type(c) for c in EVERY_COMMAND} - {cmd.OpenTicket}
    assert ticket_commands == set(HANDLERS)
    assert {action for action, _ in HANDLERS.values()} <= set(PERMISSIONS)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def test_system_closes_and_notes_but_never_claims(clock: FrozenClock) -> None:
    stores = MemoryStores()
    desk = make_desk(stores, clock=clock)
    await desk.open_ticket(LENA, form())
    with pytest.raises(NotAllowed, match="only agents can claim"):
        await desk.run(SYSTEM, cmd.Claim(1))
    await desk.run(SYSTEM, cmd.Note(1, "Reminder sent to the requester"))
    closed = await desk.run(SYSTEM, cmd.Close(1, "no answer for 7 days"), request_key="timer:1")
    again = await desk.run(SYSTEM, cmd.Close(1, "no answer for 7 days"), request_key="timer:1")
    assert closed.ticket.status is Status.CLOSED and again.replayed
    assert closed.event.actor is None and closed.event.payload == Closed(
        "no answer for 7 days", by_system=True)
    assert [e.kind for e in stores.state.events].count(EventKind.CLOSED) == 1


async def test_a_retried_claim_close_reopen_or_priority_changes_once(clock: FrozenClock) -> None:
    stores = MemoryStores()
    desk = make_desk(stores, clock=clock)
    await desk.open_ticket(LENA, form())
    for command in (cmd.Claim(1), cmd.SetPriority(1, "urgent"), cmd.Close(1), cmd.Reopen(1)):
        first = await desk.run(SAM, command, request_key=f"k:{type(command).__name__}")
        second = await desk.run(SAM, command, request_key=f"k:{type(command).__name__}")
        assert second.replayed and second.event.id == first.event.id
    kinds = [e.kind for e in stores.state.events]
    assert kinds == [EventKind.OPENED, EventKind.CLAIMED, EventKind.PRIORITY_CHANGED,
                     EventKind.CLOSED, EventKind.REOPENED]


async def test_messages_in_a_long_closed_thread_go_to_one_follow_up(clock: FrozenClock) -> None:
    """Issue 9.7: every message past the reopen window opened another follow-up, past the
    per-user limits. Now the first opens one; later ones continue in it; the old thread
    is told once."""
    stores = MemoryStores()
    config = desk_config(desk=DeskSection(max_open_per_user=2, max_new_per_hour=2))
    desk = make_desk(stores, config=config, clock=clock)
    await desk.open_ticket(LENA, form())
    await desk.close(SAM, 1)
    clock.advance(timedelta(days=30).total_seconds())
    first = await desk.comment(LENA, 1, "It is broken again")
    assert first.follow_up is not None and first.follow_up.number == 2
    for i in range(5):
        later = await desk.comment(LENA, 1, f"and again {i}")
        assert later.ticket.number == 2 and later.follow_up is None
    assert len(stores.state.tickets) == 2
    notices = [e for e in stores.state.events if e.ticket_number == 1
               and isinstance(e.payload, Linked)]
    assert [e.payload for e in notices] == [Linked(LinkKind.FOLLOWED_UP_BY, 2, by_reply=True)]
    comments = [e.text for e in stores.state.events
                if e.ticket_number == 2 and e.kind is EventKind.COMMENTED]
    assert comments == [f"and again {i}" for i in range(5)]
    # a follow-up closed past its own window: the next one is a new ticket, within limits
    await desk.close(SAM, 2)
    clock.advance(timedelta(days=30).total_seconds())
    third = await desk.comment(LENA, 1, "still broken")
    assert third.follow_up is not None and third.follow_up.number == 3
    await desk.open_ticket(LENA, form(subject="other"))
    await desk.close(SAM, 3)
    clock.advance(timedelta(days=30).total_seconds())
    await desk.open_ticket(LENA, form(subject="another"))
    with pytest.raises(Limited):  # two open already: no follow-up past the limit
        await desk.comment(LENA, 3, "more")


def _statuses() -> list[Status]:
    return list(Status)


@pytest.mark.parametrize("status", _statuses())
async def test_capabilities_are_what_running_would_allow(status: Status,
                                                         clock: FrozenClock) -> None:
    """For each status, every action a card offers runs, and every action it does not
    offer is refused — for the team card (an agent) and the ticket card (the requester)."""
    stores = MemoryStores()
    desk = make_desk(stores, clock=clock)
    await desk.open_ticket(LENA, form())
    steps = {Status.OPEN: [], Status.IN_PROGRESS: [cmd.Claim(1)],
             Status.WAITING: [cmd.RequestInfo(1, "which?")], Status.ON_HOLD: [cmd.Hold(1, "x")],
             Status.RESOLVED: [cmd.Resolve(1, "all fixed")], Status.CLOSED: [cmd.Close(1)]}
    for step in steps[status]:
        await desk.run(SAM, step)
    ticket = stores.state.tickets[1]
    for internal, actor in ((True, agent("ana")), (False, LENA)):
        offered = available(audience_roles(internal), ticket, desk.config, clock.now())
        for action in (Action.CLAIM, Action.RESOLVE, Action.CLOSE, Action.REOPEN,
                       Action.RESUME, Action.HOLD, Action.SET_PRIORITY):
            try:
                await desk.check(actor, 1, action)
                allowed = True
            except DeskError:
                allowed = False
            assert allowed == (action in offered), (status, internal, action)


async def test_a_reopen_caused_by_a_thread_message_is_told_in_that_thread(
        clock: FrozenClock) -> None:
    """Only the message itself is not echoed back to the thread it was typed in; the
    reopen it caused reaches every thread (found by a new user's trial)."""
    stores = MemoryStores()
    desk = make_desk(stores, clock=clock)
    await desk.open_ticket(LENA, form())
    await desk.close(SAM, 1)
    [ticket_thread] = [b for b in stores.state.bindings if b.audience.value == "public"]
    await desk.comment(LENA, 1, "Still broken", origin=ticket_thread)
    reopened = next(e for e in stores.state.events if e.kind is EventKind.REOPENED)
    assert reopened.origin_binding_id is None
    to_thread = [d for d in stores.state.deliveries
                 if d.event_id == reopened.id and d.binding_id == ticket_thread.id]
    assert len(to_thread) == 1
