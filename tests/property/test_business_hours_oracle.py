"""The business-hours calendar against a brute-force oracle (issue 11 point 2).

The oracle walks UTC minutes and asks of each the definition in ``core.business_hours``:
open iff its local wall time falls in a window of that local weekday and its local date
is no holiday. Windows, offsets and transitions here are all whole minutes, so a UTC
minute is open or closed throughout, and business time over minute-aligned spans is a
count of open minutes. Zones: two northern DST zones, a +5:30 zone without DST, a
southern DST zone, +12:45/+13:45 Chatham and São Paulo (-3, no DST since 2019); every
DST change of 2026-2030 is checked once by example and drawn from by hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.business_hours import DAYS, BusinessCalendar

MINUTE = timedelta(minutes=1)
ZONES: dict[str, tuple[str, str | None]] = {  # zone → its holidays_country, subdivision
    "Europe/Berlin": ("DE", "BE"),
    "America/New_York": ("US", "NY"),
    "Asia/Kolkata": ("IN", None),
    "Australia/Sydney": ("AU", "NSW"),
    "Pacific/Chatham": ("NZ", "CIT"),
    "America/Sao_Paulo": ("BR", "SP"),
}


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """Every UTC minute of 2026-2030 at which the zone's offset changes: hours scanned
    for a change, then the minutes of that hour."""
    zone = ZoneInfo(zone_name)
    found = []
    hour = datetime(2026, 1, 1, tzinfo=UTC)
    while hour < datetime(2031, 1, 1, tzinfo=UTC):
        later = hour + timedelta(hours=1)
        if hour.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            minute = hour
            while minute.astimezone(zone).utcoffset() == hour.astimezone(zone).utcoffset():
                minute += MINUTE
            found.append(minute)
        hour = later
    return tuple(found)


@cache
def public_holidays(country: str, subdivision: str | None) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision,
                                               years=range(2025, 2033)).keys())


@dataclass(frozen=True)
class Entry:
    days: frozenset[int]
    start: int  # minutes since local midnight
    end: int

    def text(self) -> str:
        names = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{names} {self.start // 60:02d}:{self.start % 60:02d}-" \
               f"{self.end // 60:02d}:{self.end % 60:02d}"


@dataclass(frozen=True)
class Desk:
    zone_name: str
    entries: tuple[Entry, ...]
    extra: tuple[date, ...]
    country: bool

    def calendar(self) -> BusinessCalendar:
        country, subdivision = ZONES[self.zone_name] if self.country else (None, None)
        return BusinessCalendar(timezone=self.zone_name, hours=[e.text() for e in self.entries],
                                holidays=[d.isoformat() for d in self.extra],
                                holidays_country=country, holidays_subdivision=subdivision)

    def open(self, minute: datetime) -> bool:
        """The oracle: the definition, for one UTC minute."""
        local = minute.astimezone(ZoneInfo(self.zone_name))
        if local.date() in self.extra or (
                self.country and local.date() in public_holidays(*ZONES[self.zone_name])):
            return False
        wall = local.hour * 60 + local.minute
        return any(local.weekday() in e.days and e.start <= wall < e.end for e in self.entries)

    def open_minutes(self, start: datetime, end: datetime) -> list[datetime]:
        minutes, minute = [], start
        while minute < end:
            if self.open(minute):
                minutes.append(minute)
            minute += MINUTE
        return minutes


def check(desk: Desk, start: datetime, span: timedelta, work: timedelta) -> None:
    """Everything the calendar promises, for one start: against the oracle over
    [start, start + span), and ``add`` against ``between`` for any amount of work."""
    calendar = desk.calendar()
    end = start + span
    opened = desk.open_minutes(start, end)
    assert calendar.between(start, end) == len(opened) * MINUTE
    assert calendar.is_open(start) == desk.open(start)
    if opened:
        assert calendar.next_opening(start) == opened[0]
    else:
        assert calendar.next_opening(start) >= end
    done = calendar.add(start, work)
    assert done.tzinfo is UTC
    assert calendar.between(start, done) == work
    if work:
        assert calendar.between(start, done - MINUTE) < work  # the first such instant
        assert desk.open(done - MINUTE)  # work ends in an open minute, at its end
        whole = work // MINUTE
        if whole <= len(opened):
            assert done == opened[whole - 1] + MINUTE
    else:
        assert done == start


OFFICE = Entry(frozenset(range(5)), 9 * 60, 17 * 60)
NIGHT = Entry(frozenset(range(7)), 60, 4 * 60)  # around every 02:00/03:00 change
AROUND = Entry(frozenset(range(7)), 0, 24 * 60)
CHANGES = [(zone, moment) for zone in ZONES for moment in transitions(zone)]


def test_every_zone_but_two_changes_offset_twice_a_year() -> None:
    counts = {zone: len(transitions(zone)) for zone in ZONES}
    assert counts == {"Europe/Berlin": 10, "America/New_York": 10, "Asia/Kolkata": 0,
                      "Australia/Sydney": 10, "Pacific/Chatham": 10, "America/Sao_Paulo": 0}


@pytest.mark.parametrize(("zone", "change"), CHANGES, ids=[f"{z}-{m:%Y-%m-%d}"
                                                          for z, m in CHANGES])
def test_every_dst_change_of_2026_to_2030(zone: str, change: datetime) -> None:
    for entries in [(OFFICE, NIGHT), (AROUND,)]:
        desk = Desk(zone, entries, (), country=True)
        check(desk, change - timedelta(days=2, minutes=7), timedelta(days=3),
              timedelta(hours=7))
        check(desk, change - timedelta(minutes=97), timedelta(hours=12), timedelta(hours=2))


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.one_of(st.sampled_from([0, 60, 90, 120, 150, 165, 180, 240, 540]),
                           st.integers(0, 24 * 60 - 1)))
    end = draw(st.one_of(st.sampled_from([24 * 60, min(start + 60, 24 * 60)]),
                         st.integers(start + 1, 24 * 60)))
    return Entry(days, start, end)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Desk, datetime, timedelta, timedelta]:
    zone = draw(st.sampled_from(sorted(ZONES)))
    if transitions(zone):
        anchor = draw(st.sampled_from(transitions(zone)))
    else:
        anchor = datetime(2026, 1, 1, tzinfo=UTC) + draw(
            st.integers(0, 5 * 365 * 24 * 60)) * MINUTE
    start = anchor + draw(st.integers(-3 * 24 * 60, 24 * 60)) * MINUTE
    anchor_day = anchor.astimezone(ZoneInfo(zone)).date()
    extra = draw(st.lists(st.integers(-2, 1), max_size=2))
    desk = Desk(zone, tuple(draw(st.lists(entries(), min_size=1, max_size=3))),
                tuple(anchor_day + timedelta(days=d) for d in extra), draw(st.booleans()))
    span = draw(st.integers(0, 5 * 24 * 60)) * MINUTE
    work = draw(st.one_of(st.integers(0, 3 * 24 * 60), st.integers(0, 600))) * MINUTE
    return desk, start, span, work


@settings(max_examples=150, deadline=None)
@given(cases())
def test_the_calendar_agrees_with_the_minute_oracle(
        case: tuple[Desk, datetime, timedelta, timedelta]) -> None:
    check(*case)


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(1, 59_999_999))
def test_add_and_between_agree_off_the_minute(
        case: tuple[Desk, datetime, timedelta, timedelta], micro: int) -> None:
    desk, start, _, work = case
    calendar = desk.calendar()
    start += timedelta(microseconds=micro)
    done = calendar.add(start, work)
    assert calendar.between(start, done) == work
    if work:
        assert calendar.between(start, done - timedelta(microseconds=1)) < work
        assert calendar.is_open(done - timedelta(microseconds=1))
