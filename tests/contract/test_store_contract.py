"""The ``Store`` port's contract, the same on the in-memory store, SQLite and PostgreSQL.

Every test runs three times (``store_kind``). SQL is the reference: where the memory
store disagreed, the memory store was fixed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Conflict
from core.events import Attachment, Audience, Closed, Event, EventKind, Noted, Opened
from core.identity import Person, UserRef
from core.routing import Binding, Delivery, DeliveryState, Target
from core.search import parse
from core.store.port import Store, TicketQuery
from core.tickets import Link, LinkKind, Status, Ticket, Visibility
from core.visibility import Viewer, may_see
from tests.contract.conftest import StoreUnderTest
from tests.support.people import desk_config
from tests.support.samples import SAMPLES

T0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
WHOLE_SECOND = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
LENA = UserRef("shell", "local", "lena")
OMAR = UserRef("shell", "local", "omar")  # lena's org
MARCO = UserRef("shell", "local", "marco")
ZED = UserRef("shell", "acme", "zed")  # another org
SAM = UserRef("shell", "local", "sam")  # an agent


class Boom(Exception):
    pass


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(number: int, requester: UserRef = LENA, **kwargs: object) -> Ticket:
    values: dict[str, object] = {
        "subject": f"Subject {number}", "description": "Sales are not recorded.",
        "category": "technical", "priority": "normal",
        "requester": Person(requester, requester.user_id.title()), "opened_at": T0,
        "source": "shell", "last_activity_at": at(number), "public_activity_at": at(number),
    }
    values.update(kwargs)
    return Ticket(number=number, **values)  # type: ignore[arg-type]


def event(number: int, kind: EventKind = EventKind.COMMENTED, text: str | None = None,
          audience: Audience = Audience.PUBLIC, request_key: str | None = None,
          who: UserRef = LENA, minutes: float = 0) -> Event:
    payload = SAMPLES[kind]
    if text is not None and kind in (EventKind.COMMENTED, EventKind.NOTED):
        payload = dataclasses.replace(payload, text=text)  # type: ignore[call-arg]
    return Event(number, payload, Person(who, who.user_id), at(minutes), "shell",
                 audience=audience, request_key=request_key)


async def add(store: Store, *tickets: Ticket) -> None:
    for t in tickets:
        assert await store.next_ticket_number() == t.number
        await store.add_ticket(t)


# ---- numbers and transactions ------------------------------------------------------


def _after_rollback(contract: StoreUnderTest, number: int) -> int:
    """The next number after one transaction that took a number rolled back."""
    return number + 1 if contract.kind == "postgres" else number



async def test_numbers_are_sequential_and_a_rolled_back_one_leaves_nothing(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1), ticket(2), ticket(3))
    with pytest.raises(Boom):
        async with contract.stores.transaction() as store:
            await add(store, ticket(4))
            raise Boom
    async with contract.stores.transaction() as store:
        assert await store.get_ticket(4) is None
        # SQLite's counter gives the number back; PostgreSQL's sequence does not (it locks
        # nothing, issue 10 point 10): a gap only where a transaction fails after taking
        # its number, which is why the desk takes it after every check.
        assert await store.next_ticket_number() == _after_rollback(contract, 4)
        await store.add_ticket(ticket(4, subject="the real #4"))
    async with contract.stores.transaction() as store:
        assert [(await store.get_ticket(n)) is not None for n in (1, 2, 3)] == [True] * 3
        got = await store.get_ticket(4)
        assert got is not None and got.subject == "the real #4"
        # a committed number is never reused
        assert await store.next_ticket_number() == _after_rollback(contract, 5)


async def test_a_new_ticket_takes_the_next_number_and_its_opener_has_seen_it(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
        assert await store.add_new_ticket(ticket(0, subject="second"), LENA) == 2
        assert await store.add_new_ticket(ticket(0, subject="third"), LENA) == 3
        await store.add_event(event(2, EventKind.COMMENTED, who=SAM, minutes=5))
        await store.add_event(event(3, EventKind.COMMENTED, who=SAM, minutes=0))
    async with contract.stores.transaction() as store:
        second, third = await store.get_ticket(2), await store.get_ticket(3)
        assert second is not None and second.subject == "second"
        assert third is not None and third.subject == "third"
        assert await store.next_ticket_number() == 4
        # seen when opened: only what came later is new to her
        assert await store.unread([2, 3], LENA, internal=False) == {2}


async def test_a_read_runs_beside_an_open_write_and_sees_only_what_is_committed(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
    async with contract.stores.transaction() as writing:
        await add(writing, ticket(2))  # uncommitted, and on SQLite the write lock is held

        async def read() -> list[bool]:
            async with contract.stores.reading() as store:
                return [await store.get_ticket(n) is not None for n in (1, 2)]
        # a guard, not a measurement: a read that waited for the lock would wait out
        # SQLite's 30-second busy timeout
        assert await asyncio.wait_for(read(), 10) == [True, False]


async def test_a_transaction_that_raises_rolls_everything_back(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
    with pytest.raises(Boom):
        async with contract.stores.transaction() as store:
            await add(store, ticket(2))
            t1 = await store.get_ticket(1, for_update=True)
            assert t1 is not None
            t1.status = Status.CLOSED
            await store.update_ticket(t1)
            binding = Binding(2, "shell", "local", Audience.PUBLIC, "ticket", thread="t2")
            await store.add_bindings([binding])
            opened = event(2, EventKind.OPENED, request_key="req-2")
            await store.add_event(opened)
            assert opened.id is not None
            await store.add_deliveries([Delivery(2, opened.id, "shell", Target.BINDING,
                                                 Audience.PUBLIC, T0, binding_id=binding.id)])
            await store.mark_read(1, LENA, at(30))
            raise Boom
    async with contract.stores.transaction() as store:
        assert await store.get_ticket(2) is None
        t1 = await store.get_ticket(1)
        assert t1 is not None and t1.status is Status.OPEN
        assert await store.bindings(2) == []
        assert await store.binding_at("shell", "ticket", "t2") is None
        assert await store.events(2) == []
        assert await store.event_by_request_key("req-2") is None
        assert await store.unread([1, 2], LENA, internal=False) == set()
        assert await store.next_ticket_number() == _after_rollback(contract, 2)
    assert await contract.deliveries() == []


# ---- tickets -----------------------------------------------------------------------


def full_ticket() -> Ticket:
    return Ticket(
        number=1, subject="Überweisung fehlt — 100% sicher", description="Line 1\nLine 2\t☃",
        category="refund", priority="urgent", requester=Person(LENA, "Léna Ø"),
        opened_at=T0, source="slack", status=Status.ON_HOLD,
        fields={"receipt": "RC-9", "card_last4": "4242"}, account="PID 1234",
        visibility=Visibility.SHARED, assignee=Person(SAM, "Sam"),
        watchers=[Person(MARCO, "Marco"), Person(UserRef.email("w@example.test"), "")],
        links=[Link(LinkKind.RELATED, 7), Link(LinkKind.FOLLOW_UP_OF, 3)], locale="de-DE",
        escalation_level=2, first_response_at=at(1), resolved_at=at(2), closed_at=at(3),
        last_activity_at=at(4), first_response_due=at(5), resolution_due=at(6),
        resolution="Refunded",
    )


async def test_every_ticket_field_round_trips(contract: StoreUnderTest) -> None:
    original = full_ticket()
    async with contract.stores.transaction() as store:
        await add(store, original)
    async with contract.stores.transaction() as store:
        assert await store.get_ticket(1) == original
        assert await store.get_ticket(1, for_update=True) == original
        assert await store.get_ticket(2) is None
        assert await store.get_ticket(2, for_update=True) is None
    changed = replace(
        original, subject="Changed", description="d", category="general", priority="low",
        requester=Person(LENA, "Lena"), status=Status.CLOSED, fields={}, account=None,
        visibility=Visibility.PRIVATE, assignee=None, watchers=[], links=[], locale=None,
        escalation_level=0, first_response_at=None, resolved_at=None, closed_at=at(10),
        last_activity_at=at(11), first_response_due=None, resolution_due=None,
        resolution=None)
    async with contract.stores.transaction() as store:
        await store.update_ticket(changed)
    async with contract.stores.transaction() as store:
        got = await store.get_ticket(1)
        assert got == changed and got is not changed
        assert got.opened_at.tzinfo is not None and got.opened_at == T0


async def test_a_returned_ticket_is_a_copy(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
        got = await store.get_ticket(1)
        assert got is not None
        got.subject = "changed but not saved"
        got.watchers.append(Person(MARCO, "Marco"))
    async with contract.stores.transaction() as store:
        assert await store.get_ticket(1) == ticket(1)


async def test_updating_a_ticket_never_added_stores_nothing(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await store.update_ticket(ticket(9))
    async with contract.stores.transaction() as store:
        assert await store.get_ticket(9) is None


# ---- requester load ----------------------------------------------------------------


@pytest.mark.parametrize("read", ["transaction", "quick_read"])
async def test_requester_load_counts_and_finds_the_latest_duplicate(
        contract: StoreUnderTest, read: str) -> None:
    """The same through a writing transaction and through a pre-check's quick read (on
    a SQLite file, SQL written out by hand: ``core.store.quick``)."""
    async with contract.stores.transaction() as store:
        await add(store,
                  ticket(1, opened_at=at(0)),
                  ticket(2, opened_at=at(30), status=Status.CLOSED),
                  ticket(3, opened_at=at(45), subject="Dup", description="D",
                         status=Status.IN_PROGRESS),
                  ticket(4, OMAR, opened_at=at(50), subject="Dup", description="D"),
                  ticket(5, opened_at=at(55), subject="Dup", description="D",
                         status=Status.WAITING),
                  ticket(6, opened_at=at(56), status=Status.ON_HOLD),
                  ticket(7, opened_at=at(57), status=Status.RESOLVED),
                  ticket(8, opened_at=at(58), status=Status.OPEN),
                  ticket(9, MARCO, opened_at=WHOLE_SECOND))
    reading = (contract.stores.transaction() if read == "transaction"
               else contract.stores.quick_read())
    async with reading as store:
        load = await store.requester_load(LENA, at(10), "Dup", "D", at(40))
        assert (load.open_count, load.opened_since, load.duplicate_of) == (5, 6, 5)
        load = await store.requester_load(LENA, at(60), "dup", "D", at(40))  # case counts
        assert (load.open_count, load.opened_since, load.duplicate_of) == (5, 0, None)
        load = await store.requester_load(LENA, at(0), "Dup", "D", at(56))  # window passed
        assert (load.opened_since, load.duplicate_of) == (7, None)
        load = await store.requester_load(LENA, at(58), "Dup", "D", at(0))  # at the edge
        assert (load.opened_since, load.duplicate_of) == (1, 5)
        load = await store.requester_load(ZED, at(0), "Dup", "D", at(0))
        assert (load.open_count, load.opened_since, load.duplicate_of) == (0, 0, None)
        assert (await store.requester_load(OMAR, at(0), "Dup", "D", at(0))).duplicate_of == 4
        # a whole second is stored as "…:00.000000": compared as the instant it is
        load = await store.requester_load(MARCO, WHOLE_SECOND, "", "", at(0))
        assert load.opened_since == 1
        load = await store.requester_load(MARCO, WHOLE_SECOND + timedelta(microseconds=1),
                                          "", "", at(0))
        assert load.opened_since == 0


# ---- bindings ----------------------------------------------------------------------


async def test_bindings_round_trip_in_order_with_their_ids(contract: StoreUnderTest) -> None:
    team = Binding(1, "slack", "T1", Audience.INTERNAL, "C-team", thread="111.1",
                   card_message="111.1")
    dm = Binding(1, "slack", "T1", Audience.PUBLIC, "dm", reaches_requester=True,
                 in_requester_dm=True, thread="222.2")
    later = Binding(1, "discord", "G1", Audience.PUBLIC, "C-support")
    async with contract.stores.transaction() as store:
        await add(store, ticket(1), ticket(2))
        await store.add_bindings([team, dm])
        assert await store.get_ticket(1, for_update=True) is not None
        assert await store.bindings(1) == [team, dm]
        await store.add_bindings([later])  # seen by the same transaction after a lock
        assert await store.bindings(1) == [team, dm, later]
        await store.add_bindings([])
    ids = [team.id, dm.id, later.id]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(set(ids))  # type: ignore[type-var]
    async with contract.stores.transaction() as store:
        assert await store.bindings(1) == [team, dm, later]
        assert await store.bindings(2) == []


async def test_binding_at_and_the_dm_placeholder(contract: StoreUnderTest) -> None:
    team = Binding(1, "slack", "T1", Audience.INTERNAL, "C-team", thread="111.1")
    dm = Binding(1, "slack", "T1", Audience.PUBLIC, "dm", reaches_requester=True,
                 in_requester_dm=True, thread="222.2")
    unsent = Binding(1, "discord", "G1", Audience.PUBLIC, "C-support")
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
        await store.add_bindings([team, dm, unsent])
    async with contract.stores.transaction() as store:
        assert await store.binding_at("slack", "C-team", "111.1") == team
        assert await store.binding_at("slack", "C-team", "111.1", in_dm=True) == team
        assert await store.binding_at("slack", "C-other", "111.1") is None
        assert await store.binding_at("discord", "C-team", "111.1") is None
        # a DM thread is stored under the placeholder channel "dm": found only from a DM
        assert await store.binding_at("slack", "D-lena", "222.2") is None
        assert await store.binding_at("slack", "D-lena", "222.2", in_dm=True) == dm
        assert await store.binding_at("slack", "dm", "222.2") == dm
        assert await store.binding_at("discord", "C-support", "") is None


async def test_binding_at_a_watchers_own_dm_thread_only_for_its_watcher(
        contract: StoreUnderTest) -> None:
    own = Binding(1, "slack", "T1", Audience.PUBLIC, "dm:U-bo", thread="333.3")
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
        await store.add_bindings([own])
    async with contract.stores.transaction() as store:
        assert await store.binding_at("slack", "D-bo", "333.3", in_dm=True,
                                      author="U-bo") == own
        assert (await store.bindings(1))[0].watcher == UserRef("slack", "T1", "U-bo")
        assert await store.binding_at("slack", "D-bo", "333.3", in_dm=True,
                                      author="U-lena") is None, "another's DM, same ts"
        assert await store.binding_at("slack", "D-bo", "333.3", in_dm=True) is None
        assert await store.binding_at("slack", "C-support", "333.3", author="U-bo") is None


# ---- events and deliveries ---------------------------------------------------------


async def test_events_keep_their_order_and_every_field(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1), ticket(2))
        [binding] = [Binding(1, "shell", "local", Audience.PUBLIC, "ticket", thread="1")]
        await store.add_bindings([binding])
        first = Event(1, Opened(on_behalf=True), Person(LENA, "Lena"), at(0), "shell",
                      request_key="k1")
        note = Event(1, Noted("internal ü", (Attachment("a.png", None, "https://x.test/a"),)),
                     Person(SAM, "Sam"), at(1), "slack", audience=Audience.INTERNAL,
                     origin_binding_id=binding.id)
        system = Event(1, Closed("no answer", by_system=True), None, at(2), "desk")
        other = event(2, EventKind.OPENED)
        for e in (first, note, other, system):
            await store.add_event(e)
    assert first.id is not None and note.id is not None and system.id is not None
    assert first.id < note.id < system.id
    async with contract.stores.transaction() as store:
        assert await store.events(1) == [first, note, system]
        assert await store.events(2) == [other]
        assert await store.events(3) == []
        assert await store.event_by_request_key("k1") == first
        assert await store.event_by_request_key("k2") is None


async def test_a_repeated_request_key_is_a_conflict_and_leaves_nothing(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
        await store.add_event(event(1, text="hello", request_key="slack:event:Ev1"))
    async with contract.stores.transaction() as store:
        again = event(1, text="hello again", request_key="slack:event:Ev1")
        with pytest.raises(Conflict):
            await store.add_event(again)
        assert again.id is None
        # the transaction goes on: what it writes next still commits
        await store.add_event(event(1, text="next", request_key="slack:event:Ev2"))
    async with contract.stores.transaction() as store:
        assert [e.text for e in await store.events(1)] == ["hello", "next"]
        found = await store.event_by_request_key("slack:event:Ev1")
        assert found is not None and found.text == "hello"


async def test_deliveries_are_stored(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1))
        binding = Binding(1, "shell", "local", Audience.PUBLIC, "ticket")
        await store.add_bindings([binding])
        opened = event(1, EventKind.OPENED)
        await store.add_event(opened)
        assert opened.id is not None
        planned = [
            Delivery(1, opened.id, "shell", Target.BINDING, Audience.PUBLIC, T0,
                     binding_id=binding.id, purpose="card"),
            Delivery(1, opened.id, "slack", Target.DM, Audience.PUBLIC, T0,
                     address="slack:T1:U1", purpose="receipt", next_attempt_at=at(1)),
            Delivery(1, opened.id, "email", Target.EMAIL, Audience.PUBLIC, T0,
                     address="w@example.test"),
        ]
        await store.add_deliveries(planned)
    stored = await contract.deliveries()
    assert [replace(d, id=None) for d in stored] == [replace(d, id=None) for d in planned]
    assert all(d.state is DeliveryState.PENDING and d.id is not None for d in stored)


# ---- find_tickets ------------------------------------------------------------------

WORLD = [
    ticket(1, LENA, watchers=[Person(MARCO, "Marco")], subject="Pixel not firing"),
    ticket(2, LENA, visibility=Visibility.SHARED, status=Status.IN_PROGRESS,
           assignee=Person(SAM, "Sam"), first_response_at=at(1), first_response_due=at(60),
           resolution_due=at(600), description="Postback URL returns 404"),
    ticket(3, ZED, visibility=Visibility.SHARED, status=Status.WAITING),
    ticket(4, OMAR, status=Status.RESOLVED, assignee=Person(SAM, "Sam"),
           resolution_due=at(-1), first_response_at=at(0), subject="Überweisung fehlt",
           description="ÉTÉ"),
    ticket(5, MARCO, status=Status.CLOSED, assignee=Person(SAM, "Sam"),
           first_response_due=at(-5), resolution_due=at(600), subject="100% off_by_one"),
]


async def world(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, *WORLD)
        await store.add_event(event(1, text="The tag is on checkout.example.test"))
        await store.add_event(event(1, EventKind.NOTED, "firstparty cookie, as usual",
                                    Audience.INTERNAL, who=SAM))
        await store.add_event(event(2, EventKind.OPENED))


async def numbers(contract: StoreUnderTest, viewer: UserRef, agent: bool = False,
                  **kwargs: object) -> list[int]:
    query = TicketQuery(viewer=viewer, sees_internal=agent, **kwargs)  # type: ignore[arg-type]
    async with contract.stores.transaction() as store:
        return [t.number for t in await store.find_tickets(query)]


async def test_find_tickets_shows_a_non_agent_what_they_may_see(
        contract: StoreUnderTest) -> None:
    await world(contract)
    assert await numbers(contract, SAM, agent=True) == [5, 4, 3, 2, 1]  # newest activity
    assert await numbers(contract, LENA) == [2, 1]  # requester
    assert await numbers(contract, OMAR) == [4, 2]  # own + org member of a shared one
    assert await numbers(contract, MARCO) == [5, 2, 1]  # own, org shared, watcher
    assert await numbers(contract, ZED) == [3]  # the other org's shared ticket only
    assert await numbers(contract, SAM) == [2]  # not counted as an agent: org member only
    # the same user id elsewhere is nobody; LIKE wildcards in an id match nothing
    assert await numbers(contract, UserRef("slack", "local", "marco")) == []
    assert await numbers(contract, UserRef("shell", "local2", "lena")) == []
    assert await numbers(contract, UserRef("shell", "other", "%")) == []
    assert await numbers(contract, UserRef("shell", "other", "m_rco")) == []


async def test_find_tickets_agrees_with_the_python_rule(contract: StoreUnderTest) -> None:
    """What a store lists is what ``core.visibility.may_see`` (``policy.can_see``) allows."""
    await world(contract)
    newest_first = sorted(WORLD, key=lambda t: t.last_activity_at or T0, reverse=True)
    for ref in (LENA, OMAR, MARCO, ZED, SAM, UserRef("slack", "local", "lena")):
        for agent in (False, True):
            viewer = Viewer(ref, agent)
            expected = [t.number for t in newest_first if may_see(viewer, t)]
            assert await numbers(contract, ref, agent) == expected, viewer


async def test_find_tickets_by_status_mine_org_and_due(contract: StoreUnderTest) -> None:
    await world(contract)
    active = frozenset({Status.OPEN, Status.WAITING})
    assert await numbers(contract, SAM, True, statuses=active) == [3, 1]
    assert await numbers(contract, SAM, True, statuses=frozenset()) == []
    assert await numbers(contract, LENA, statuses=frozenset({Status.CLOSED})) == []
    assert await numbers(contract, SAM, True, mine=True) == [5, 4, 2]  # assigned to sam
    assert await numbers(contract, LENA, mine=True) == [2, 1]
    assert await numbers(contract, MARCO, mine=True) == [5]  # not the watched one
    assert await numbers(contract, OMAR, org=True) == [2]  # shared in omar's org only
    assert await numbers(contract, SAM, True, org=True) == [2]
    assert await numbers(contract, ZED, org=True) == [3]
    # unassigned, or the resolution or (not yet met) first-response target before then
    assert await numbers(contract, SAM, True, unassigned_or_due_before=at(0)) == [5, 4, 3, 1]
    assert await numbers(contract, SAM, True, unassigned_or_due_before=at(-10)) == [3, 1]
    assert await numbers(contract, SAM, True, unassigned_or_due_before=at(601)) == [
        5, 4, 3, 2, 1]
    assert await numbers(contract, LENA, unassigned_or_due_before=at(0)) == [1]
    assert await numbers(contract, SAM, True, limit=2) == [5, 4]


async def found(contract: StoreUnderTest, viewer: UserRef, text: str,
                agent: bool = False) -> list[int]:
    query = TicketQuery(viewer=viewer, sees_internal=agent,
                        search=parse(text, desk_config(), viewer))
    async with contract.stores.reading() as store:
        return [h.ticket.number for h in await store.search_tickets(query)]


async def test_search_tickets_by_words(contract: StoreUnderTest) -> None:
    """Whole words as the index splits them (letters and digits, case and accents
    folded); a word of several parts is a phrase (``example.test``, ``off_by``)."""
    await world(contract)
    assert await found(contract, SAM, "PIXEL", True) == [1]  # subject
    assert await found(contract, SAM, "postback 404", True) == [2]
    assert await found(contract, SAM, "postback pixel", True) == []
    assert await found(contract, LENA, "example.test") == [1]  # a comment
    assert await found(contract, LENA, "example") == [1]
    assert await found(contract, SAM, "firstparty", True) == [1]  # a note
    assert await found(contract, LENA, "firstparty") == []  # agents only
    assert await found(contract, MARCO, "cookie") == []  # a watcher is no agent
    assert await found(contract, SAM, "überweisung", True) == [4]  # not ASCII
    assert await found(contract, SAM, "ete", True) == [4]  # accents folded both ways
    assert await found(contract, SAM, "été", True) == [4]
    assert await found(contract, SAM, "100%", True) == [5]
    assert await found(contract, SAM, "off_by", True) == [5]
    assert await found(contract, SAM, "off_by_one -pixel", True) == [5]
    assert await found(contract, OMAR, "Überweisung") == [4]
    assert await found(contract, ZED, "Überweisung") == []  # not visible


async def test_equal_activity_lists_the_higher_number_first(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, *(ticket(n, last_activity_at=at(m), public_activity_at=at(m))
                           for n, m in ((1, 5), (2, 5), (3, 1))))
    assert await numbers(contract, LENA) == [2, 1, 3]
    assert await numbers(contract, SAM, True) == [2, 1, 3]


# ---- read marks --------------------------------------------------------------------


async def test_unread_is_someone_elses_activity_after_the_last_look(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1), ticket(2))
        assert await store.unread([], LENA, internal=False) == set()
        await store.mark_read(1, LENA, at(1))
        await store.mark_read(2, LENA, at(1))
        await store.add_event(event(1, text="my own words", minutes=2))  # lena's own
        await store.add_event(event(2, EventKind.NOTED, "agents only", Audience.INTERNAL,
                                    who=SAM, minutes=2))
    async with contract.stores.transaction() as store:
        # neither one's own activity nor what one may not see makes a ticket unread
        assert await store.unread([1, 2], LENA, internal=False) == set()
        assert await store.unread([1, 2], SAM, internal=True) == {1}  # #2: his own note
        await store.add_event(event(1, text="an answer", who=SAM, minutes=3))
        await store.add_event(Event(2, Closed(None, by_system=True), None, at(3), "desk"))
    async with contract.stores.transaction() as store:
        assert await store.unread([1, 2], LENA, internal=False) == {1, 2}
        await store.mark_read(1, LENA, at(3))  # seen at the moment it was said
    async with contract.stores.transaction() as store:
        assert await store.unread([1, 2, 3], LENA, internal=False) == {2}


async def test_a_shared_ticket_is_read_once_any_org_member_saw_it(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1, visibility=Visibility.SHARED), ticket(2, ZED))
        await store.add_event(event(1, text="agent answer", who=SAM, minutes=4))
        await store.add_event(event(2, text="agent answer", who=SAM, minutes=4))
        await store.mark_read(1, OMAR, at(5))  # an org member of lena's
        await store.mark_read(2, ZED, at(5))
    async with contract.stores.transaction() as store:
        assert await store.unread([1], LENA, internal=False) == set()
        assert await store.unread([1], MARCO, internal=False) == set()  # same org
        assert await store.unread([2], UserRef("shell", ZED.workspace, "yan"),
                                  internal=False) == {2}  # private: nobody else's mark counts
