"""Issue 13, points 1 and 2 in the core: watch/unwatch, cc/uncc (e-mail addresses
refused by name, no DNS), share/unshare — who may, what each changes, who hears of
it, and that a command retried under its request key acts once."""

from __future__ import annotations

import pytest

from core import commands as cmd
from core import grammar
from core.capabilities import available, reader_roles
from core.clock import FrozenClock
from core.errors import Invalid, InvalidTransition, NotAllowed, NotFound
from core.events import (
    Audience,
    EventKind,
    VisibilityChanged,
    WatcherAdded,
    WatcherRemoved,
)
from core.identity import Person, UserRef
from core.platforms import Traits
from core.policy import Action, roles
from core.routing import PlatformRoute, Target
from core.tickets import Visibility
from core.watching import email_address, email_watcher
from tests.support.memory import MemoryStores
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, agent, form, make_desk, person

LENA, MARCO, OMAR, SAM = person("lena"), person("marco"), person("omar"), agent("sam")
ZED = person("zed", workspace="acme")  # another organisation
OMAR_MAIL = email_watcher("Omar@Example.com")


@pytest.fixture
def stores() -> MemoryStores:
    return MemoryStores()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def desk(stores: MemoryStores, clock: FrozenClock):
    # e-mail configured ([email]: its route), so addresses hear of e-mail news
    return make_desk(stores, clock=clock, routes=[SHELL_ROUTE, MAIL_ROUTE])


def addressed(stores: MemoryStores, since: int = 0) -> list[tuple[str | None, EventKind]]:
    events = {e.id: e for e in stores.state.events}
    return [(d.address, events[d.event_id].kind) for d in stores.state.deliveries[since:]
            if d.target in (Target.DM, Target.EMAIL)]


# ---- e-mail addresses -------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["omar", "omar@", "@example.com", "omar@@example.com",
                                 "omar@exa mple.com", "omar@example", "a" * 250 + "@x.com"])
def test_a_bad_address_is_refused_by_name(bad: str) -> None:
    with pytest.raises(Invalid) as refused:
        email_address(bad)
    assert refused.value.field == "cc"
    if len(bad) < 40:
        assert repr(bad)[1:-1] in refused.value.reason or "e-mail" in refused.value.reason


def test_an_address_is_normalised_without_asking_dns() -> None:
    # a domain nobody registered: syntax only (check_deliverability=False, no lookup)
    assert email_address(" Lena.Smith@Support.No-Such-Domain-4711.COM ") == \
        "lena.smith@support.no-such-domain-4711.com"
    with pytest.raises(Invalid, match="special-use or reserved"):
        email_address("lena@desk.invalid")  # can never receive mail
    assert OMAR_MAIL.ref == UserRef("email", "", "omar@example.com")


# ---- cc / uncc --------------------------------------------------------------------------

async def test_the_requester_and_agents_cc_anyone_else_is_refused(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, MARCO.person)
    await desk.add_watcher(SAM, 1, OMAR_MAIL)
    with pytest.raises(NotAllowed, match="only agents or the requester of #1 can add"):
        await desk.add_watcher(MARCO, 1, OMAR.person)  # a watcher may not cc others
    with pytest.raises(NotFound):
        await desk.add_watcher(ZED, 1, OMAR.person)  # a stranger does not see it
    with pytest.raises(InvalidTransition, match="already follows"):
        await desk.add_watcher(SAM, 1, MARCO.person)
    with pytest.raises(InvalidTransition, match="lena is the requester of #1 and follows"):
        await desk.add_watcher(SAM, 1, LENA.person)
    with pytest.raises(Invalid, match="not a valid e-mail address"):
        await desk.run(SAM, cmd.AddWatcher(1, Person(UserRef.email("omar@@x"), "omar@@x")))
    shown = await desk.show(SAM, 1)
    assert [w.name for w in shown.ticket.watchers] == ["marco", "omar@example.com"]
    with pytest.raises(NotAllowed, match="only agents or the requester"):
        await desk.remove_watcher(MARCO, 1, OMAR_MAIL)
    await desk.remove_watcher(LENA, 1, email_watcher("OMAR@example.com"))
    with pytest.raises(InvalidTransition, match=r"omar@example\.com is not a watcher"):
        await desk.remove_watcher(SAM, 1, OMAR_MAIL)
    kinds = [(type(e.payload), e.audience) for e in stores.state.events[1:]]
    assert kinds == [(WatcherAdded, Audience.PUBLIC), (WatcherAdded, Audience.PUBLIC),
                     (WatcherRemoved, Audience.PUBLIC)]
    assert stores.state.events[2].payload == WatcherAdded(
        "omar@example.com", "email::omar@example.com")


