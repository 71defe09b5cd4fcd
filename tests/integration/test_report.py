"""The stats report (issue 12, point 4) on SQLite and PostgreSQL, over a hand-built desk
run through the real desk with a frozen clock: openings, backlog, first-response and
resolution medians and 90th percentiles (SLA clock time: on-hold time excluded, business
hours counted), SLA met %, breaches, satisfaction, by category and by agent; the chart
is a PNG that decodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.clock import FrozenClock
from core.config import BusinessHoursSection
from core.errors import Invalid, NotAllowed
from core.report import Figures, desk_report, parse_period, percentile, stats
from core.report_chart import chart_png
from core.schedule import Scheduler
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.integration.conftest import Wired
from tests.support.people import agent, desk_config, form, make_desk, person
from tests.support.png import assert_png

LENA, OMAR = person("lena"), person("omar")
SAM, KIM = agent("sam"), agent("kim")
HOUR = 3600.0


def line(lines: tuple[Figures, ...], name: str) -> Figures:
    found = [f for f in lines if f.name == name]
    assert len(found) == 1, [f.name for f in lines]
    return found[0]


async def test_figures_of_a_hand_built_desk(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    start = clock.now()
    # Before the period: opened and resolved ten days ago, so it counts nowhere.
    await desk.open_ticket(LENA, form(subject="Old one"))
    await desk.claim(SAM, 1)
    clock.advance(HOUR)
    await desk.resolve(SAM, 1, "Fixed long ago")
    t0 = start + timedelta(days=10)

    def at(hours: float) -> None:
        clock.advance((t0 + timedelta(hours=hours) - clock.now()).total_seconds())

    at(0)
    await desk.open_ticket(LENA, form(subject="Pixel", category="technical"))  # 2
    await desk.open_ticket(OMAR, form(subject="Invoice", category="billing"))  # 3
    await desk.open_ticket(LENA, form(subject="Postback", category="technical"))  # 4
    await desk.open_ticket(OMAR, form(subject="Question", category="general"))  # 5
    await desk.claim(SAM, 2)
    await desk.claim(SAM, 4)
    await desk.claim(KIM, 3)
    at(1)
    await desk.reply(SAM, 2, "Looking at it")  # first response after 1 h
    at(2)
    await desk.reply(KIM, 3, "Which invoice?")  # 2 h
    at(3)
    await desk.hold(SAM, 4, "Waiting on the network")  # clocks stop at 3 h
    at(5)
    await desk.resolve(SAM, 2, "Tag reinstalled")  # resolution after 5 h
    await desk.rate(LENA, 2, "good")
    at(7)
    await desk.resume(SAM, 4)
    at(9)
    await desk.reply(SAM, 4, "The network fixed it")  # 3 h + 2 h = 5 h (wall: 9 h)
    at(10)
    assert await Scheduler(desk, wired.stores, clock).run_once() >= 1  # #5 breaches 8 h
    await desk.resolve(KIM, 3, "Invoice resent")  # 10 h
    await desk.rate(OMAR, 3, "bad", "slow")
    at(11)
    await desk.claim(KIM, 5)
    at(12)
    await desk.reply(KIM, 5, "Here is the answer")  # 12 h, breached
    await desk.open_ticket(LENA, form(subject="Refund?", category="billing"))  # 6

    report = await stats(SAM, desk.config, wired.stores, clock, "7d")
    assert (report.since, report.until, report.label) == (clock.now() - timedelta(days=7),
                                                           clock.now(), "7d")
    total = report.total
    assert (total.opened, total.resolved, total.backlog) == (5, 2, 3)
    assert total.first_response.count == 4
    assert total.first_response.median == 3.5 * HOUR  # of 1, 2, 5, 12 h
    assert total.first_response.p90 == pytest.approx(9.9 * HOUR)  # 5 + 0.7 × 7
    assert total.resolution.median == 7.5 * HOUR  # of 5, 10 h
    assert total.resolution.p90 == pytest.approx(9.5 * HOUR)
    assert (total.sla_met.part, total.sla_met.whole) == (5, 6)  # #5's first response
    assert report.breaches == 1
    assert (total.satisfaction.part, total.satisfaction.whole) == (1, 2)
    assert total.satisfaction.percent == 50.0

    sam, kim = line(report.by_agent, "sam"), line(report.by_agent, "kim")
    nobody = line(report.by_agent, "unassigned")
    assert (sam.opened, sam.resolved, sam.backlog) == (2, 1, 1)
    assert (sam.first_response.median, sam.resolution.median) == (3 * HOUR, 5 * HOUR)
    assert (sam.sla_met.part, sam.sla_met.whole, sam.satisfaction.percent) == (3, 3, 100.0)
    assert (kim.opened, kim.resolved, kim.backlog) == (2, 1, 1)
    assert (kim.first_response.median, kim.first_response.p90) == (7 * HOUR,
                                                                   pytest.approx(11 * HOUR))
    assert (kim.sla_met.part, kim.sla_met.whole, kim.satisfaction.percent) == (2, 3, 0.0)
    assert (nobody.opened, nobody.backlog, nobody.resolved) == (1, 1, 0)

    technical = line(report.by_category, "Technical setup")
    billing = line(report.by_category, "Billing & payments")
    general = line(report.by_category, "General question")
    assert (technical.opened, technical.resolved, technical.backlog) == (2, 1, 1)
    assert technical.first_response.median == 3 * HOUR
    assert (billing.opened, billing.resolved, billing.backlog) == (2, 1, 1)
    assert (general.opened, general.backlog, general.sla_met.percent) == (1, 1, 0.0)

    day = [d for d in report.days if d.day == t0.date()]
    assert len(report.days) == 8 and len(day) == 1
    assert (day[0].opened, day[0].resolved) == (5, 2)
    assert day[0].first_response_median == 3.5 * HOUR

    assert_png(chart_png(report, title=desk.config.desk.name))

    whole = await desk_report(desk.config, wired.stores, clock, "30d")
    assert (whole.total.opened, whole.total.resolved) == (6, 3)  # the old one too


async def test_only_agents_see_stats_and_periods_are_checked(wired: Wired) -> None:
    with pytest.raises(NotAllowed):
        await stats(LENA, wired.desk.config, wired.stores, wired.clock, "7d")
    now = wired.clock.now()
    assert parse_period("2026-01-01", now) == (datetime(2026, 1, 1, tzinfo=UTC),
                                               "since 2026-01-01")
    for wrong in ("yesterday", "0d", "2026-02-30", "2027-01-01"):
        with pytest.raises(Invalid):
            parse_period(wrong, now)
    empty = await desk_report(wired.desk.config, wired.stores, wired.clock, "7d")
    assert empty.total.first_response.median is None
    assert empty.total.sla_met.percent is None and empty.by_agent == ()
    assert_png(chart_png(empty))  # nothing to draw is still a chart


async def test_a_ticket_stored_without_a_clock_counts_wall_time(wired: Wired) -> None:
    await wired.desk.open_ticket(LENA, form())
    wired.clock.advance(2 * HOUR)
    await wired.desk.reply(SAM, 1, "On it")
    async with wired.stores.engine.begin() as conn:
        await conn.execute(text("UPDATE tickets SET sla = NULL"))
    wired.clock.advance(HOUR)
    report = await desk_report(wired.desk.config, wired.stores, wired.clock, "1d")
    assert report.total.first_response.median == 2 * HOUR
    assert report.total.sla_met.percent == 100.0


async def test_business_hours_count_business_time(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    hours = BusinessHoursSection(timezone="UTC", hours=("mon-fri 09:00-17:00",))
    config = desk_config(business_hours=hours)
    clock = FrozenClock(datetime(2026, 1, 9, 16, 0, tzinfo=UTC))  # a Friday
    stores = SqlStores(engine)
    desk = make_desk(stores, config, clock)
    try:
        await desk.open_ticket(LENA, form())
        clock.advance(66 * HOUR)  # Monday 10:00: 1 h on Friday, 1 h on Monday
        await desk.reply(SAM, 1, "Back at work")
        report = await desk_report(config, stores, clock, "7d")
    finally:
        await engine.dispose()
    assert report.business_time
    assert report.total.first_response.median == 2 * HOUR


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


async def test_a_period_from_long_ago_costs_the_desks_days_not_the_calendars(
        wired: Wired) -> None:
    """``--since 0001-01-01`` on a small desk: the per-day series starts at the desk's
    first ticket, so its length is bounded by the days the desk has data for (it once
    walked all 740 000 days since year 1 and drew a bar for each); the empty desk still
    reports one day."""
    empty = await desk_report(wired.desk.config, wired.stores, wired.clock, "0001-01-01")
    assert [d.day for d in empty.days] == [wired.clock.now().date()]
    await wired.desk.open_ticket(LENA, form(subject="First"))
    wired.clock.advance(3 * 24 * HOUR)
    await wired.desk.open_ticket(OMAR, form(subject="Second"))
    await wired.desk.reply(SAM, 2, "On it")
    report = await desk_report(wired.desk.config, wired.stores, wired.clock, "0001-01-01")
    assert report.since == datetime(1, 1, 1, tzinfo=UTC) and report.total.opened == 2
    assert len(report.days) == 4  # the first ticket's day to today
    assert (report.days[0].opened, report.days[-1].opened) == (1, 1)
    assert report.days[-1].first_response_median is not None
    assert_png(chart_png(report))
    week = await desk_report(wired.desk.config, wired.stores, wired.clock, "7d")
    assert len(week.days) == 4  # a younger desk than the period: its days, no more
