"""The inbound part of the ``Store`` port (``core.inbound``), the same on the in-memory
store, SQLite and PostgreSQL: keys recognise a message however it comes back, the
thread cursor only moves forward, catch-up sees the threads it should, old keys are
pruned, placeholder names are replaced."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import Conflict
from core.events import Audience, EventKind
from core.identity import Person, UserRef
from core.inbound import Receipt
from core.routing import Binding
from core.tickets import Status
from tests.contract.conftest import StoreUnderTest
from tests.contract.test_store_contract import LENA, T0, add, at, event, ticket

ALICE = UserRef("slack", "T1", "U0ALICE")


async def _ticket_with_thread(contract: StoreUnderTest, number: int = 1,
                              requester: Person | None = None, **kwargs: object) -> Binding:
    binding = Binding(number, "slack", "T1", Audience.PUBLIC, "C1", thread=f"17000.{number}")
    opened = ticket(number, **kwargs)
    if requester is not None:
        opened.requester = requester
    async with contract.stores.transaction() as store:
        await add(store, opened)
        await store.add_bindings([binding])
    return binding


async def test_a_message_is_known_by_any_of_its_keys(contract: StoreUnderTest) -> None:
    binding = await _ticket_with_thread(contract)
    comment = event(1, EventKind.COMMENTED, "hi", request_key="slack:message:C1:1.1")
    async with contract.stores.transaction() as store:
        await store.add_event(comment)
        assert comment.id is not None
        await store.record_inbound(Receipt(("slack:message:C1:1.1", "slack:event:Ev1"), 11,
                                           "1.1"), comment.id, binding.id, T0)
    async with contract.stores.transaction() as store:
        for keys in (("slack:event:Ev2", "slack:message:C1:1.1"), ("slack:event:Ev1",)):
            found = await store.inbound_event(keys)
            assert found is not None and found.id == comment.id and found.text == "hi"
        assert await store.inbound_event(("slack:message:C1:1.2",)) is None
    with pytest.raises(Conflict):
        async with contract.stores.transaction() as store:
            await store.record_inbound(Receipt(("slack:event:Ev9", "slack:event:Ev1")),
                                       comment.id, binding.id, T0)
    async with contract.stores.transaction() as store:  # the refused one left nothing
        assert await store.inbound_event(("slack:event:Ev9",)) is None


async def test_the_cursor_moves_forward_only_and_catch_up_sees_open_threads(
        contract: StoreUnderTest) -> None:
    first = await _ticket_with_thread(contract, 1)
    await _ticket_with_thread(contract, 2, status=Status.CLOSED, closed_at=at(-60 * 24 * 30))
    recent = await _ticket_with_thread(contract, 3, status=Status.CLOSED, closed_at=at(-60))
    async with contract.stores.transaction() as store:
        for order, key in ((20, "b"), (10, "a"), (30, "c")):
            await store.record_inbound(Receipt((key,), order, f"m{order}"), None, first.id, T0)
        await store.record_inbound(Receipt(("d",)), None, first.id, T0)  # no order: stays
    async with contract.stores.transaction() as store:
        cursors = await store.thread_cursors("slack", at(-60 * 24 * 14))
        assert await store.thread_cursors("discord", at(-60 * 24 * 14)) == []
    assert [(c.binding.id, c.message) for c in cursors] == [(first.id, "m30"),
                                                             (recent.id, None)]
    assert cursors[1].since == T0 and cursors[0].requester == LENA, \
        "a thread with nothing typed in it starts at the opening"


async def test_old_keys_are_pruned_and_placeholder_names_replaced(
        contract: StoreUnderTest) -> None:
    await _ticket_with_thread(contract, 1, requester=Person(ALICE, "U0ALICE"))
    comment = event(1, EventKind.COMMENTED, "hi", who=ALICE)
    async with contract.stores.transaction() as store:
        await store.add_event(comment)
        await store.record_inbound(Receipt(("old",)), comment.id, None, T0)
        await store.record_inbound(Receipt(("new",)), comment.id, None, T0 + timedelta(days=8))
    async with contract.stores.transaction() as store:
        assert await store.prune_inbound(T0 + timedelta(days=1)) == 1
        assert await store.inbound_event(("old",)) is None
        assert await store.inbound_event(("new",)) is not None
        assert await store.rename(ALICE, "U0ALICE", "Alice") == 2  # the event, the requester
        assert await store.rename(ALICE, "U0ALICE", "Ally") == 0, "a real name is kept"
    async with contract.stores.transaction() as store:
        [stored] = await store.events(1)
        got = await store.get_ticket(1)
    assert stored.actor is not None and stored.actor.name == "Alice"
    assert got is not None and got.requester.name == "Alice"