async def test_a_retried_cc_is_stored_once(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, MARCO.person, request_key="slack:cmd:1")
    again = await desk.run(LENA, cmd.AddWatcher(1, MARCO.person), request_key="slack:cmd:1")
    assert again.replayed and len(stores.state.events) == 2
    await desk.watch(SAM, 1, request_key="k2")
    replay = await desk.run(SAM, cmd.Watch(1), request_key="k2")
    assert replay.replayed and len(stores.state.events) == 3


# ---- watch / unwatch --------------------------------------------------------------------

async def test_anyone_who_may_see_it_watches_it_and_nobody_else(desk) -> None:
    await desk.open_ticket(LENA, form(visibility="shared"))
    await desk.open_ticket(LENA, form(subject="Private one"))
    await desk.watch(MARCO, 1)  # an org member of a shared ticket
    await desk.watch(SAM, 2)  # an agent
    with pytest.raises(NotFound):
        await desk.watch(MARCO, 2)  # private: an org member does not see it
    with pytest.raises(NotFound):
        await desk.watch(ZED, 1)  # shared, but another organisation
    with pytest.raises(InvalidTransition, match="already follow"):
        await desk.watch(MARCO, 1)
    with pytest.raises(InvalidTransition, match="you are the requester"):
        await desk.watch(LENA, 1)
    await desk.unwatch(MARCO, 1)
    with pytest.raises(InvalidTransition, match="you do not watch #1"):
        await desk.unwatch(MARCO, 1)
    watched = await desk.show(SAM, 2)
    assert [w.name for w in watched.ticket.watchers] == ["sam"]


async def test_a_watcher_sees_comments_and_hears_every_public_update_never_a_note(
        desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, MARCO.person)
    await desk.add_watcher(LENA, 1, OMAR_MAIL)
    assert (await desk.show(MARCO, 1)).ticket.number == 1
    await desk.comment(MARCO, 1, "Same here")  # a watcher may comment
    before = len(stores.state.deliveries)
    await desk.comment(LENA, 1, "Still broken")  # the requester's own comment
    await desk.note(SAM, 1, "internal: SSO bug")
    await desk.reply(SAM, 1, "On it")
    await desk.set_priority(SAM, 1, "high")
    told = addressed(stores, before)
    marco, omar = MARCO.ref.key, "email::omar@example.com"
    assert (marco, EventKind.COMMENTED) in told and (omar, EventKind.COMMENTED) in told
    assert told.count((marco, EventKind.COMMENTED)) == 2, "Lena's comment and the reply"
    assert (marco, EventKind.PRIORITY_CHANGED) in told
    assert all(kind is not EventKind.NOTED for _, kind in told), "never a note"
    emails = [d for d in stores.state.deliveries[before:] if d.target is Target.EMAIL]
    assert {d.platform for d in emails} == {"email"}, "queued for the e-mail platform"
    own = next(e.id for e in stores.state.events if e.actor and e.actor.ref == MARCO.ref
               and e.kind is EventKind.COMMENTED)
    assert all(not (d.address == marco and d.event_id == own)
               for d in stores.state.deliveries), "nobody is told of their own comment"


