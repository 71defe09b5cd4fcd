"""Service levels and automation on a fake clock (issue 11, PRODUCT.md §7): targets,
pause and resume, warnings and breaches once each, escalation by the requester,
expiry, auto-close, close requests and ratings — run by the scheduler, no sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import commands as cmd
from core.clock import FrozenClock
from core.config import BusinessHoursSection, LifecycleSection
from core.desk import Desk
from core.errors import InvalidTransition, NotAllowed, NotFound, Unchanged
from core.events import (
    AutoClosed,
    Closed,
    CloseDeclined,
    CloseRequested,
    EventKind,
    Rated,
    Reminded,
    SlaBreached,
    SlaWarning,
)
from core.identity import SYSTEM
from core.schedule import Scheduler
from core.tickets import Rating, Status
from core.timers import TimerKind
from tests.support.memory import MemoryStores
from tests.support.people import agent, desk_config, form, make_desk, person

LENA, SAM, OMAR = person("lena"), agent("sam"), person("omar")
HOUR = 3600.0


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()  # Monday 2026-01-05 09:00 UTC


@pytest.fixture
def stores() -> MemoryStores:
    return MemoryStores()


def wired(stores: MemoryStores, clock: FrozenClock, **config: object) -> tuple[Desk, Scheduler]:
    desk = make_desk(stores, desk_config(**config), clock)
    return desk, Scheduler(desk, stores, clock)


def kinds(stores: MemoryStores, *wanted: EventKind) -> list[EventKind]:
    return [e.kind for e in stores.state.events if not wanted or e.kind in wanted]


SLA = (EventKind.SLA_WARNING, EventKind.SLA_BREACHED)


async def test_normal_targets_warn_at_80_percent_then_breach_once_each(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    opened = (await desk.open_ticket(LENA, form())).ticket  # normal: 8h / 48h
    assert opened.first_response_due == clock.now() + timedelta(hours=8)
    clock.advance(6.3 * HOUR)
    assert await scheduler.run_once() == 0
    clock.advance(0.2 * HOUR)  # 6.5h > 80% of 8h
    assert await scheduler.run_once() == 1
    clock.advance(1.6 * HOUR)  # 8.1h
    assert await scheduler.run_once() == 1
    for _ in range(3):
        clock.advance(HOUR)
        assert await scheduler.run_once() == 0
    notices = [e.payload for e in stores.state.events if e.kind in SLA]
    assert notices == [SlaWarning("first_response", opened.first_response_due),
                       SlaBreached("first_response", opened.first_response_due)]
    ticket = (await desk.show(SAM, 1)).ticket
    assert ticket.breached == ("first_response",)
    assert stores.state.tickets[1].sla.breaches == 1


async def test_a_reply_in_time_meets_the_first_response_target(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.note(SAM, 1, "looking at logs")  # a note is not a response
    await desk.comment(LENA, 1, "any news?")
    assert stores.state.tickets[1].first_response_at is None
    clock.advance(HOUR)
    await desk.reply(SAM, 1, "On it")
    assert stores.state.tickets[1].first_response_at == clock.now()
    clock.advance(40 * HOUR)  # past 80% of resolution (48h): a resolution warning only
    await scheduler.run_once()
    assert [e.payload for e in stores.state.events if e.kind in SLA] == [
        SlaWarning("resolution", stores.state.tickets[1].resolution_due)]


async def test_an_agent_opening_for_someone_is_not_the_first_response(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(SAM, form(requester=LENA))
    assert stores.state.tickets[1].first_response_at is None
    clock.advance(60)
    await desk.reply(SAM, 1, "Here is what we found")
    assert stores.state.tickets[1].first_response_at == clock.now()


async def test_a_category_target_overrides_the_priority_default(
        stores: MemoryStores, clock: FrozenClock) -> None:
    from core.config import DEFAULT_CATEGORIES, Category

    urgent_refunds = Category(key="refund", name="Refund",
                              sla={"urgent": {"first_response": "30m"}})  # type: ignore[dict-item]
    categories = (*(c for c in DEFAULT_CATEGORIES if c.key != "refund"), urgent_refunds)
    desk, _ = wired(stores, clock, categories=categories)
    await desk.open_ticket(LENA, form(category="refund", priority="urgent"))
    await desk.open_ticket(LENA, form(subject="other", category="general", priority="urgent"))
    refund, general = stores.state.tickets[1], stores.state.tickets[2]
    assert refund.first_response_due == clock.now() + timedelta(minutes=30)
    assert refund.resolution_due == clock.now() + timedelta(hours=8)  # the default stays
    assert general.first_response_due == clock.now() + timedelta(hours=1)


async def test_waiting_and_on_hold_pause_both_clocks_and_resume_where_they_stopped(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.claim(SAM, 1)
    clock.advance(2 * HOUR)
    await desk.hold(SAM, 1, "waiting on the bank")
    held = stores.state.tickets[1]
    assert held.first_response_due is None and held.resolution_due is None  # not due
    queue = await desk.queue(SAM)
    assert all(item.ticket.sla_due is None for item in queue)
    clock.advance(100 * HOUR)  # on hold: no clock, no notices
    assert await scheduler.run_once() == 0
    await desk.resume(SAM, 1)
    resumed = stores.state.tickets[1]
    assert resumed.first_response_due == clock.now() + timedelta(hours=6)  # 8h - 2h used
    assert resumed.resolution_due == clock.now() + timedelta(hours=46)
    view = (await desk.show(SAM, 1)).ticket
    assert not view.paused and view.sla_due == resumed.first_response_due


async def test_a_priority_change_moves_targets_not_yet_met(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    clock.advance(0.5 * HOUR)
    await desk.set_priority(SAM, 1, "urgent")  # 1h / 8h, 30 minutes used
    ticket = stores.state.tickets[1]
    assert ticket.first_response_due == clock.now() + timedelta(minutes=30)
    assert ticket.resolution_due == clock.now() + timedelta(hours=7.5)


async def test_after_downtime_a_warning_whose_breach_is_past_is_the_breach_alone(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    clock.advance(30 * HOUR)  # the desk was down past both 6.4h and 8h
    await scheduler.run_once()
    await scheduler.run_once()
    assert kinds(stores, *SLA) == [EventKind.SLA_BREACHED]
    timers = await stores_timers(stores, 1)
    assert [t.kind for t in timers if t.fired_at] == [TimerKind.FIRST_RESPONSE_WARNING]


async def stores_timers(stores: MemoryStores, number: int) -> list:  # type: ignore[type-arg]
    async with stores.reading() as store:
        return await store.timers(number)


async def test_a_timer_fires_once_and_a_cancelled_one_never(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    clock.advance(7 * HOUR)
    async with stores.reading() as store:
        (warning,) = await store.due_timers(clock.now(), 10)
    assert await desk.fire(warning) is True
    assert await desk.fire(warning) is False  # the same timer again: nothing
    await desk.reply(SAM, 1, "Answer")  # met: the breach timer is cancelled
    clock.advance(5 * HOUR)
    async with stores.reading() as store:
        assert [t.kind for t in await store.due_timers(clock.now(), 10)] == []
    assert kinds(stores, *SLA) == [EventKind.SLA_WARNING]


async def test_the_requester_escalates_only_after_a_breach_and_once_per_breach(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    with pytest.raises(NotAllowed, match="once its first-response target has passed"):
        await desk.escalate(LENA, 1, "nobody answers")
    clock.advance(9 * HOUR)
    await scheduler.run_once()
    assert (await desk.escalate(LENA, 1, "nobody answers")).escalation_level == 1
    with pytest.raises(NotAllowed, match="already escalated"):
        await desk.escalate(LENA, 1, "still nothing")
    agents_may = await desk.escalate(SAM, 1, "partner account")  # agents: any time
    assert agents_may.escalation_level == 2
    with pytest.raises(NotFound):
        await desk.escalate(OMAR, 1, "me too")  # someone else's private ticket: hidden


async def test_waiting_reminds_then_expires_with_a_notice(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.request_info(SAM, 1, "Which order number?")
    expires = clock.now() + timedelta(days=7)
    clock.advance(6 * 24 * HOUR)
    assert await scheduler.run_once() == 1
    assert [e.payload for e in stores.state.events if e.kind is EventKind.REMINDED] == [
        Reminded(expires)]
    view = (await desk.show(LENA, 1)).ticket
    assert view.closes_at == expires
    clock.advance(24 * HOUR)
    await scheduler.run_once()
    ticket = stores.state.tickets[1]
    assert ticket.status is Status.CLOSED
    closed = stores.state.events[-1]
    assert closed.actor is None and closed.payload == Closed(None, by_system=True,
                                                             why=AutoClosed.NO_REPLY)


async def test_a_requester_reply_cancels_the_expiry(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.request_info(SAM, 1, "Which order number?")
    clock.advance(3 * 24 * HOUR)
    await desk.comment(LENA, 1, "Order 1234")
    clock.advance(10 * 24 * HOUR)
    await scheduler.run_once()
    assert stores.state.tickets[1].status is Status.IN_PROGRESS
    assert EventKind.CLOSED not in kinds(stores)


async def test_a_reply_that_wins_the_race_stops_the_close(
        stores: MemoryStores, clock: FrozenClock) -> None:
    """The scheduler has read the due expiry; the requester's reply commits first; the
    close re-checks inside its own transaction and does nothing."""
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.request_info(SAM, 1, "Which order number?")
    clock.advance(8 * 24 * HOUR)
    async with stores.reading() as store:
        due = await store.due_timers(clock.now(), 10)
    expiry = next(t for t in due if t.kind is TimerKind.WAITING_EXPIRY)
    await desk.comment(LENA, 1, "Here it is: 1234")
    assert await desk.fire(expiry) is False
    assert stores.state.tickets[1].status is Status.IN_PROGRESS


async def test_resolved_tickets_close_after_the_configured_time(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock,
                            lifecycle=LifecycleSection(resolved_closes_after=timedelta(days=2)))
    await desk.open_ticket(LENA, form())
    await desk.resolve(SAM, 1, "Cleared the cache")
    clock.advance(47 * HOUR)
    assert await scheduler.run_once() == 0
    clock.advance(HOUR)
    assert await scheduler.run_once() == 1
    assert stores.state.events[-1].payload == Closed(None, by_system=True,
                                                     why=AutoClosed.RESOLVED)


async def test_a_reopen_starts_a_new_resolution_cycle(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    clock.advance(HOUR)
    await desk.resolve(SAM, 1, "Cleared the cache")
    clock.advance(HOUR)
    await desk.comment(LENA, 1, "Broken again")  # reopens within the window
    ticket = stores.state.tickets[1]
    assert ticket.status is Status.IN_PROGRESS and ticket.sla.cycle == 2
    assert ticket.resolution_due == clock.now() + timedelta(hours=48)
    assert ticket.first_response_due is None  # met in the first cycle; not restarted


@pytest.mark.parametrize("answer", ["yes", "no", "reply", "nothing"])
async def test_a_close_request(answer: str, stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.claim(SAM, 1)
    with pytest.raises(NotAllowed, match="only agents"):
        await desk.ask_close(LENA, 1)
    await desk.ask_close(SAM, 1, "Looks fixed on our side")
    assert stores.state.events[-1].payload == CloseRequested(
        "Looks fixed on our side", clock.now() + timedelta(days=1))
    with pytest.raises(InvalidTransition, match="already been asked"):
        await desk.ask_close(SAM, 1)
    with pytest.raises(NotAllowed, match="only the requester"):
        await desk.keep_open(SAM, 1)
    if answer == "yes":
        await desk.close(LENA, 1)
    elif answer == "no":
        await desk.keep_open(LENA, 1)
        assert stores.state.events[-1].payload == CloseDeclined()
    elif answer == "reply":
        await desk.comment(LENA, 1, "Still broken for me")
        assert stores.state.events[-1].payload == CloseDeclined(by_reply=True)
    clock.advance(25 * HOUR)
    await scheduler.run_once()
    status = stores.state.tickets[1].status
    assert status is (Status.CLOSED if answer in ("yes", "nothing") else Status.IN_PROGRESS)
    if answer == "nothing":
        assert stores.state.events[-1].payload == Closed(None, by_system=True,
                                                         why=AutoClosed.CLOSE_REQUEST)


async def test_the_requester_rates_once_per_resolution_and_may_change_it(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    with pytest.raises(InvalidTransition, match="once it is resolved"):
        await desk.rate(LENA, 1, "good")
    await desk.resolve(SAM, 1, "Cleared the cache")
    with pytest.raises(NotAllowed, match="only the requester"):
        await desk.rate(SAM, 1, "good")
    with pytest.raises(NotFound):
        await desk.rate(OMAR, 1, "good")
    from core.errors import Invalid
    with pytest.raises(Invalid, match="rating"):
        await desk.rate(LENA, 1, "meh")
    await desk.rate(LENA, 1, "good")
    await desk.rate(LENA, 1, "good", "Quick and friendly")  # the comment after the click
    with pytest.raises(Unchanged, match="already rated"):  # an InvalidTransition
        await desk.rate(LENA, 1, "good")
    await desk.rate(LENA, 1, "bad")
    rated = [e.payload for e in stores.state.events if e.kind is EventKind.RATED]
    assert rated == [Rated(Rating.GOOD), Rated(Rating.GOOD, "Quick and friendly", Rating.GOOD),
                     Rated(Rating.BAD, None, Rating.GOOD)]  # the comment was about "good"
    agents_view = (await desk.show(SAM, 1)).ticket
    requesters_view = (await desk.show(LENA, 1)).ticket
    assert agents_view.rating is Rating.BAD and requesters_view.rating is None
    assert all(e.audience.value == "internal" for e in stores.state.events
               if e.kind is EventKind.RATED)


async def test_system_commands_are_the_desk_s_own(stores: MemoryStores,
                                                  clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    with pytest.raises(NotAllowed, match="only the desk itself"):
        await desk.run(SAM, cmd.SlaAlert(1, "first_response", True))
    with pytest.raises(NotAllowed, match="only the desk itself"):
        await desk.run(LENA, cmd.AutoClose(1, AutoClosed.NO_REPLY))
    await desk.run(SYSTEM, cmd.SlaAlert(1, "first_response", True))
    assert kinds(stores, *SLA) == [EventKind.SLA_BREACHED]


async def test_a_close_request_ends_with_a_resolution(stores: MemoryStores,
                                                     clock: FrozenClock) -> None:
    """Resolved while a close request waited, then reopened: the old request does not
    close the reopened ticket."""
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.ask_close(SAM, 1)
    await desk.resolve(SAM, 1, "Fixed the pixel")
    await desk.reopen(LENA, 1)
    clock.advance(25 * HOUR)
    await scheduler.run_once()
    assert stores.state.tickets[1].status is Status.IN_PROGRESS  # resolve assigned it


# ---- business hours ---------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*when: int) -> datetime:
    return datetime(*when, tzinfo=BERLIN)  # type: ignore[misc]


def office(**keys: object) -> BusinessHoursSection:
    return BusinessHoursSection(timezone="Europe/Berlin", hours=("mon-fri 09:00-17:00",),
                                **keys)  # type: ignore[arg-type]


@pytest.mark.parametrize(("opened", "due", "why"), [
    (berlin(2026, 1, 9, 16, 0), berlin(2026, 1, 12, 16, 0), "across a weekend"),
    (berlin(2026, 12, 23, 16, 0), berlin(2026, 12, 28, 16, 0),
     "24 Dec (listed), 25 and 26 Dec (DE holidays), then the weekend"),
    (berlin(2026, 3, 27, 16, 0), berlin(2026, 3, 30, 16, 0),
     "across the spring DST change: 16:00 CEST is 14:00 UTC"),
])
async def test_clocks_count_business_hours_only(opened: datetime, due: datetime, why: str,
                                                stores: MemoryStores) -> None:
    clock = FrozenClock(opened.astimezone(UTC))
    desk, scheduler = wired(stores, clock, business_hours=office(
        holidays=("2026-12-24",), holidays_country="DE"))
    ticket = (await desk.open_ticket(LENA, form())).ticket  # normal: 8 business hours
    assert ticket.first_response_due == due.astimezone(UTC), why
    clock.advance((due.astimezone(UTC) - opened.astimezone(UTC)).total_seconds() - 1)
    await scheduler.run_once()
    assert kinds(stores, *SLA) == [EventKind.SLA_WARNING]
    clock.advance(1)
    await scheduler.run_once()
    assert kinds(stores, *SLA) == [EventKind.SLA_WARNING, EventKind.SLA_BREACHED]


async def test_a_pause_over_the_weekend_costs_no_business_time(stores: MemoryStores) -> None:
    clock = FrozenClock(berlin(2026, 1, 9, 13, 0).astimezone(UTC))  # Friday
    desk, _ = wired(stores, clock, business_hours=office())
    await desk.open_ticket(LENA, form())
    clock.advance(2 * HOUR)  # 2 business hours used
    await desk.request_info(SAM, 1, "Which order?")
    clock.advance(3 * 24 * HOUR)  # Monday 15:00
    await desk.comment(LENA, 1, "Order 77")  # resumes: 6 business hours left
    resumed = stores.state.tickets[1]
    assert resumed.first_response_due is None  # asking counts as the first response
    assert resumed.resolution_due == berlin(2026, 1, 20, 13, 0).astimezone(UTC)  # 46h left


async def test_notices_outside_hours_wait_for_the_opening_when_told(
        stores: MemoryStores) -> None:
    clock = FrozenClock(berlin(2026, 1, 12, 9, 0).astimezone(UTC))  # Monday 09:00
    desk, scheduler = wired(stores, clock, business_hours=office(notify_outside_hours=False))
    ticket = (await desk.open_ticket(LENA, form())).ticket
    assert ticket.first_response_due == berlin(2026, 1, 12, 17, 0).astimezone(UTC)  # closing
    clock.advance(6.5 * HOUR)
    await scheduler.run_once()  # 15:30: the warning (due 15:24)
    clock.advance(1.5 * HOUR)
    await scheduler.run_once()  # 17:00: the breach is due but the desk is closed
    assert kinds(stores, *SLA) == [EventKind.SLA_WARNING]
    clock.advance(16 * HOUR - 1)
    await scheduler.run_once()
    assert kinds(stores, *SLA) == [EventKind.SLA_WARNING]
    clock.advance(1)  # Tuesday 09:00
    await scheduler.run_once()
    assert kinds(stores, *SLA) == [EventKind.SLA_WARNING, EventKind.SLA_BREACHED]


async def test_a_ticket_opened_outside_hours_says_when_the_team_is_back(
        stores: MemoryStores) -> None:
    clock = FrozenClock(berlin(2026, 1, 10, 11, 0).astimezone(UTC))  # Saturday
    desk, _ = wired(stores, clock, business_hours=office())
    ticket = (await desk.open_ticket(LENA, form())).ticket
    view = (await desk.show(LENA, ticket.number)).ticket
    assert view.back_text == "We're back Monday at 09:00 (Europe/Berlin)"
    assert ticket.first_response_due == berlin(2026, 1, 12, 17, 0).astimezone(UTC)


async def test_the_queue_lists_breached_then_at_risk_then_unassigned_and_no_paused(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form(subject="fresh, unassigned"))  # 1
    await desk.open_ticket(OMAR, form(subject="at risk", priority="high"))  # 2: 4h
    await desk.claim(SAM, 2)
    await desk.open_ticket(person("ida"), form(subject="breached", priority="urgent"))  # 3: 1h
    await desk.claim(SAM, 3)
    await desk.open_ticket(person("tom"), form(subject="on hold"))  # 4
    await desk.hold(SAM, 4, "bank")
    await desk.open_ticket(person("ann"), form(subject="assigned, plenty of time"))  # 5
    await desk.claim(SAM, 5)
    clock.advance(3.5 * HOUR)
    await scheduler.run_once()
    assert [item.ticket.number for item in await desk.queue(SAM)] == [3, 2, 1]


async def test_a_missed_target_stays_due_when_it_ran_out(stores: MemoryStores,
                                                         clock: FrozenClock) -> None:
    """Later changes do not move a missed target's due time to "now"; a priority change
    that is already missed counts from its own target."""
    desk, scheduler = wired(stores, clock)
    opened = clock.now()
    await desk.open_ticket(LENA, form())
    await desk.open_ticket(OMAR, form(subject="second"))
    clock.advance(9 * HOUR)
    await scheduler.run_once()
    await desk.note(SAM, 1, "looking")
    clock.advance(HOUR)
    await desk.note(SAM, 1, "still looking")
    await desk.set_priority(SAM, 2, "urgent")  # 1h target, 10h used: missed as of now
    for number, due in ((1, opened + timedelta(hours=8)), (2, clock.now())):
        ticket = stores.state.tickets[number]
        assert ticket.first_response_due == due
        view = (await desk.show(SAM, number)).ticket
        assert view.clocks[0].due == due and view.sla_due == due


async def test_after_downtime_a_reminder_past_its_expiry_is_skipped(
        stores: MemoryStores, clock: FrozenClock) -> None:
    desk, scheduler = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.request_info(SAM, 1, "Which order number?")
    clock.advance(9 * 24 * HOUR)  # down past both the reminder and the expiry
    await scheduler.run_once()
    assert EventKind.REMINDED not in kinds(stores)
    assert stores.state.events[-1].payload == Closed(None, by_system=True,
                                                     why=AutoClosed.NO_REPLY)


async def test_asking_to_close_is_a_first_response(stores: MemoryStores,
                                                  clock: FrozenClock) -> None:
    desk, _ = wired(stores, clock)
    await desk.open_ticket(LENA, form())
    await desk.ask_close(SAM, 1, "Can we close this?")
    assert stores.state.tickets[1].first_response_at == clock.now()


async def test_the_team_is_back_only_while_the_desk_is_closed(stores: MemoryStores) -> None:
    clock = FrozenClock(berlin(2026, 1, 10, 11, 0).astimezone(UTC))  # Saturday
    desk, _ = wired(stores, clock, business_hours=office())
    await desk.open_ticket(LENA, form())
    clock.advance(2 * 24 * HOUR)  # Monday 11:00: open
    assert (await desk.show(LENA, 1)).ticket.back_text == ""


def test_targets_that_business_hours_cannot_reach_are_refused_at_load() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="would take more than 2 years"):
        desk_config(business_hours=BusinessHoursSection(
            timezone="Europe/Berlin", hours=("sun 10:00-10:01",)))
    with pytest.raises(ValueError, match=r"at most 3650d"):
        LifecycleSection(waiting_expires_after="3000000d")  # type: ignore[arg-type]
