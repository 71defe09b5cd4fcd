"""Where tickets live and who hears what (PRODUCT.md §5–6), across platforms."""

from datetime import UTC, datetime

import pytest

from core.events import Audience, Event, EventKind
from core.identity import Person, UserRef
from core.platforms import ThreadPlace, Traits
from core.routing import PlatformRoute, Purpose, Target, bindings_for, plan_deliveries
from core.tickets import Ticket, Visibility
from tests.support.samples import SAMPLES

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SLACK = PlatformRoute(platform="slack", workspace="T1", support_channel="C_SUPPORT",
                      default_team_channel="C_TEAM", team_channels={"refund": "C_BILLING"},
                      escalation_channel="C_ESC", private_in_dm=True,
                      thread_reaches_requester=False)
DISCORD = PlatformRoute(platform="discord", workspace="111", support_channel="222",
                        default_team_channel="333", escalation_channel="444")
SLACK_USER = Person(UserRef("slack", "T1", "U1"), "Lena")
DISCORD_USER = Person(UserRef("discord", "111", "9"), "Marco")
AGENT = Person(UserRef("slack", "T1", "UAGENT"), "Sam")


def ticket(requester: Person, visibility: Visibility = Visibility.PRIVATE,
           category: str = "general") -> Ticket:
    return Ticket(number=5, subject="s", description="d", category=category, priority="normal",
                  requester=requester, opened_at=NOW, source=requester.ref.platform,
                  visibility=visibility)


def numbered(bindings):  # type: ignore[no-untyped-def]
    for i, b in enumerate(bindings, start=1):
        b.id = i
    return bindings


def event(kind: EventKind, actor: Person, audience: Audience = Audience.PUBLIC,
          origin: int | None = None) -> Event:
    return Event(5, SAMPLES[kind], actor, NOW, actor.ref.platform, audience=audience, id=1,
                 origin_binding_id=origin)


def test_private_slack_ticket_lives_in_the_dm_and_the_card_is_the_receipt() -> None:
    t = ticket(SLACK_USER, category="refund")
    bindings = numbered(bindings_for(t, [SLACK, DISCORD]))
    summary = [(b.platform, b.audience, b.channel, b.in_requester_dm) for b in bindings]
    assert summary == [
        ("slack", Audience.PUBLIC, "dm", True),
        ("slack", Audience.INTERNAL, "C_BILLING", False),
        ("discord", Audience.INTERNAL, "333", False),  # the Discord team can work it too
    ]
    planned = plan_deliveries(event(EventKind.OPENED, SLACK_USER), t, bindings, [SLACK], NOW)
    assert [d.purpose for d in planned] == ["card", "card", "card"]  # no separate receipt DM


def test_shared_slack_ticket_sends_receipt_and_dms_replies() -> None:
    t = ticket(SLACK_USER, Visibility.SHARED)
    bindings = numbered(bindings_for(t, [SLACK]))
    assert bindings[0].channel == "C_SUPPORT" and not bindings[0].reaches_requester
    opened = plan_deliveries(event(EventKind.OPENED, SLACK_USER), t, bindings, [SLACK], NOW)
    assert [(d.target, d.purpose) for d in opened][-1] == (Target.DM, "receipt")
    reply = plan_deliveries(event(EventKind.COMMENTED, AGENT), t, bindings, [SLACK], NOW)
    assert (Target.DM, "notify", SLACK_USER.ref.key) in [
        (d.target, d.purpose, d.address) for d in reply]
    own = plan_deliveries(event(EventKind.COMMENTED, SLACK_USER, origin=1), t, bindings,
                          [SLACK], NOW)
    assert [(d.target, d.binding_id) for d in own] == [(Target.BINDING, 2)]


@pytest.mark.parametrize("kind", list(EventKind))
def test_the_requester_is_dmed_only_what_product_section_6_lists(kind: EventKind) -> None:
    """Every public reply, status change, the agent handling it, the resolution, a reminder,
    a close request and a change of sharing; not a priority change, an escalation, a link,
    a new watcher, an SLA notice or a rating (issue 10, point 6; issue 11; issue 13)."""
    t = ticket(SLACK_USER, Visibility.SHARED)
    bindings = numbered(bindings_for(t, [SLACK]))
    planned = plan_deliveries(event(kind, AGENT), t, bindings, [SLACK], NOW)
    told = [d for d in planned if d.target is Target.DM and d.address == SLACK_USER.ref.key]
    news = {EventKind.COMMENTED, EventKind.CLAIMED, EventKind.ASSIGNED,
            EventKind.UNASSIGNED, EventKind.WAITING, EventKind.HELD, EventKind.RESUMED,
            EventKind.RESOLVED, EventKind.CLOSED, EventKind.REOPENED, EventKind.REMINDED,
            EventKind.CLOSE_REQUESTED, EventKind.VISIBILITY_CHANGED}
    if kind is EventKind.OPENED:
        assert [d.purpose for d in told] == ["receipt"]
    else:
        assert len(told) == (kind in news), kind


