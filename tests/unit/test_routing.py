"""Where tickets live and who hears what (PRODUCT.md §5–6), across platforms."""

from datetime import UTC, datetime

import pytest

from core.events import Audience, Event, EventKind
from core.identity import Person, UserRef
from core.routing import PlatformRoute, Target, bindings_for, plan_deliveries
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
    emails = [d for d in esc if d.target is Target.EMAIL]
    assert [(d.platform, d.address) for d in emails] == [("email", "email::boss@example.test")]
