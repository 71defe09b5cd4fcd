"""Issue 13, points 1 and 2: over random tickets — opened private or shared, with a
random cc list, then watched, unwatched, cc'd, uncc'd, shared and unshared at random
by random actors (requesters, watchers, org members, strangers, agents) — what the
core says each viewer may see (``policy.can_see``) is exactly what ``list``,
``search`` and ``show`` give them, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import commands as cmd
from core import policy
from core.errors import DeskError, NotFound
from core.identity import Actor
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.support.people import agent, form, make_desk, person

LENA, MARCO, OMAR = person("lena"), person("marco"), person("omar")  # one organisation
ZED = person("zed", workspace="acme")  # another
SAM = agent("sam")
ACTORS = (LENA, MARCO, OMAR, ZED, SAM)
WORLDS = itertools.count(1)  # each example's tickets carry their own tag word
MIGRATED: set[str] = set()

opening = st.fixed_dictionaries({
    "requester": st.sampled_from((LENA, MARCO, ZED)),
    "shared": st.booleans(),
    "cc": st.sets(st.sampled_from((LENA, MARCO, OMAR, ZED, SAM)), max_size=2),
})
changes = st.lists(st.tuples(
    st.sampled_from(("watch", "unwatch", "cc", "uncc", "share", "unshare")),
    st.sampled_from(ACTORS), st.integers(0, 2), st.sampled_from(ACTORS)), max_size=8)


def _command(kind: str, number: int, other: Actor) -> cmd.TicketCommand:
    match kind:
        case "watch":
            return cmd.Watch(number)
        case "unwatch":
            return cmd.Unwatch(number)
        case "cc":
            return cmd.AddWatcher(number, other.person)
        case "uncc":
            return cmd.RemoveWatcher(number, other.person)
        case "share":
            return cmd.SetVisibility(number, "shared")
    return cmd.SetVisibility(number, "private")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opened=st.lists(opening, min_size=1, max_size=3), steps=changes)
async def test_who_may_see_is_what_list_search_and_show_return(
        database_url: str, opened: list[dict[str, object]],
        steps: list[tuple[str, Actor, int, Actor]]) -> None:
    if database_url not in MIGRATED:
        await upgrade_async(database_url)
        MIGRATED.add(database_url)
    tag = f"world{next(WORLDS)}"
    engine = make_engine(database_url)
    try:
        desk = make_desk(SqlStores(engine))
        numbers = []
        for i, spec in enumerate(opened):
            requester = spec["requester"]
            assert isinstance(requester, Actor)
            cc = spec["cc"]
            assert isinstance(cc, set)
            watchers = tuple(a.person for a in sorted(cc, key=lambda a: a.name)
                             if a.ref != requester.ref)
            done = await desk.open_ticket(SAM, form(
                subject=f"{tag} {requester.name} {i}", requester=requester, watchers=watchers,
                visibility="shared" if spec["shared"] else "private"))
            numbers.append(done.ticket.number)
        for kind, actor, which, other in steps:
            try:  # refusals are part of the game: the table decides, nothing changes
                await desk.run(actor, _command(kind, numbers[which % len(numbers)], other))
            except DeskError:
                pass
        async with desk.stores.reading() as store:
            tickets = [await store.get_ticket(n) for n in numbers]
        for viewer in ACTORS:
            may = {t.number for t in tickets
                   if t is not None and policy.can_see(viewer, t, desk.config)}
            listed = {i.ticket.number for i in await desk.list_tickets(viewer, "all")}
            found = {h.ticket.number for h in await desk.search(viewer, tag)}
            shown = set()
            for n in numbers:
                try:
                    await desk.show(viewer, n)
                    shown.add(n)
                except NotFound:
                    pass
            mine = set(numbers)
            assert listed & mine == may, viewer.name
            assert found == may, viewer.name
            assert shown == may, viewer.name
    finally:
        await engine.dispose()