def test_discord_requester_gets_a_discord_ticket_thread_and_no_extra_dms() -> None:
    t = ticket(DISCORD_USER)
    bindings = numbered(bindings_for(t, [SLACK, DISCORD]))
    assert [(b.platform, b.audience) for b in bindings] == [
        ("slack", Audience.INTERNAL), ("discord", Audience.PUBLIC), ("discord", Audience.INTERNAL)]
    reply = plan_deliveries(event(EventKind.COMMENTED, AGENT), t, bindings, [SLACK, DISCORD], NOW)
    assert all(d.target is Target.BINDING for d in reply) and len(reply) == 3


def test_internal_events_reach_team_threads_only() -> None:
    t = ticket(DISCORD_USER)
    t.watchers.append(Person(UserRef.email("boss@example.test"), "boss"))
    bindings = numbered(bindings_for(t, [SLACK, DISCORD]))
    note = plan_deliveries(event(EventKind.NOTED, AGENT, Audience.INTERNAL), t, bindings,
                           [SLACK, DISCORD], NOW)
    assert {b.audience for b in bindings if b.id in {d.binding_id for d in note}} == {
        Audience.INTERNAL}
    assert all(d.target is Target.BINDING for d in note)


def test_email_watchers_and_escalation_channels() -> None:
    t = ticket(DISCORD_USER)
    t.watchers.append(Person(UserRef.email("boss@example.test"), "boss"))
    bindings = numbered(bindings_for(t, [SLACK, DISCORD]))
    esc = plan_deliveries(event(EventKind.ESCALATED, AGENT), t, bindings, [SLACK, DISCORD], NOW)
    channels = [(d.platform, d.address, d.audience) for d in esc if d.target is Target.CHANNEL]
    assert channels == [("slack", "C_ESC", Audience.INTERNAL),
                        ("discord", "444", Audience.INTERNAL)]
    assert not [d for d in esc if d.target is Target.EMAIL]  # the team's business


MAIL = PlatformRoute.of("email", "", Traits(team_thread=False, ticket_thread=ThreadPlace.NONE,
                                            thread_reaches_requester=False))
ANA = Person(UserRef.email("ana@example.test"), "ana@example.test")
BOSS = Person(UserRef.email("boss@example.test"), "boss")


def emails(kind: EventKind, t: Ticket, routes: list[PlatformRoute], actor: Person = AGENT,
           audience: Audience = Audience.PUBLIC) -> list[tuple[str | None, Purpose]]:
    planned = plan_deliveries(event(kind, actor, audience), t,
                              numbered(bindings_for(t, routes)), routes, NOW)
    return [(d.address, d.purpose) for d in planned if d.target is Target.EMAIL
            and d.platform == "email" and d.audience is Audience.PUBLIC]


def test_requesters_and_watchers_with_an_address_get_the_public_news_by_email() -> None:
    t = ticket(ANA)
    t.watchers.append(BOSS)
    routes = [SLACK, MAIL]
    assert emails(EventKind.OPENED, t, routes) == [
        ("email::ana@example.test", Purpose.RECEIPT), ("email::boss@example.test", Purpose.NOTIFY)]
    for kind in (EventKind.COMMENTED, EventKind.CLAIMED, EventKind.WAITING,
                 EventKind.RESOLVED, EventKind.CLOSED, EventKind.REOPENED,
                 EventKind.CLOSE_REQUESTED, EventKind.REMINDED):
        assert emails(kind, t, routes) == [("email::ana@example.test", Purpose.NOTIFY),
                                           ("email::boss@example.test", Purpose.NOTIFY)], kind
    # what the person wrote by e-mail is not mailed back to them
    assert emails(EventKind.COMMENTED, t, routes, actor=BOSS) == [
        ("email::ana@example.test", Purpose.NOTIFY)]
    for kind in (EventKind.PRIORITY_CHANGED, EventKind.ESCALATED, EventKind.LINKED):
        assert emails(kind, t, routes) == [], kind


def test_internal_events_never_go_out_by_email() -> None:
    t = ticket(ANA)
    t.watchers.append(BOSS)
    for kind in (EventKind.NOTED, EventKind.SLA_WARNING, EventKind.SLA_BREACHED,
                 EventKind.RATED, EventKind.LINKED):
        assert emails(kind, t, [SLACK, MAIL], audience=Audience.INTERNAL) == [], kind


