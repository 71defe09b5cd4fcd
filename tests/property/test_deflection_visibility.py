"""Deflection applies visibility in the query, on SQLite and PostgreSQL: over random
tickets (private or shared, watchers, resolved or not, public comments, notes, a hold's
reason) and random readers, ``Store.similar_tickets`` offers exactly the resolved
tickets with a note that the reader may see and whose text the reader may read holds the
word — never another requester's private ticket, never a match on internal text for a
requester."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.events import Event
from core.identity import Person, UserRef
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from core.tickets import Status, Ticket, Visibility
from core.visibility import Viewer, may_see
from tests.property.test_search_visibility import KINDS, PEOPLE, WORDS, _payload

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WORLDS = itertools.count(1)  # each example's words carry their own tag
MIGRATED: set[str] = set()

tickets = st.lists(st.fixed_dictionaries({
    "requester": st.sampled_from(PEOPLE),
    "shared": st.booleans(),
    "watchers": st.sets(st.sampled_from(PEOPLE), max_size=2),
    "subject": st.sampled_from(WORDS),
    "status": st.sampled_from((Status.RESOLVED, Status.CLOSED, Status.OPEN)),
    "noted": st.booleans(),  # has a resolution note
    "events": st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(WORDS)),
                       max_size=3),
}), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=tickets, reader=st.sampled_from(PEOPLE), agent=st.booleans(),
       word=st.sampled_from(WORDS))
async def test_deflection_offers_only_what_the_reader_may_read(
        database_url: str, world: list[dict[str, object]], reader: UserRef, agent: bool,
        word: str) -> None:
    if database_url not in MIGRATED:
        await upgrade_async(database_url)
        MIGRATED.add(database_url)
    tag = f"w{next(WORLDS)}x"
    engine = make_engine(database_url)
    viewer = Viewer(reader, agent)
    expected = set()
    try:
        stores = SqlStores(engine)
        async with stores.transaction() as store:
            for i, spec in enumerate(world):
                requester, watchers, status = spec["requester"], spec["watchers"], \
                    spec["status"]
                assert isinstance(requester, UserRef) and isinstance(watchers, set)
                assert isinstance(status, Status)
                number = await store.next_ticket_number()
                ticket = Ticket(
                    number=number, subject=f"{tag}{spec['subject']}", description="text",
                    category="technical", priority="normal",
                    requester=Person(requester, requester.user_id), opened_at=T0,
                    source="shell", status=status,
                    resolution="Fixed it." if spec["noted"] else None,
                    last_activity_at=T0 + timedelta(minutes=i),
                    visibility=Visibility.SHARED if spec["shared"] else Visibility.PRIVATE,
                    watchers=[Person(w, w.user_id) for w in sorted(watchers, key=str)])
                await store.add_ticket(ticket)
                readable = [str(spec["subject"])]
                events = spec["events"]
                assert isinstance(events, list)
                for kind, text in events:
                    payload, audience = _payload(kind, f"{tag}{text}")
                    await store.add_event(Event(number, payload, None, T0, "shell",
                                                audience=audience))
                    if agent or kind == "comment":
                        readable.append(text)
                if may_see(viewer, ticket) and word in readable \
                        and status is not Status.OPEN and spec["noted"]:
                    expected.add(number)
        async with stores.reading() as store:
            found = await store.similar_tickets((f"{tag}{word}",), viewer, 100)
    finally:
        await engine.dispose()
    assert {t.number for t in found} == expected
    for ticket in found:
        assert may_see(viewer, ticket) and ticket.resolution
