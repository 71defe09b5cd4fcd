"""Search applies visibility in the query, on SQLite and PostgreSQL: over random
tickets (private or shared, watchers, public comments, notes, a hold's reason) and
random viewers, a search finds exactly the tickets the viewer may see whose text
the viewer may read holds the word — never another requester's private ticket,
never a match on internal text for a non-agent."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.events import Audience, Commented, Event, Held, Noted, Payload
from core.identity import Person, UserRef
from core.search import parse
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.port import TicketQuery
from core.store.sql import SqlStores
from core.tickets import Ticket, Visibility
from core.visibility import Viewer, may_see
from tests.support.people import desk_config

PEOPLE = (UserRef("shell", "local", "lena"), UserRef("shell", "local", "omar"),
          UserRef("shell", "local", "marco"), UserRef("shell", "acme", "zed"))
WORDS = ("alpha", "beta", "gamma")
KINDS = ("comment", "note", "held")
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WORLDS = itertools.count(1)  # each example's tickets carry their own tag word
MIGRATED: set[str] = set()

tickets = st.lists(st.fixed_dictionaries({
    "requester": st.sampled_from(PEOPLE),
    "shared": st.booleans(),
    "watchers": st.sets(st.sampled_from(PEOPLE), max_size=2),
    "subject": st.sampled_from(WORDS),
    "events": st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(WORDS)),
                       max_size=3),
}), min_size=1, max_size=5)


def _payload(kind: str, word: str) -> tuple[Payload, Audience]:
    if kind == "comment":
        return Commented(word), Audience.PUBLIC
    if kind == "note":
        return Noted(word), Audience.INTERNAL
    return Held(word), Audience.PUBLIC  # a public event whose reason is the team's


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=tickets, viewer=st.sampled_from(PEOPLE), agent=st.booleans(),
       word=st.sampled_from(WORDS))
async def test_search_finds_only_what_the_viewer_may_read(
        database_url: str, world: list[dict[str, object]], viewer: UserRef, agent: bool,
        word: str) -> None:
    if database_url not in MIGRATED:
        await upgrade_async(database_url)
        MIGRATED.add(database_url)
    tag = f"world{next(WORLDS)}"
    engine = make_engine(database_url)
    expected = set()
    try:
        stores = SqlStores(engine)
        async with stores.transaction() as store:
            for i, spec in enumerate(world):
                requester = spec["requester"]
                assert isinstance(requester, UserRef)
                watchers = spec["watchers"]
                assert isinstance(watchers, set)
                number = await store.next_ticket_number()
                ticket = Ticket(
                    number=number, subject=f"{tag} {spec['subject']}", description="text",
                    category="technical", priority="normal",
                    requester=Person(requester, requester.user_id), opened_at=T0,
                    source="shell", last_activity_at=T0 + timedelta(minutes=i),
                    visibility=Visibility.SHARED if spec["shared"] else Visibility.PRIVATE,
                    watchers=[Person(w, w.user_id) for w in sorted(watchers, key=str)])
                await store.add_ticket(ticket)
                readable = [str(spec["subject"])]
                events = spec["events"]
                assert isinstance(events, list)
                for kind, text in events:
                    payload, audience = _payload(kind, text)
                    await store.add_event(Event(number, payload, None, T0, "shell",
                                                audience=audience))
                    if agent or kind == "comment":
                        readable.append(text)
                if may_see(Viewer(viewer, agent), ticket) and word in readable:
                    expected.add(number)
        query = TicketQuery(viewer=viewer, sees_internal=agent,
                            search=parse(f"{tag} {word}", desk_config(), viewer))
        async with stores.reading() as store:
            hits = await store.search_tickets(query)
    finally:
        await engine.dispose()
    assert {h.ticket.number for h in hits} == expected
    for hit in hits:
        assert may_see(Viewer(viewer, agent), hit.ticket)