def test_without_email_configured_nothing_is_queued_for_addresses() -> None:
    t = ticket(ANA)
    t.watchers.append(BOSS)
    for kind in (EventKind.OPENED, EventKind.COMMENTED, EventKind.RESOLVED):
        planned = plan_deliveries(event(kind, AGENT), t, numbered(bindings_for(t, [SLACK])),
                                  [SLACK], NOW)
        assert not [d for d in planned if d.platform == "email"], kind


# ---- a watcher's own DM thread (issue 13 point 1 on Slack) ---------------------------

SLACK_W = PlatformRoute.of("slack", "T1", Traits(private_in_dm=True,
                                                 thread_reaches_requester=False,
                                                 watcher_dm_thread=True),
                           support_channel="C_SUPPORT", default_team_channel="C_TEAM")
WATCHER = Person(UserRef("slack", "T1", "U2"), "Bo")


def test_a_slack_watcher_of_a_private_ticket_gets_a_thread_in_their_own_dm() -> None:
    t = ticket(SLACK_USER)
    t.watchers = [WATCHER, DISCORD_USER, Person(UserRef.email("o@example.com"), "o")]
    bindings = numbered(bindings_for(t, [SLACK_W, DISCORD]))
    [own] = [b for b in bindings if b.watcher is not None]
    assert (own.channel, own.audience, own.watcher, own.in_requester_dm,
            own.reaches_requester) == ("dm:U2", Audience.PUBLIC, WATCHER.ref, False, False)
    assert own.in_dm, "no channel to link to"
    shared = ticket(SLACK_USER, Visibility.SHARED)
    shared.watchers = [WATCHER]
    assert all(b.watcher is None for b in bindings_for(shared, [SLACK_W])), \
        "a shared ticket's thread in the support channel is open to them"
    plain = ticket(SLACK_USER)
    plain.watchers = [WATCHER]
    assert all(b.watcher is None for b in bindings_for(plain, [SLACK])), \
        "only a platform with Traits.watcher_dm_thread"
    from_discord = ticket(DISCORD_USER)
    from_discord.watchers = [WATCHER]
    assert [b.channel for b in bindings_for(from_discord, [SLACK_W, DISCORD])
            if b.watcher] == ["dm:U2"], "no Slack ticket thread at all: their own"


def test_the_watchers_thread_replaces_their_dms_and_never_gets_a_note() -> None:
    t = ticket(SLACK_USER)
    t.watchers = [WATCHER]
    bindings = numbered(bindings_for(t, [SLACK_W]))
    own = next(b for b in bindings if b.watcher is not None)
    opened = plan_deliveries(event(EventKind.OPENED, SLACK_USER), t, bindings, [SLACK_W], NOW)
    assert [(d.binding_id, d.purpose) for d in opened if d.binding_id == own.id] == [
        (own.id, Purpose.CARD)]
    assert all(d.address != WATCHER.ref.key for d in opened), "no DM besides"
    for kind in (EventKind.COMMENTED, EventKind.RESOLVED):
        planned = plan_deliveries(event(kind, AGENT), t, bindings, [SLACK_W], NOW)
        assert [d.purpose for d in planned if d.binding_id == own.id] == [Purpose.THREAD]
        assert all(d.target is Target.BINDING for d in planned
                   if d.address == WATCHER.ref.key or d.binding_id == own.id)
    note = plan_deliveries(event(EventKind.NOTED, AGENT, Audience.INTERNAL), t, bindings,
                           [SLACK_W], NOW)
    assert all(d.binding_id != own.id for d in note) and note, "never a note"
    typed_there = plan_deliveries(event(EventKind.COMMENTED, WATCHER, origin=own.id), t,
                                  bindings, [SLACK_W], NOW)
    assert own.id not in [d.binding_id for d in typed_there], "not echoed back"
    assert {d.binding_id for d in typed_there} == {b.id for b in bindings} - {own.id}


def test_a_removed_watchers_thread_is_retired() -> None:
    t = ticket(SLACK_USER)
    t.watchers = [WATCHER]
    bindings = numbered(bindings_for(t, [SLACK_W]))
    own = next(b for b in bindings if b.watcher is not None)
    t.watchers = []
    for kind in (EventKind.COMMENTED, EventKind.WATCHER_REMOVED):
        planned = plan_deliveries(event(kind, AGENT), t, bindings, [SLACK_W], NOW)
        assert own.id not in [d.binding_id for d in planned]
        assert WATCHER.ref.key not in [d.address for d in planned]
