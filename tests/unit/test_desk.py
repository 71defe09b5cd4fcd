"""The desk's use cases against the in-memory store (no database)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import FrozenClock
from core.config import DeskSection
from core.errors import Invalid, InvalidTransition, Limited, NotAllowed, NotFound
from core.events import Audience, EventKind, Held
from core.routing import Target
from core.tickets import LinkKind, Status, Visibility
from tests.support.memory import MemoryStores
from tests.support.people import agent, desk_config, form, make_desk, person

LENA = person("lena")
MARCO = person("marco")
SAM = agent("sam")
ANA = agent("ana")


@pytest.fixture
def stores() -> MemoryStores:
    return MemoryStores()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def desk(stores: MemoryStores, clock: FrozenClock):
    return make_desk(stores, clock=clock)


def deliveries(stores: MemoryStores, number: int | None = None):
    return [d for d in stores.state.deliveries if number is None or d.ticket_number == number]


async def test_open_numbers_sla_bindings_receipt(desk, stores) -> None:
    first = await desk.open_ticket(LENA, form(priority="high"))
    second = await desk.open_ticket(MARCO, form(subject="Other"))
    assert (first.ticket.number, second.ticket.number) == (1, 2)
    t = first.ticket
    assert t.status is Status.OPEN and t.priority == "high" and t.source == "shell"
    assert t.first_response_due == t.opened_at + timedelta(hours=4)
    assert t.resolution_due == t.opened_at + timedelta(hours=24)
    binds = stores.state.bindings[:2]
    assert [b.audience for b in binds] == [Audience.PUBLIC, Audience.INTERNAL]
    sent = deliveries(stores, 1)
    assert [(d.target, d.purpose) for d in sent] == [
        (Target.BINDING, "card"), (Target.BINDING, "card"), (Target.DM, "receipt")]
    assert sent[2].address == LENA.ref.key
    assert [e.kind for e in stores.state.events] == [EventKind.OPENED, EventKind.OPENED]


@pytest.mark.parametrize(("changes", "field"), [
    ({"subject": ""}, "subject"),
    ({"subject": "x" * 141}, "subject"),
    ({"subject": "two\nlines"}, "subject"),
    ({"subject": "bell\x07"}, "subject"),
    ({"subject": "evil \u202e txt"}, "subject"),
    ({"description": "   "}, "description"),
    ({"description": "d" * 4001}, "description"),
    ({"category": "nope"}, "category"),
    ({"priority": "asap"}, "priority"),
    ({"visibility": "public"}, "visibility"),
    ({"category": "refund", "fields": {"amount": "3"}}, "receipt"),
    ({"category": "refund", "fields": {"receipt": "R1", "card_last4": "42x2"}}, "card_last4"),
    ({"category": "refund", "fields": {"receipt": "R1", "card_last4": "12345"}}, "card_last4"),
    ({"category": "refund", "fields": {"receipt": "R" * 41}}, "receipt"),
    ({"fields": {"receipt": "R1"}}, "receipt"),  # not a field of `technical`
])
async def test_bad_input_names_the_field_and_stores_nothing(desk, stores, changes,
                                                            field) -> None:
    with pytest.raises(Invalid) as err:
        await desk.open_ticket(LENA, form(**changes))
    assert err.value.field == field
    assert stores.state.tickets == {} and stores.state.counter == 0


async def test_four_thousand_characters_are_kept_whole(desk) -> None:
    text = "é" * 4000
    opened = await desk.open_ticket(LENA, form(description=text, subject="s" * 140))
    assert opened.ticket.description == text and len(opened.ticket.subject) == 140


async def test_category_by_name_and_default_refund_fields(desk) -> None:
    opened = await desk.open_ticket(LENA, form(category="Refund", fields={
        "receipt": "RC-1", "amount": "49.90", "card_last4": "4242"}))
    assert opened.ticket.category == "refund"
    assert opened.ticket.fields == {"receipt": "RC-1", "amount": "49.90", "card_last4": "4242"}


async def test_duplicate_within_ten_minutes_returns_the_existing_ticket(desk, stores,
                                                                      clock) -> None:
    first = await desk.open_ticket(LENA, form())
    again = await desk.open_ticket(LENA, form())
    assert again.duplicate and again.ticket.number == first.ticket.number
    clock.advance(11 * 60)
    later = await desk.open_ticket(LENA, form())
    assert not later.duplicate and later.ticket.number == 2


async def test_request_key_makes_a_retry_return_the_same_ticket(desk, stores) -> None:
    a = await desk.open_ticket(LENA, form(), request_key="slack:view:V1")
    b = await desk.open_ticket(LENA, form(subject="changed"), request_key="slack:view:V1")
    assert b.duplicate and b.ticket.number == a.ticket.number
    assert len(stores.state.tickets) == 1


async def test_per_user_limits_refuse_and_store_nothing(stores, clock) -> None:
    config = desk_config(desk=DeskSection(max_open_per_user=2, max_new_per_hour=3))
    desk = make_desk(stores, config=config, clock=clock)
    for i in range(2):
        await desk.open_ticket(LENA, form(subject=f"s{i}"))
    with pytest.raises(Limited, match="2 open tickets"):
        await desk.open_ticket(LENA, form(subject="third"))
    await desk.close(LENA, 1)
    await desk.open_ticket(LENA, form(subject="third"))
    await desk.close(LENA, 3)
    with pytest.raises(Limited, match="in the last hour"):
        await desk.open_ticket(LENA, form(subject="fourth"))
    assert stores.state.counter == 3  # refused submissions take no number
    clock.advance(3601)
    assert (await desk.open_ticket(LENA, form(subject="fourth"))).ticket.number == 4
    # agents are not limited
    for i in range(6):
        await desk.open_ticket(SAM, form(subject=f"agent {i}"))


async def test_open_on_behalf_is_for_agents(desk, stores) -> None:
    with pytest.raises(NotAllowed):
        await desk.open_ticket(MARCO, form(requester=LENA))
    opened = await desk.open_ticket(SAM, form(requester=LENA))
    assert opened.ticket.requester == LENA.person
    receipt = [d for d in deliveries(stores) if d.purpose == "receipt"]
    assert receipt[0].address == LENA.ref.key


async def test_permissions_of_requesters_and_strangers(desk) -> None:
    await desk.open_ticket(LENA, form())
    for attempt in (desk.claim(LENA, 1), desk.resolve(LENA, 1, "done and dusted"),
                    desk.note(LENA, 1, "x"), desk.set_priority(LENA, 1, "urgent"),
                    desk.request_info(LENA, 1, "?"), desk.hold(LENA, 1, "r"),
                    desk.reply(LENA, 1, "hi"), desk.queue(LENA)):
        with pytest.raises(NotAllowed):
            await attempt
    for attempt in (desk.show(MARCO, 1), desk.comment(MARCO, 1, "hi"), desk.close(MARCO, 1)):
        with pytest.raises(NotFound):
            await attempt
    assert await desk.search(MARCO, "pixel") == []
    assert await desk.search(MARCO, "#1") == []
    with pytest.raises(NotFound):
        await desk.claim(SAM, 99)


async def test_shared_ticket_is_seen_by_the_org_only(desk) -> None:
    await desk.open_ticket(LENA, form(visibility="shared"))
    colleague = person("omar")  # same shell workspace = same org
    outsider = person("zed", workspace="elsewhere")
    assert (await desk.show(colleague, 1)).ticket.visibility is Visibility.SHARED
    await desk.comment(colleague, 1, "Same problem here")
    with pytest.raises(NotFound):
        await desk.show(outsider, 1)
    assert [i.ticket.number for i in await desk.list_tickets(colleague, org=True)] == [1]
    with pytest.raises(NotAllowed):
        await desk.close(colleague, 1)


async def test_internal_note_never_reaches_the_requester(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    before = len(stores.state.deliveries)
    await desk.note(SAM, 1, "likely the cookie domain")
    new = stores.state.deliveries[before:]
    assert [(d.target, d.audience) for d in new] == [(Target.BINDING, Audience.INTERNAL)]
    shown = await desk.show(LENA, 1)
    assert all(e.kind is not EventKind.NOTED for e in shown.events)
    assert any(e.kind is EventKind.NOTED for e in (await desk.show(SAM, 1)).events)


async def test_reply_is_public_and_counts_as_first_response(desk, stores, clock) -> None:
    await desk.open_ticket(LENA, form())
    clock.advance(60)
    result = await desk.reply(SAM, 1, "Could you confirm the domain?")
    assert result.ticket.first_response_at == clock.now()
    targets = {(d.target, d.audience) for d in deliveries(stores, 1)[3:]}
    assert targets == {(Target.BINDING, Audience.PUBLIC), (Target.BINDING, Audience.INTERNAL)}


async def test_comment_typed_in_a_thread_is_not_echoed_back_there(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    public, internal = stores.state.bindings[:2]
    before = len(stores.state.deliveries)
    await desk.post_in_thread(LENA, public, "More detail")
    assert [d.binding_id for d in stores.state.deliveries[before:]] == [internal.id]
    before = len(stores.state.deliveries)
    await desk.post_in_thread(SAM, internal, "team chatter")
    assert stores.state.deliveries[before:] == []  # a note typed in the team thread goes nowhere
    assert stores.state.events[-1].kind is EventKind.NOTED
    with pytest.raises(NotAllowed):
        await desk.post_in_thread(LENA, internal, "let me in")


async def test_waiting_resumes_when_the_requester_replies(desk) -> None:
    await desk.open_ticket(LENA, form())
    t = await desk.request_info(SAM, 1, "Which domain?")
    assert t.status is Status.WAITING and t.assignee == SAM.person
    result = await desk.comment(LENA, 1, "checkout.example.test")
    assert result.ticket.status is Status.IN_PROGRESS


async def test_reopen_window_and_follow_up(desk, stores, clock) -> None:
    await desk.open_ticket(LENA, form())
    await desk.claim(SAM, 1)
    await desk.resolve(SAM, 1, "Fixed the cookie domain")
    clock.advance(timedelta(days=2).total_seconds())
    reply = await desk.comment(LENA, 1, "It broke again")
    assert reply.ticket.status is Status.IN_PROGRESS and reply.follow_up is None
    await desk.resolve(SAM, 1, "Fixed it for good")
    await desk.close(LENA, 1)
    clock.advance(timedelta(days=15).total_seconds())
    with pytest.raises(InvalidTransition, match="can no longer be reopened"):
        await desk.reopen(LENA, 1)
    late = await desk.comment(LENA, 1, "Broken once more")
    assert late.follow_up is not None and late.follow_up.number == 2
    follow = late.follow_up
    assert follow.subject.startswith("Follow-up to #1") and follow.description == "Broken once more"
    assert (LinkKind.FOLLOW_UP_OF, 1) in [(x.kind, x.number) for x in follow.links]
    old = (await desk.show(LENA, 1)).ticket
    assert old.status is Status.CLOSED
    assert (LinkKind.FOLLOWED_UP_BY, 2) in [(x.kind, x.number) for x in old.links]
    # The link is the requester's reply, not an agent's `link`: its history says so.
    linked = [e for e in stores.state.events if e.kind is EventKind.LINKED]
    assert [(e.ticket_number, e.actor, e.payload.by_reply) for e in linked] == [
        (1, LENA.person, True)]
    assert (await desk.reopen(SAM, 1)).status is Status.IN_PROGRESS  # agents: any time


async def test_a_follow_up_opened_from_a_thread_is_news_to_that_thread(desk, stores,
                                                                       clock) -> None:
    """README "Requester replies": the old ticket's threads — the one the requester
    typed in included — say once where the conversation continues; her message itself
    is not echoed back there."""
    await desk.open_ticket(LENA, form())
    public, internal = stores.state.bindings[:2]
    await desk.close(SAM, 1)
    clock.advance(timedelta(days=15).total_seconds())
    before = len(stores.state.deliveries)
    late = await desk.post_in_thread(LENA, public, "Broken once more")
    assert late.follow_up is not None
    events = {e.id: e for e in stores.state.events}
    told = {d.binding_id for d in stores.state.deliveries[before:]
            if d.ticket_number == 1 and events[d.event_id].kind is EventKind.LINKED}
    assert told == {public.id, internal.id}
    before = len(stores.state.deliveries)
    again = await desk.post_in_thread(LENA, public, "Still broken")
    assert again.ticket.number == 2 and again.follow_up is None, "the follow-up takes it"
    assert all(d.ticket_number == 2 for d in stores.state.deliveries[before:])


async def test_strangers_cannot_revive_closed_tickets(desk) -> None:
    await desk.open_ticket(LENA, form(visibility="shared"))
    await desk.close(SAM, 1, "duplicate")
    with pytest.raises(InvalidTransition, match="only its requester or an agent"):
        await desk.comment(person("omar"), 1, "me too")


async def test_assign_needs_an_agent_and_tells_them(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    with pytest.raises(Invalid) as err:
        await desk.assign(SAM, 1, MARCO)
    assert err.value.field == "assignee"
    before = len(stores.state.deliveries)
    t = await desk.assign(SAM, 1, ANA)
    assert t.assignee == ANA.person and t.status is Status.IN_PROGRESS
    dms = [d for d in stores.state.deliveries[before:] if d.purpose == "assigned"]
    assert [d.address for d in dms] == [ANA.ref.key]
    with pytest.raises(InvalidTransition, match="already claimed by ana"):
        await desk.claim(SAM, 1)
    with pytest.raises(NotAllowed, match="only agents can assign"):
        await desk.assign(LENA, 1, MARCO)  # the actor is refused, whoever the target


async def test_hold_reason_stays_internal(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.hold(SAM, 1, "refund in flight at the bank")
    event = stores.state.events[-1]
    assert event.kind is EventKind.HELD
    assert event.visible_to(Audience.PUBLIC).payload == Held(None)
    assert event.visible_to(Audience.INTERNAL).payload == Held("refund in flight at the bank")
    shown = await desk.show(LENA, 1)
    assert "refund in flight" not in str([e.payload for e in shown.events])


async def test_escalation_rules(desk, clock) -> None:
    await desk.open_ticket(LENA, form())
    with pytest.raises(NotAllowed, match="first-response target"):
        await desk.escalate(LENA, 1, "nobody answers")
    clock.advance(timedelta(hours=9).total_seconds())
    assert (await desk.escalate(LENA, 1, "nobody answers")).escalation_level == 1
    assert (await desk.escalate(SAM, 1, "VIP")).escalation_level == 2


async def test_priority_change_moves_the_sla_targets(desk) -> None:
    opened = (await desk.open_ticket(LENA, form())).ticket
    t = await desk.set_priority(SAM, 1, "urgent")
    assert t.first_response_due == opened.opened_at + timedelta(hours=1)
    assert t.resolution_due == opened.opened_at + timedelta(hours=8)
    for missing in ("", "  "):
        with pytest.raises(Invalid, match="say which"):
            await desk.set_priority(SAM, 1, missing)  # not quietly "normal"
    assert (await desk.show(SAM, 1)).ticket.priority == "urgent"


async def test_every_change_is_in_the_history(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.claim(SAM, 1)
    await desk.set_priority(SAM, 1, "high")
    await desk.add_watcher(LENA, 1, MARCO.person)
    await desk.unassign(SAM, 1)
    await desk.resolve(ANA, 1, "Answered by phone")
    await desk.reopen(LENA, 1)
    kinds = [e.kind for e in stores.state.events]
    assert kinds == [EventKind.OPENED, EventKind.CLAIMED, EventKind.PRIORITY_CHANGED,
                     EventKind.WATCHER_ADDED, EventKind.UNASSIGNED, EventKind.RESOLVED,
                     EventKind.REOPENED]
    assert all(e.actor is not None and e.platform == "shell" for e in stores.state.events)


async def test_watcher_sees_and_is_notified(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(SAM, 1, MARCO.person)
    assert (await desk.show(MARCO, 1)).ticket.number == 1
    before = len(stores.state.deliveries)
    await desk.reply(SAM, 1, "Looking into it")
    assert MARCO.ref.key in [d.address for d in stores.state.deliveries[before:]]


async def test_list_search_queue_and_unread(desk, clock) -> None:
    await desk.open_ticket(LENA, form(subject="Pixel not firing"))
    clock.advance(1)
    await desk.open_ticket(LENA, form(subject="Terms update", description="New terms text"))
    clock.advance(1)
    await desk.open_ticket(MARCO, form(subject="Other person's"))
    assert [i.ticket.number for i in await desk.list_tickets(LENA)] == [2, 1]
    assert [i.ticket.number for i in await desk.search(LENA, "terms")] == [2]
    assert [i.ticket.number for i in await desk.search(LENA, '"terms update"')] == [2]
    assert [i.ticket.number for i in await desk.search(SAM, "other")] == [3]
    await desk.claim(SAM, 1)
    assert [i.ticket.number for i in await desk.queue(SAM)] == [2, 3]
    await desk.resolve(SAM, 1, "Works again now")
    assert [i.ticket.number for i in await desk.list_tickets(LENA, "closed")] == [1]
    assert [i.ticket.number for i in await desk.list_tickets(LENA, "all")] == [1, 2]
    # her own new ticket is read; the one an agent resolved is not, until she looks
    assert [i.ticket.number for i in await desk.list_tickets(LENA, "all", unread=True)] == [1]
    await desk.show(LENA, 1)
    assert await desk.list_tickets(LENA, "all", unread=True) == []
    assert [i.ticket.number for i in await desk.list_tickets(SAM, "all", mine=True)] == [1]
    with pytest.raises(Invalid):
        await desk.list_tickets(LENA, "everything")


async def test_sensitive_fields_only_for_agents_show(desk, stores) -> None:
    await desk.open_ticket(LENA, form(category="refund", fields={
        "receipt": "RC-1", "card_last4": "4242"}))
    mine = await desk.show(LENA, 1)
    assert "4242" not in repr(mine)
    theirs = await desk.show(SAM, 1)
    assert [(f.key, f.value) for f in theirs.sensitive] == [("card_last4", "4242")]
    assert "4242" not in repr(theirs.ticket)


async def test_search_by_bare_number_finds_words_and_the_ticket(desk) -> None:
    await desk.open_ticket(LENA, form(subject="Orders 5512 and 2 missing"))
    await desk.open_ticket(LENA, form(subject="Second"))
    assert [i.ticket.number for i in await desk.search(LENA, "5512")] == [1]
    assert [i.ticket.number for i in await desk.search(LENA, "2")] == [2, 1]
    assert [i.ticket.number for i in await desk.search(LENA, "#2")] == [2]
    for empty in ('"', '""', "  "):
        with pytest.raises(Invalid):
            await desk.search(LENA, empty)


async def test_requesters_do_not_see_agents_links(desk) -> None:
    await desk.open_ticket(LENA, form(subject="one"))
    await desk.open_ticket(LENA, form(subject="two"))
    await desk.link(SAM, 2, LinkKind.DUPLICATE_OF, 1)
    assert (await desk.show(LENA, 2)).ticket.links == ()
    assert [(x.kind, x.number) for x in (await desk.show(SAM, 2)).ticket.links] == [
        (LinkKind.DUPLICATE_OF, 1)]


async def test_a_duplicate_is_closed_pointing_at_the_other_and_never_loops(
        desk, stores) -> None:
    for subject in ("one", "two", "three"):
        await desk.open_ticket(LENA, form(subject=subject))
    await desk.link(SAM, 2, LinkKind.DUPLICATE_OF, 1)
    assert stores.state.tickets[2].status is Status.CLOSED  # PRODUCT.md §4
    closed = [e for e in stores.state.events if e.kind is EventKind.CLOSED]
    assert [(e.ticket_number, e.payload.reason) for e in closed] == [
        (2, "a duplicate of #1")]
    assert closed[0].audience is Audience.PUBLIC  # the requester is told why
    with pytest.raises(InvalidTransition, match="duplicate of its own duplicate"):
        await desk.link(SAM, 1, LinkKind.DUPLICATE_OF, 2)
    with pytest.raises(InvalidTransition, match=r"already linked to #1 \(duplicate of\)"):
        await desk.link(SAM, 2, LinkKind.DUPLICATE_OF, 1)
    with pytest.raises(InvalidTransition, match="already a duplicate"):
        await desk.link(SAM, 2, LinkKind.DUPLICATE_OF, 3)
    assert stores.state.tickets[1].status is Status.OPEN


async def test_linking_again_with_the_other_kind_changes_the_link(desk, stores) -> None:
    """related → duplicate_of: the same link changes kind, and the duplicate closes
    pointing at the other (PRODUCT.md §4); back to related it stays closed."""
    for subject in ("one", "two"):
        await desk.open_ticket(LENA, form(subject=subject))
    await desk.link(SAM, 2, LinkKind.RELATED, 1)
    with pytest.raises(InvalidTransition, match=r"already linked to #1 \(related\)"):
        await desk.link(SAM, 2, LinkKind.RELATED, 1)
    await desk.link(SAM, 2, LinkKind.DUPLICATE_OF, 1)
    ticket = stores.state.tickets[2]
    assert [(x.kind, x.number) for x in ticket.links] == [(LinkKind.DUPLICATE_OF, 1)]
    assert ticket.status is Status.CLOSED
    closed = [e for e in stores.state.events if e.kind is EventKind.CLOSED]
    assert [(e.ticket_number, e.payload.reason) for e in closed] == [
        (2, "a duplicate of #1")]
    await desk.link(SAM, 2, LinkKind.RELATED, 1)
    assert [(x.kind, x.number) for x in stores.state.tickets[2].links] == [
        (LinkKind.RELATED, 1)]
    assert stores.state.tickets[2].status is Status.CLOSED


async def test_the_form_is_pre_checked_against_the_limits_and_nothing_changes(
        stores, clock) -> None:
    config = desk_config(desk=DeskSection(max_open_per_user=1, max_new_per_hour=3))
    desk = make_desk(stores, config=config, clock=clock)
    await desk.check_may_open(LENA)
    await desk.open_ticket(LENA, form())
    before = len(stores.state.events)
    with pytest.raises(Limited, match="1 open ticket"):
        await desk.check_may_open(LENA)
    assert len(stores.state.events) == before
    await desk.check_may_open(SAM)  # agents are not limited
