"""Issue 12, point 2: ``/ticket list`` in pages of 20 cut in the query, newest activity
the viewer may see first, unread across org members, and ``/ticket queue``'s order —
through the desk, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.config import DeskSection
from core.errors import Invalid, NotAllowed
from core.reading import PAGE_SIZE
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.integration.conftest import Wired
from tests.support.old_schema import AT, ticket_with_history
from tests.support.people import agent, desk_config, form, make_desk, person

LENA, OMAR, SAM = person("lena"), person("omar"), agent("sam")
ROOMY = desk_config(desk=DeskSection(max_open_per_user=100, max_new_per_hour=100))
HOUR = 3600.0


def numbers(page: object) -> list[int]:
    return [i.ticket.number for i in page.items]  # type: ignore[attr-defined]


async def test_list_pages_of_20_and_a_page_past_the_end(wired: Wired) -> None:
    desk = make_desk(wired.stores, ROOMY, wired.clock)
    for n in range(45):
        await desk.open_ticket(LENA, form(subject=f"Ticket {n + 1}"))
        wired.clock.advance(1)
    first = await desk.list_page(LENA)
    assert PAGE_SIZE == 20 and numbers(first) == list(range(45, 25, -1))
    assert (first.number, first.more) == (1, True)
    second = await desk.list_page(LENA, page=2)
    assert numbers(second) == list(range(25, 5, -1)) and second.more
    last = await desk.list_page(LENA, page=3)
    assert numbers(last) == [5, 4, 3, 2, 1] and not last.more
    with pytest.raises(Invalid, match="there is no page 4; the list has 3 pages"):
        await desk.list_page(LENA, page=4)
    with pytest.raises(Invalid, match="there is no page 2; the list is empty"):
        await desk.list_page(LENA, "closed", page=2)
    with pytest.raises(Invalid, match="page"):
        await desk.list_page(LENA, page=0)
    with pytest.raises(Invalid, match="there is no page 999999999; the list has 3 pages"):
        await desk.list_page(LENA, page=999_999_999)  # the grammar's largest page
    assert numbers(await desk.list_page(OMAR)) == []  # private: nothing of lena's

    # an internal note is activity for agents only; a reply is activity for everyone
    wired.clock.advance(60)
    await desk.note(SAM, 1, "seen this before")
    assert numbers(await desk.list_page(LENA, page=3))[-1] == 1, "a note moves nothing"
    assert numbers(await desk.list_page(SAM))[0] == 1
    wired.clock.advance(60)
    await desk.reply(SAM, 2, "on it")
    assert numbers(await desk.list_page(LENA))[0] == 2
    assert numbers(await desk.list_page(SAM))[:2] == [2, 1]
    listed = (await desk.list_page(LENA)).items[0]
    assert listed.unread and listed.last_activity_at == wired.clock.now()


async def test_unread_across_org_members_and_reading_marks_nothing(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form(subject="Shared one", visibility="shared"))
    await desk.open_ticket(LENA, form(subject="Private one"))
    clock.advance(60)
    await desk.reply(SAM, 1, "Try again now")
    await desk.reply(SAM, 2, "And here")
    assert numbers(await desk.list_page(LENA, unread=True)) == [2, 1]
    assert numbers(await desk.list_page(OMAR, org=True, unread=True)) == [1]
    # lists and searches read only: still unread
    await desk.search(OMAR, "shared")
    assert numbers(await desk.list_page(OMAR, org=True, unread=True)) == [1]
    clock.advance(60)
    await desk.show(OMAR, 1)  # an org member opens the shared one: read for the org
    assert numbers(await desk.list_page(LENA, unread=True)) == [2]
    assert numbers(await desk.list_page(OMAR, "all", unread=True)) == []
    # both answered at once: the higher number first
    assert [i.unread for i in (await desk.list_page(LENA, "all")).items] == [True, False]
    clock.advance(60)
    await desk.note(SAM, 1, "internal only")  # no news to the requester's org
    assert numbers(await desk.list_page(LENA, unread=True)) == [2]
    ada = agent("ada")
    assert numbers(await desk.list_page(ada, unread=True)) == [1, 2]  # omar's look is not ada's


async def test_the_queue_breached_then_at_risk_then_unassigned_by_due(wired: Wired) -> None:
    desk, clock = make_desk(wired.stores, ROOMY, wired.clock), wired.clock

    async def opened(priority: str) -> int:
        subject = f"Ticket {clock.now():%H:%M:%S} {priority}"  # no duplicates
        return (await desk.open_ticket(LENA, form(subject, priority=priority))).ticket.number

    normal = await opened("normal")  # first response due in 8 h, unassigned
    answered = await opened("low")  # claimed and answered: due in 120 h, not queued
    await desk.claim(SAM, answered)
    await desk.reply(SAM, answered, "Looking")
    urgent = await opened("urgent")  # claimed, unanswered: due in 1 h → breached
    await desk.claim(SAM, urgent)
    high = await opened("high")  # claimed, unanswered: due in 4 h → at risk at 3.5 h
    await desk.claim(SAM, high)
    clock.advance(0.1 * HOUR)
    unassigned_high = await opened("high")  # due at 4.1 h: at risk, unassigned
    clock.advance(0.9 * HOUR)
    later = await opened("normal")  # due at 9 h
    clock.advance(2.5 * HOUR)  # now 3.5 h
    page = await desk.queue_page(SAM)
    assert numbers(page) == [urgent, high, unassigned_high, normal, later]
    assert not page.more
    with pytest.raises(NotAllowed):
        await desk.queue_page(LENA)
    with pytest.raises(Invalid, match=r"there is no page 2; the list has 1 page$"):
        await desk.queue_page(SAM, page=2)


async def test_the_queue_in_pages(wired: Wired) -> None:
    desk = make_desk(wired.stores, ROOMY, wired.clock)
    for n in range(25):
        await desk.open_ticket(LENA, form(f"Ticket {n + 1}"))
        wired.clock.advance(1)
    first, second = await desk.queue_page(SAM), await desk.queue_page(SAM, page=2)
    assert numbers(first) == list(range(1, 21)) and first.more  # soonest due first
    assert numbers(second) == list(range(21, 26)) and not second.more


async def test_migration_0009_dates_a_requesters_activity_by_public_events(
        database_url: str) -> None:
    """Tickets written before 0009 take their newest public event's time: the note
    written after the answer is no activity for the requester."""
    await upgrade_async(database_url, "0008")
    engine = make_engine(database_url)
    try:
        await ticket_with_history(engine)  # answer at AT + 1 min, note at AT + 2 min
        await upgrade_async(database_url)
        desk = make_desk(SqlStores(engine))
        [mine] = (await desk.list_page(LENA)).items
        assert mine.last_activity_at == AT + timedelta(minutes=1)
        [theirs] = (await desk.list_page(SAM)).items
        assert theirs.last_activity_at == AT + timedelta(minutes=2)
    finally:
        await engine.dispose()


async def test_search_in_pages(wired: Wired) -> None:
    desk = make_desk(wired.stores, ROOMY, wired.clock)
    for n in range(25):
        await desk.open_ticket(LENA, form(f"Printer jam {n + 1}"))
        wired.clock.advance(1)
    await desk.open_ticket(LENA, form("Scanner"))
    first = await desk.search_page(LENA, "printer")
    assert numbers(first) == list(range(25, 5, -1)) and first.more  # ties: newest first
    second = await desk.search_page(LENA, "printer", 2)
    assert numbers(second) == [5, 4, 3, 2, 1] and not second.more
    with pytest.raises(Invalid, match="there is no page 3; the list has 2 pages"):
        await desk.search_page(LENA, "printer", 3)
    with pytest.raises(Invalid, match="there is no page 999999999; the list has 2 pages"):
        await desk.search_page(LENA, "printer", 999_999_999)
    assert numbers(await desk.search_page(OMAR, "printer")) == []  # lena's are private
    assert len(await desk.search(LENA, "printer")) == 25  # the plain search: best 50
