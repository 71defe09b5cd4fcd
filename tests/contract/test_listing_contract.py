"""``Store.find_tickets`` / ``count_tickets`` for ``/ticket list`` and the queue (issue 12,
point 2): pages cut in the query, the activity a viewer may see, unread in the query,
the queue's candidates by due time — the same on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from core.events import Audience, EventKind
from core.identity import UserRef
from core.store.port import TicketQuery
from core.tickets import Status, Visibility
from tests.contract.conftest import StoreUnderTest
from tests.contract.test_store_contract import LENA, MARCO, OMAR, SAM, ZED, add, at, event, ticket

ANA = UserRef("shell", "local", "ana")  # another agent, in lena's workspace


async def listed(contract: StoreUnderTest, viewer: UserRef, agent: bool = False,
                 **kwargs: object) -> list[int]:
    query = TicketQuery(viewer=viewer, sees_internal=agent, **kwargs)  # type: ignore[arg-type]
    async with contract.stores.reading() as store:
        return [t.number for t in await store.find_tickets(query)]


async def counted(contract: StoreUnderTest, viewer: UserRef, agent: bool = False,
                  **kwargs: object) -> int:
    query = TicketQuery(viewer=viewer, sees_internal=agent, **kwargs)  # type: ignore[arg-type]
    async with contract.stores.reading() as store:
        return await store.count_tickets(query)


async def test_a_page_is_cut_in_the_query_and_counted(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, *(ticket(n, status=Status.CLOSED if n % 3 == 0 else Status.OPEN)
                           for n in range(1, 46)))
        await add(store, ticket(46, ZED))  # not lena's to see
    assert await listed(contract, LENA, limit=21) == list(range(45, 24, -1))
    assert await listed(contract, LENA, offset=20, limit=21) == list(range(25, 4, -1))
    assert await listed(contract, LENA, offset=40, limit=21) == [5, 4, 3, 2, 1]
    assert await listed(contract, LENA, offset=60, limit=21) == []
    assert await counted(contract, LENA, offset=60, limit=21) == 45  # the whole list
    assert await counted(contract, SAM, True) == 46
    closed = frozenset({Status.CLOSED})
    assert await counted(contract, LENA, statuses=closed) == 15
    assert await listed(contract, LENA, statuses=closed, offset=10, limit=10) == [
        15, 12, 9, 6, 3]


async def test_a_note_is_activity_for_agents_only(contract: StoreUnderTest) -> None:
    """A requester's list is newest *public* activity first: a note the team wrote on
    an old ticket does not lift it to the top of the requester's list (nor say, by
    its place, that the team wrote something)."""
    async with contract.stores.transaction() as store:
        await add(store, ticket(1, last_activity_at=at(10), public_activity_at=at(1)),
                  ticket(2, last_activity_at=at(5), public_activity_at=at(5)))
    assert await listed(contract, LENA) == [2, 1]
    assert await listed(contract, SAM, True) == [1, 2]


async def test_unread_is_in_the_query_and_shared_across_the_org(
        contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store, ticket(1, visibility=Visibility.SHARED), ticket(2),
                  ticket(3, visibility=Visibility.SHARED))
        for n in (1, 2, 3):
            await store.add_event(event(n, text="agent answer", who=SAM, minutes=4))
        await store.mark_read(1, OMAR, at(5))  # lena's org member saw #1's answer
        await store.mark_read(2, OMAR, at(5))  # #2 is private: omar's look is his own
        await store.mark_read(3, LENA, at(3))  # before the answer
    assert await listed(contract, LENA, unread=True) == [3, 2]
    assert await counted(contract, LENA, unread=True) == 2
    assert await listed(contract, MARCO, unread=True) == [3]  # same org: #1 read for all
    assert await listed(contract, OMAR, unread=True) == [3]
    assert await listed(contract, LENA, unread=True, offset=1, limit=5) == [2]
    # an agent's news is read by their own look only (an org member's says nothing of
    # notes): ana, of lena's workspace, has seen none of the three
    assert await listed(contract, ANA, True, unread=True) == [3, 2, 1]
    async with contract.stores.transaction() as store:
        await store.add_event(event(2, EventKind.NOTED, "agents only", Audience.INTERNAL,
                                    who=SAM, minutes=6))
        await store.mark_read(1, ANA, at(7))
        await store.mark_read(2, LENA, at(7))
    assert await listed(contract, LENA, unread=True) == [3]  # a note is no news to her
    assert await listed(contract, ANA, True, unread=True) == [3, 2]


async def test_the_queue_candidates_come_by_due_time(contract: StoreUnderTest) -> None:
    async with contract.stores.transaction() as store:
        await add(store,
                  ticket(1, first_response_due=at(30), resolution_due=at(300)),
                  ticket(2, first_response_due=None, resolution_due=at(20),
                         first_response_at=at(1)),
                  ticket(3, status=Status.WAITING),  # paused: no due time
                  ticket(4, first_response_due=at(-5), resolution_due=at(100)),
                  ticket(5, first_response_due=at(30), resolution_due=at(300)))
    assert await listed(contract, SAM, True, by_due=True) == [4, 2, 1, 5, 3]
    assert await listed(contract, SAM, True, by_due=True, limit=2) == [4, 2]