async def test_a_removed_watcher_hears_nothing_more(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(SAM, 1, MARCO.person)
    before = len(stores.state.deliveries)
    await desk.remove_watcher(SAM, 1, MARCO.person)
    assert MARCO.ref.key not in [a for a, _ in addressed(stores, before)], \
        "a DM goes only to someone who may see the ticket"
    before = len(stores.state.deliveries)
    await desk.reply(SAM, 1, "Fixed")
    assert MARCO.ref.key not in [a for a, _ in addressed(stores, before)]
    with pytest.raises(NotFound):
        await desk.show(MARCO, 1)


async def test_the_form_cc_is_checked_and_each_watcher_hears_of_the_opening(desk,
                                                                             stores) -> None:
    with pytest.raises(Invalid) as refused:
        await desk.open_ticket(LENA, form(watchers=(MARCO.person, LENA.person)))
    assert refused.value.field == "cc" and "requester" in refused.value.reason
    with pytest.raises(Invalid, match="not a valid e-mail address"):
        await desk.open_ticket(LENA, form(watchers=(
            Person(UserRef.email("no-at-sign"), "no-at-sign"),)))
    assert stores.state.events == [], "nothing stored"
    opened = await desk.open_ticket(LENA, form(watchers=(MARCO.person, OMAR_MAIL,
                                                         MARCO.person)))
    assert [w.ref for w in opened.ticket.watchers] == [MARCO.ref, OMAR_MAIL.ref]
    told = addressed(stores)
    assert (MARCO.ref.key, EventKind.OPENED) in told
    assert ("email::omar@example.com", EventKind.OPENED) in told


# ---- share / unshare --------------------------------------------------------------------

async def test_sharing_shows_it_to_the_organisation_and_unsharing_hides_it(desk,
                                                                          stores) -> None:
    await desk.open_ticket(LENA, form())
    with pytest.raises(NotFound):
        await desk.show(MARCO, 1)
    with pytest.raises(NotFound):
        await desk.set_visibility(MARCO, 1, "shared")
    await desk.set_visibility(LENA, 1, "shared")
    assert (await desk.show(MARCO, 1)).ticket.visibility is Visibility.SHARED
    assert [i.ticket.number for i in await desk.list_tickets(MARCO, "all", org=True)] == [1]
    with pytest.raises(NotFound):
        await desk.show(ZED, 1)  # another organisation never
    with pytest.raises(NotAllowed, match="only agents or the requester of #1 can share"):
        await desk.set_visibility(MARCO, 1, "private")
    with pytest.raises(InvalidTransition, match="already shared"):
        await desk.set_visibility(SAM, 1, "shared")
    with pytest.raises(Invalid, match="private or shared"):
        await desk.set_visibility(SAM, 1, "public")
    await desk.set_visibility(SAM, 1, "private")
    with pytest.raises(NotFound):
        await desk.show(MARCO, 1)
    changes = [e.payload for e in stores.state.events if e.kind is
               EventKind.VISIBILITY_CHANGED]
    assert changes == [VisibilityChanged(Visibility.SHARED),
                       VisibilityChanged(Visibility.PRIVATE)]
    told = addressed(stores)
    assert (LENA.ref.key, EventKind.VISIBILITY_CHANGED) not in told, \
        "the shell thread reaches the requester: no DM"


async def test_a_shared_ticket_counts_as_read_once_any_org_member_saw_it(desk,
                                                                        clock) -> None:
    await desk.open_ticket(LENA, form(visibility="shared"))
    await desk.open_ticket(LENA, form(subject="Private"))
    clock.advance(60)
    await desk.reply(SAM, 1, "Answer")
    await desk.reply(SAM, 2, "Answer")
    clock.advance(60)
    assert [i.ticket.number for i in await desk.list_tickets(OMAR, "all", unread=True)] \
        == [1]
    await desk.show(MARCO, 1)  # another member of Lena's organisation reads it
    assert await desk.list_tickets(OMAR, "all", unread=True) == []
    assert [i.ticket.number for i in await desk.list_tickets(LENA, "all", unread=True)] \
        == [2], "#1 is read for the whole organisation; #2 (private) is Lena's alone"


# ---- capabilities, grammar, routing -------------------------------------------------------

async def test_capabilities_offer_watch_and_cc_to_exactly_who_may(desk, clock) -> None:
    opened = await desk.open_ticket(LENA, form(visibility="shared"))
    t = opened.ticket
    config, now = desk.config, clock.now()

    def offered(who):
        return available(roles(who, config, t), t, config, now, who.person)

    assert {Action.WATCH, Action.SET_VISIBILITY, Action.ADD_WATCHER} <= offered(SAM)
    assert Action.WATCH in offered(MARCO) and Action.ADD_WATCHER not in offered(MARCO)
    assert Action.SET_VISIBILITY not in offered(MARCO)
    assert Action.WATCH not in offered(LENA) and Action.SET_VISIBILITY in offered(LENA)
    t.watchers.append(MARCO.person)
    assert Action.UNWATCH in offered(MARCO) and Action.WATCH not in offered(MARCO)
    assert offered(ZED) == frozenset()


def test_the_grammar_reads_the_new_commands() -> None:
    assert grammar.parse("watch 12") == cmd.Watch(12)
    assert grammar.parse("unwatch #12") == cmd.Unwatch(12)
    assert grammar.parse("share 3") == cmd.SetVisibility(3, "shared")
    assert grammar.parse("unshare", thread=3) == cmd.SetVisibility(3, "private")
    assert grammar.parse("cc 4 omar@example.com") == grammar.CcTo(4, "omar@example.com")
    assert grammar.parse("uncc @marco", thread=4) == grammar.CcTo(4, "@marco", remove=True)
    assert grammar.parse("new cc=marco,omar@example.com").fields == {  # type: ignore[union-attr]
        "cc": "marco,omar@example.com"}
    for bad, field in (("cc 4", "cc"), ("cc 4 a b", "cc"), ("watch x", "number"),
                       ("share 1 2", "share")):
        with pytest.raises(Invalid) as refused:
            grammar.parse(bad)
        assert refused.value.field == field, bad
    assert {"watch", "unwatch", "cc", "uncc", "share", "unshare"} <= set(grammar.COMMANDS)


async def test_a_discord_watcher_hears_in_the_thread_others_by_dm(stores) -> None:
    discord = PlatformRoute.of("discord", "G1", Traits(thread_admits_watchers=True),
                               support_channel="55", default_team_channel="66")
    desk = make_desk(stores, routes=[discord, MAIL_ROUTE])
    requester = person("u1", workspace="G1", platform="discord")
    member = person("u2", workspace="G1", platform="discord").person
    await desk.open_ticket(requester, form())
    await desk.add_watcher(requester, 1, member)
    await desk.add_watcher(requester, 1, OMAR_MAIL)
    before = len(stores.state.deliveries)
    await desk.reply(SAM, 1, "On it")
    told = [a for a, _ in addressed(stores, before)]
    assert member.ref.key not in told, "in the private thread: no DM besides"
    assert "email::omar@example.com" in told


# ---- a Slack watcher's own DM thread (a private ticket's thread is the requester's DM) ---

SLACK_DM_ROUTE = PlatformRoute.of("slack", "T1", Traits(private_in_dm=True,
                                                        thread_reaches_requester=False,
                                                        watcher_dm_thread=True),
                                  support_channel="C1", default_team_channel="C2")
SLACK_LENA = person("U1", workspace="T1", platform="slack")
SLACK_BO = person("U2", workspace="T1", platform="slack")


async def test_a_slack_watchers_own_thread_is_where_they_comment_while_they_watch(
        stores) -> None:
    desk = make_desk(stores, routes=[SLACK_DM_ROUTE])
    await desk.open_ticket(SLACK_LENA, form())
    await desk.add_watcher(SLACK_LENA, 1, SLACK_BO.person)
    [own] = [b for b in stores.state.bindings if b.watcher is not None]
    assert own.watcher == SLACK_BO.ref and own.channel == "dm:U2"
    own.thread = "1700000000.000100"  # as the first delivery records it
    outcome = await desk.post_in_thread(SLACK_BO, own, "Same for me")
    assert outcome.event.kind is EventKind.COMMENTED
    assert outcome.event.origin_binding_id == own.id
    with pytest.raises(NotFound):  # someone else's DM with the same ts
        await desk.post_in_thread(SLACK_LENA, own, "not hers")
    await desk.set_visibility(SAM, 1, "shared")
    await desk.unwatch(SLACK_BO, 1)
    events = len(stores.state.events)
    with pytest.raises(NotAllowed, match="no longer watch #1"):
        await desk.post_in_thread(SLACK_BO, own, "Still there?")
    assert len(stores.state.events) == events, "changes nothing"
    await desk.watch(SLACK_BO, 1)
    assert [b.id for b in stores.state.bindings if b.watcher] == [own.id], \
        "the same thread wakes again"
    await desk.note(SAM, 1, "internal only")
    noted = stores.state.events[-1]
    assert noted.kind is EventKind.NOTED
    to_note = [d.binding_id for d in stores.state.deliveries if d.event_id == noted.id]
    assert to_note and own.id not in to_note, "never a note"


async def test_binding_lookup_finds_a_watchers_thread_only_for_its_watcher(stores) -> None:
    desk = make_desk(stores, routes=[SLACK_DM_ROUTE])
    await desk.open_ticket(SLACK_LENA, form())
    await desk.add_watcher(SLACK_LENA, 1, SLACK_BO.person)
    [own] = [b for b in stores.state.bindings if b.watcher is not None]
    own.thread = "1700000000.000200"
    assert (await desk.binding_at("slack", "D0BO", own.thread, in_dm=True,
                                  author="U2")) == own
    assert await desk.binding_at("slack", "D0BO", own.thread, in_dm=True,
                                 author="U9") is None
    assert await desk.binding_at("slack", "C1", own.thread, author="U2") is None


async def test_a_watchers_notices_offer_only_what_the_watcher_may_do(desk, stores) -> None:
    """The rating and the close answers are the requester's: a DM to a watcher (or a
    mail to an e-mail watcher) is built for that reader's roles, not the requester's."""
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, MARCO.person)
    await desk.claim(SAM, 1)
    await desk.ask_close(SAM, 1, "Works again?")
    ticket = stores.state.tickets[1]
    config, now = desk.config, desk.clock.now()

    def offered(reader: UserRef | None) -> frozenset[Action]:
        held = reader_roles(ticket, config, internal=False, reader=reader)
        return available(held, ticket, config, now)

    assert Action.KEEP_OPEN in offered(LENA.ref) and Action.CLOSE in offered(LENA.ref)
    assert Action.KEEP_OPEN in offered(None), "her ticket thread"
    assert not {Action.KEEP_OPEN, Action.CLOSE} & offered(MARCO.ref)
    await desk.keep_open(LENA, 1)
    await desk.resolve(SAM, 1, "Replaced the fuser unit.")
    ticket = stores.state.tickets[1]
    assert Action.RATE in offered(LENA.ref)
    assert Action.RATE not in offered(MARCO.ref)
    assert Action.RATE not in offered(OMAR_MAIL.ref)


