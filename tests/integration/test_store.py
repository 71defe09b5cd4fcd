"""The desk on SQLite and PostgreSQL: the same rules hold on real storage."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.errors import Invalid, Limited, NotFound
from core.events import Audience, EventKind
from core.store.tables import Base
from core.tickets import Status
from tests.integration.conftest import Wired
from tests.support.people import agent, form, person

LENA, MARCO, SAM = person("lena"), person("marco"), agent("sam")


def _not_search_index(name: str | None, kind: str, _parents: object) -> bool:
    """The search index (migration 0007: FTS5's table and its shadow tables, or
    PostgreSQL's ``ticket_search``) is written by SQL triggers, not a model."""
    return not (kind == "table" and (name or "").startswith("ticket_search"))


async def test_migrations_match_the_models(wired: Wired) -> None:
    async with wired.stores.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={
                "include_name": _not_search_index}), Base.metadata))
    assert diff == []


async def test_open_and_read_back_every_field(wired: Wired) -> None:
    desk = wired.desk
    opened = await desk.open_ticket(LENA, form(category="refund", priority="urgent",
                                               account="1234", visibility="shared",
                                               fields={"receipt": "RC-9", "card_last4": "4242"}))
    t = opened.ticket
    shown = await desk.show(SAM, t.number)
    v = shown.ticket
    assert (v.number, v.category, v.priority, v.account, v.status) == (
        1, "refund", "urgent", "1234", Status.OPEN)
    assert [(f.key, f.value) for f in v.fields] == [("receipt", "RC-9")]
    assert [(f.key, f.value) for f in shown.sensitive] == [("card_last4", "4242")]
    assert v.opened_at == wired.clock.now() and v.opened_at.tzinfo is not None
    assert v.first_response_due == wired.clock.now() + timedelta(hours=1)
    assert [e.kind for e in shown.events] == [EventKind.OPENED]
    assert "4242" not in repr(await desk.show(LENA, 1))


async def test_life_cycle_history_and_listing(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form(subject="Pixel not firing"))
    clock.advance(5)
    await desk.open_ticket(MARCO, form(subject="Terms update", description="100% new text"))
    await desk.claim(SAM, 1)
    await desk.reply(SAM, 1, "Which domain is it?")
    await desk.note(SAM, 1, "firstparty cookie, as usual")
    await desk.request_info(SAM, 1, "And the tag?")
    clock.advance(5)
    assert (await desk.comment(LENA, 1, "checkout.example.test")).ticket.status is \
        Status.IN_PROGRESS
    await desk.resolve(SAM, 1, "Fixed the cookie domain")
    kinds = [e.kind for e in (await desk.show(SAM, 1)).events]
    assert kinds == [EventKind.OPENED, EventKind.CLAIMED, EventKind.COMMENTED, EventKind.NOTED,
                     EventKind.WAITING, EventKind.COMMENTED, EventKind.RESUMED,
                     EventKind.RESOLVED]
    public = [e.kind for e in (await desk.show(LENA, 1)).events]
    assert EventKind.NOTED not in public
    assert [i.ticket.number for i in await desk.list_tickets(SAM, "all")] == [1, 2]
    assert [i.ticket.number for i in await desk.list_tickets(LENA, "closed")] == [1]
    assert await desk.list_tickets(LENA, "open") == []
    # what search finds (notes for agents only, escaped wildcards, case beyond ASCII) is
    # the store contract's (tests/contract); here: the desk's search runs on real storage
    assert [i.ticket.number for i in await desk.search(LENA, "example.test")] == [1]
    assert [i.ticket.number for i in await desk.queue(SAM)] == [2]


async def test_limits_and_duplicates_on_storage(wired: Wired) -> None:
    desk = wired.desk
    for i in range(5):
        await desk.open_ticket(LENA, form(subject=f"ticket {i}"))
    assert (await desk.open_ticket(LENA, form(subject="ticket 4"))).duplicate
    with pytest.raises(Limited):
        await desk.open_ticket(LENA, form(subject="ticket 6"))
    with pytest.raises(Invalid):
        await desk.open_ticket(MARCO, form(subject=""))
    assert (await desk.open_ticket(MARCO, form())).ticket.number == 6  # no gap


async def test_unread_marks_and_shared_org(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form(visibility="shared"))
    colleague = person("omar")
    # a shared ticket counts as read once any org member has seen its latest activity:
    # lena opened it
    assert [i.unread for i in await desk.list_tickets(colleague, org=True)] == [False]
    clock.advance(1)
    await desk.comment(LENA, 1, "more detail")
    assert [i.unread for i in await desk.list_tickets(colleague, org=True)] == [True]
    clock.advance(1)
    await desk.show(colleague, 1)
    assert [i.unread for i in await desk.list_tickets(LENA)] == [False]
    clock.advance(1)
    await desk.reply(SAM, 1, "On it")
    assert [i.unread for i in await desk.list_tickets(LENA, unread=True)] == [True]
    with pytest.raises(NotFound):
        await desk.show(person("zed", workspace="other"), 1)


async def test_a_retried_request_makes_one_comment(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form())
    results = await asyncio.gather(*(
        desk.comment(LENA, 1, "hello", request_key="slack:event:Ev1") for _ in range(3)))
    assert len({r.event.id for r in results}) == 1
    comments = [e for e in (await desk.show(SAM, 1)).events if e.kind is EventKind.COMMENTED]
    assert len(comments) == 1


async def test_follow_up_after_the_window(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form())
    await desk.close(SAM, 1)
    clock.advance(timedelta(days=20).total_seconds())
    result = await desk.comment(LENA, 1, "Happening again")
    assert result.follow_up is not None and result.follow_up.number == 2
    bindings = (await desk.show(SAM, 2)).bindings
    assert {b.audience for b in bindings} == {Audience.PUBLIC, Audience.INTERNAL}


async def test_refused_submissions_take_no_number(wired: Wired) -> None:
    for bad in ({"subject": ""}, {"category": "x"}):
        with pytest.raises(Invalid):
            await wired.desk.open_ticket(LENA, form(**bad))
    opened = await wired.desk.open_ticket(LENA, form())
    assert opened.ticket.number == 1  # the refused ones took none


async def test_identical_submissions_at_once_make_one_ticket(wired: Wired) -> None:
    results = await asyncio.gather(*(wired.desk.open_ticket(LENA, form()) for _ in range(6)))
    assert {r.ticket.number for r in results} == {1}
    assert sorted(r.duplicate for r in results) == [False] + [True] * 5