async def test_a_closed_ticket_offers_and_takes_notes_but_nothing_public(desk, stores) -> None:
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, MARCO.person)
    await desk.close(SAM, 1)
    ticket, config, now = stores.state.tickets[1], desk.config, desk.clock.now()
    locked = {Action.REPLY, Action.ADD_WATCHER, Action.REMOVE_WATCHER, Action.SET_VISIBILITY}
    offered = available(roles(SAM, config, ticket), ticket, config, now, SAM.person)
    assert not locked & offered and {Action.NOTE, Action.REOPEN} <= offered
    refusal = r"#1 is closed; reopen it first: /ticket reopen 1"
    for attempt in (desk.reply(SAM, 1, "late word"), desk.add_watcher(SAM, 1, OMAR.person),
                    desk.remove_watcher(LENA, 1, MARCO.person),
                    desk.set_visibility(SAM, 1, "shared"), desk.comment(SAM, 1, "typed")):
        with pytest.raises(InvalidTransition, match=refusal):
            await attempt
    events = len(stores.state.events)
    await desk.note(SAM, 1, "for the record")
    assert len(stores.state.events) == events + 1
    await desk.reopen(SAM, 1)
    assert Action.REPLY in available(roles(SAM, config, stores.state.tickets[1]),
                                     stores.state.tickets[1], config, now, SAM.person)
