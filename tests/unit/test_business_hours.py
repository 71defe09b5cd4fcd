"""Business hours (issue 11 point 2, PRODUCT.md §7): the calendar by example — weekends,
holidays, DST changes, closing times, several windows a day, "We're back …" — its
refusals of bad keys, and ``[business_hours]`` in the config. The minute-by-minute oracle
lives in tests/property/test_business_hours_oracle.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import ConfigError, load_settings
from core.business_hours import AroundTheClock, BusinessCalendar, Calendar
from core.config import BusinessHoursSection, DeskConfig

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)

ISSUE_HOURS = ["mon-fri 09:00-12:00", "mon-fri 13:00-17:00", "sat 10:00-14:00"]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def office(**keys: object) -> BusinessCalendar:
    given: dict[str, object] = {"timezone": "Europe/Berlin", "hours": ["mon-fri 09:00-17:00"]}
    given.update(keys)
    return BusinessCalendar(**given)  # type: ignore[arg-type]


def test_the_issue_example_across_a_weekend() -> None:
    desk = BusinessCalendar(timezone="Europe/Berlin", hours=ISSUE_HOURS,
                            holidays=["2026-12-24"], holidays_country="DE",
                            holidays_subdivision="BE")
    friday = berlin(2026, 11, 20, 16, 30)
    assert desk.add(friday, 3 * H) == berlin(2026, 11, 21, 12, 30)  # 30m Fri, 2h30 Sat
    assert desk.add(friday, 5 * H) == berlin(2026, 11, 23, 9, 30)  # Sunday closed
    assert desk.between(friday, berlin(2026, 11, 23, 9, 30)) == 5 * H
    assert desk.between(berlin(2026, 11, 21, 14), berlin(2026, 11, 23, 9)) == timedelta(0)


def test_results_are_aware_utc_and_naive_input_is_refused() -> None:
    desk = office()
    done = desk.add(berlin(2026, 11, 23, 9), H)
    assert done.tzinfo is UTC and done == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert desk.next_opening(berlin(2026, 11, 22, 12)).tzinfo is UTC
    naive = datetime(2026, 11, 23, 9)
    for call in (lambda: desk.add(naive, H), lambda: desk.between(naive, naive),
                 lambda: desk.is_open(naive), lambda: desk.next_opening(naive),
                 lambda: desk.back_text(naive), lambda: AroundTheClock().add(naive, H)):
        with pytest.raises(ValueError, match="aware datetime"):
            call()
    with pytest.raises(ValueError, match="work must not be negative"):
        desk.add(berlin(2026, 11, 23, 9), -H)


def test_no_work_is_the_start_and_a_reversed_span_is_nothing() -> None:
    desk = office()
    sunday = berlin(2026, 11, 22, 12, 0, 7)
    assert desk.add(sunday, timedelta(0)) == sunday  # even when closed
    assert desk.between(berlin(2026, 11, 24, 12), berlin(2026, 11, 23, 12)) == timedelta(0)


def test_a_holiday_from_the_holidays_package_closes_the_day() -> None:
    desk = office(holidays_country="DE", holidays_subdivision="BE")
    thursday = berlin(2026, 4, 2, 16)  # Good Friday 3 April, Easter Monday 6 April
    assert desk.add(thursday, 2 * H) == berlin(2026, 4, 7, 10)
    assert not desk.is_open(berlin(2026, 4, 3, 10)) and not desk.is_open(berlin(2026, 4, 6, 10))
    assert desk.back_text(berlin(2026, 4, 3, 10)) == "We're back Tuesday at 09:00 (Europe/Berlin)"
    # Berlin's own holiday (Women's Day, 8 March) is closed there, open in Bavaria
    assert not desk.is_open(berlin(2027, 3, 8, 10))
    assert office(holidays_country="DE", holidays_subdivision="BY").is_open(berlin(2027, 3, 8, 10))


def test_extra_holidays_close_whole_local_days() -> None:
    desk = office(holidays=["2026-12-24", "2026-12-31"])
    assert desk.between(berlin(2026, 12, 21), berlin(2026, 12, 26)) == 4 * 8 * H  # not the 24th
    assert desk.between(berlin(2026, 12, 24, 9), berlin(2026, 12, 24, 17)) == timedelta(0)
    assert office().between(berlin(2026, 12, 21), berlin(2026, 12, 26)) == 5 * 8 * H


def test_dst_changes_count_real_time() -> None:
    around = office(hours=["daily 00:00-24:00"])
    assert around.between(berlin(2026, 3, 28), berlin(2026, 3, 30)) == 47 * H
    assert around.between(berlin(2026, 10, 24), berlin(2026, 10, 26)) == 49 * H
    night = office(hours=["sun 01:00-05:00"])
    assert night.between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 3 * H  # 02-03 skipped
    assert night.between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 5 * H  # 02-03 twice
    # 01:00-05:00 local with 2:30 of work: 01:00 → 02:00 CEST = 03:00 CET, then 01:30 more
    fall_back = night.add(berlin(2026, 10, 25, 1), timedelta(hours=2, minutes=30))
    assert fall_back == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, second time
    # a weekday desk across the spring change: Friday 16:00 CET + 2h = Monday 10:00 CEST
    assert office().add(berlin(2026, 3, 27, 16), 2 * H) == berlin(2026, 3, 30, 10)
    assert office().between(berlin(2026, 3, 27, 16), berlin(2026, 3, 30, 10)) == 2 * H


def test_a_window_inside_a_spring_forward_gap_has_no_time() -> None:
    gap = office(hours=["sun 02:00-03:00"])
    saturday = berlin(2026, 3, 28, 12)
    assert gap.add(saturday, 30 * timedelta(minutes=1)) == berlin(2026, 4, 5, 2, 30)
    assert gap.next_opening(saturday) == berlin(2026, 4, 5, 2)


def test_work_ending_exactly_at_closing_time_gives_the_closing_time() -> None:
    desk = office(hours=ISSUE_HOURS)
    monday = berlin(2026, 11, 23, 9)
    assert desk.add(monday, 3 * H) == berlin(2026, 11, 23, 12)  # not 13:00
    assert desk.add(monday, 7 * H) == berlin(2026, 11, 23, 17)  # not Tuesday 09:00
    assert desk.add(berlin(2026, 11, 21, 10), 4 * H) == berlin(2026, 11, 21, 14)
    assert desk.add(berlin(2026, 11, 23, 12), H) == berlin(2026, 11, 23, 14)  # lunch skipped


def test_several_windows_a_day_and_overlapping_entries_merge() -> None:
    desk = office(hours=["mon 09:00-12:00", "mon 11:00-14:00", "mon 16:00-24:00"])
    assert desk.between(berlin(2026, 11, 23), berlin(2026, 11, 24)) == 13 * H
    assert desk.add(berlin(2026, 11, 23, 13), 2 * H) == berlin(2026, 11, 23, 17)
    assert desk.add(berlin(2026, 11, 23, 23), H) == berlin(2026, 11, 24)  # 24:00 closes
    assert not desk.is_open(berlin(2026, 11, 24))


@pytest.mark.parametrize(("days", "open_on"), [
    ("mon", {0}), ("mon-fri", {0, 1, 2, 3, 4}), ("mon,wed,fri", {0, 2, 4}),
    ("sat-sun", {5, 6}), ("daily", set(range(7))), ("fri-mon", {4, 5, 6, 0}),
    ("Mon-Tue, Thu", {0, 1, 3}),
])
def test_day_forms(days: str, open_on: set[int]) -> None:
    desk = office(hours=[f"{days} 10:00-11:00"])
    monday = berlin(2026, 11, 23, 10, 30)
    assert {d for d in range(7) if desk.is_open(monday + timedelta(days=d))} == open_on


def test_is_open_and_next_opening() -> None:
    desk = office(hours=ISSUE_HOURS)
    at = berlin(2026, 11, 23, 11, 59, 59)
    assert desk.is_open(at) and desk.next_opening(at) == at
    assert not desk.is_open(berlin(2026, 11, 23, 12))  # a window's end is closed
    assert desk.next_opening(berlin(2026, 11, 23, 12)) == berlin(2026, 11, 23, 13)
    assert desk.next_opening(berlin(2026, 11, 21, 14)) == berlin(2026, 11, 23, 9)


def test_back_text() -> None:
    desk = office(hours=ISSUE_HOURS, holidays_country="DE", holidays_subdivision="BE",
                  holidays=["2026-12-24", "2026-12-28", "2026-12-29", "2026-12-30",
                            "2026-12-31", "2027-01-02"])
    assert desk.back_text(berlin(2026, 11, 23, 10)) == ""
    assert desk.back_text(berlin(2026, 11, 23, 12, 15)) == \
        "We're back today at 13:00 (Europe/Berlin)"
    assert desk.back_text(berlin(2026, 11, 23, 7)) == "We're back today at 09:00 (Europe/Berlin)"
    assert desk.back_text(berlin(2026, 11, 21, 18)) == \
        "We're back Monday at 09:00 (Europe/Berlin)"
    assert desk.back_text(berlin(2026, 11, 20, 17)) == \
        "We're back Saturday at 10:00 (Europe/Berlin)"
    # Wednesday 23 December: the 24th-26th and 28th-31st, New Year's Day and the 2nd shut
    assert desk.back_text(berlin(2026, 12, 23, 18)) == \
        "We're back Monday 4 January at 09:00 (Europe/Berlin)"
    assert AroundTheClock().back_text(berlin(2026, 12, 23, 18)) == ""


def test_around_the_clock() -> None:
    always: Calendar = AroundTheClock()
    start, end = berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 12)
    assert always.add(start, 5 * H) == start + 5 * H and always.add(start, H).tzinfo is UTC
    assert always.between(start, end) == 47 * H and always.between(end, start) == timedelta(0)
    assert always.is_open(start) and always.next_opening(start) == start


def test_a_calendar_that_never_opens_again_gives_up() -> None:
    mondays = [(date(2026, 11, 23) + timedelta(weeks=w)).isoformat() for w in range(53 * 7)]
    desk = office(hours=["mon 09:00-10:00"], holidays=mondays)
    never = r"is closed for 1830 days from 2026-11-23T08:00:00\+00:00; it never opens again"
    with pytest.raises(ValueError, match=never):
        desk.add(berlin(2026, 11, 23, 9), H)
    with pytest.raises(ValueError, match="does not open within"):
        desk.next_opening(berlin(2026, 11, 23, 9))


def test_a_year_of_work_is_quick() -> None:
    desk = office(hours=ISSUE_HOURS, holidays_country="DE")
    start = berlin(2026, 1, 5, 9)
    done = desk.add(start, 2000 * H)  # about a year of 40-hour weeks, window by window
    assert desk.between(start, done) == 2000 * H
    assert done.year == 2027


@pytest.mark.parametrize(("keys", "message"), [
    ({"timezone": "Europe/Berln"}, "timezone: 'Europe/Berln' is not a timezone"),
    ({"timezone": ""}, "timezone: '' is not a timezone"),
    ({"hours": []}, "hours: [] opens at no time at all"),
    ({"hours": "mon-fri 09:00-17:00"}, "hours: 'mon-fri 09:00-17:00' is not a list"),
    ({"hours": ["mon-fri 9-17"]}, "hours: 'mon-fri 9-17' is not like 'mon-fri 09:00-17:00'"),
    ({"hours": ["mon-fry 09:00-17:00"]}, "hours: 'mon-fry 09:00-17:00': 'fry' is not a day"),
    ({"hours": ["mon 09:00-25:00"]}, "hours: 'mon 09:00-25:00': '25:00' is not a time"),
    ({"hours": ["mon 09:60-10:00"]}, "hours: 'mon 09:60-10:00': '09:60' is not a time"),
    ({"hours": ["mon 24:00-24:00"]}, "hours: 'mon 24:00-24:00': '24:00' is not a time"),
    ({"hours": ["mon 09:00-09:00"]}, "hours: 'mon 09:00-09:00' is an empty window"),
    ({"hours": ["mon-fri 22:00-06:00"]},
     "hours: 'mon-fri 22:00-06:00' runs past midnight; write it as two entries, "
     "'mon-fri 22:00-24:00' and 'tue-sat 00:00-06:00'"),
    ({"hours": ["sat,sun 20:00-02:00"]}, "'sat-sun 20:00-24:00' and 'sun-mon 00:00-02:00'"),
    ({"holidays": ["24.12.2026"]}, "holidays: '24.12.2026' is not a date; write it as YYYY"),
    ({"holidays": ["2026-02-30"]}, "holidays: '2026-02-30' is not a date"),
    ({"holidays": "2026-12-24"}, "holidays: '2026-12-24' is not a list"),
    ({"holidays_country": "XX"}, "holidays_country: 'XX' is not a country"),
    ({"holidays_country": "DE", "holidays_subdivision": "QQ"},
     "holidays_subdivision: 'QQ' is not a subdivision of DE"),
    ({"holidays_subdivision": "BE"}, "holidays_subdivision: 'BE' needs holidays_country"),
])
def test_bad_keys_are_named_with_their_value(keys: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        office(**keys)
    assert message in str(refused.value)


# -- [business_hours] in the config -------------------------------------------------------

PRODUCT_EXAMPLE = """
[business_hours]                  # optional; without it clocks run around the clock
timezone = "Europe/Berlin"
hours = ["mon-fri 09:00-17:00", "sat 10:00-14:00"]
holidays_country = "DE"           # the `holidays` package; optional
holidays_subdivision = "BE"
holidays = ["2026-12-24", "2026-12-31"]
notify_outside_hours = true
"""


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> DeskConfig:
    path = tmp_path / "helpthread.toml"
    path.write_text(text)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    return load_settings()[1]


def test_product_sections_example_loads(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = load(tmp_path, monkeypatch, PRODUCT_EXAMPLE)
    assert config.business_hours is not None
    assert config.business_hours.holidays == ("2026-12-24", "2026-12-31")
    assert config.business_hours.notify_outside_hours
    calendar = config.calendar()
    assert isinstance(calendar, BusinessCalendar) and calendar is config.calendar()
    assert not calendar.is_open(berlin(2026, 12, 24, 10))  # the extra date
    assert not calendar.is_open(berlin(2026, 12, 25, 10))  # the holidays package's
    assert calendar.is_open(berlin(2026, 12, 19, 13))  # Saturday


def test_without_business_hours_clocks_run_around_the_clock() -> None:
    assert DeskConfig().business_hours is None
    assert isinstance(DeskConfig().calendar(), AroundTheClock)


def test_environment_and_toml_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPTHREAD_BUSINESS_HOURS__HOURS", "mon 09:00-10:00, tue 09:00-10:00")
    monkeypatch.setenv("HELPTHREAD_BUSINESS_HOURS__NOTIFY_OUTSIDE_HOURS", "false")
    config = load(tmp_path, monkeypatch, '[business_hours]\ntimezone = "Asia/Kolkata"\n'
                  "holidays = [2026-12-24]\n")  # a TOML date, unquoted
    section = config.business_hours
    assert section is not None and not section.notify_outside_hours
    assert section.hours == ("mon 09:00-10:00", "tue 09:00-10:00")
    assert section.holidays == ("2026-12-24",)


@pytest.mark.parametrize(("text", "message"), [
    ('[business_hours]\ntimezone = "Europe/Berln"\nhours = ["mon 09:00-17:00"]\n',
     "business_hours: timezone: 'Europe/Berln' is not a timezone"),
    ('[business_hours]\ntimezone = "UTC"\nhours = ["mon 17:00-09:00"]\n',
     "business_hours: hours: 'mon 17:00-09:00' runs past midnight"),
    ('[business_hours]\ntimezone = "UTC"\nhours = ["mon 09:00-17:00"]\nholidays_country = "ZZ"\n',
     "business_hours: holidays_country: 'ZZ' is not a country"),
    ('[business_hours]\ntimezone = "UTC"\n', r"business_hours\.hours: Field required"),
    ('[business_hours]\ntimezone = "UTC"\nhours = ["mon 09:00-17:00"]\nholiday = []\n',
     r"business_hours\.holiday: Extra inputs are not permitted"),
])
def test_bad_business_hours_stop_the_load_naming_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, monkeypatch, text)


# Every section of PRODUCT.md §10 is built: [transcripts] tests/unit/test_transcripts.py,
# [[faq]] tests/unit/test_deflection.py, [email] tests/unit/test_email_tokens.py.


def test_the_section_builds_its_calendar_once() -> None:
    section = BusinessHoursSection(timezone="Europe/Berlin", hours=("mon 09:00-17:00",))
    assert section.calendar() is section.calendar()
    assert section == BusinessHoursSection(timezone="Europe/Berlin", hours=("mon 09:00-17:00",))


SECTION_7_KEYS = PRODUCT_EXAMPLE + """
[lifecycle]
waiting_expires_after = "7d"     # durations: 90s, 15m, 8h, 5d
waiting_reminder_before = "1d"
resolved_closes_after = "3d"
close_request_after = "1d"
reopen_window = "14d"

[sla.urgent]                      # likewise [sla.high], [sla.normal], [sla.low]
first_response = "1h"
resolution = "8h"

[[categories]]
key = "refund"
name = "Refund"
fields = [
  { key = "receipt", label = "Receipt number", required = true, max_length = 40 },
  { key = "card_last4", label = "Last 4 digits of the card", sensitive = true, max_length = 4 },
]
sla = { urgent = { first_response = "30m" } }   # optional per-category targets
"""


def test_product_section_10s_service_level_keys_load(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """§10's lifecycle keys, targets and a category's own targets, as written there."""
    config = load(tmp_path, monkeypatch, SECTION_7_KEYS)
    assert config.lifecycle.waiting_reminder_before == timedelta(days=1)
    assert config.lifecycle.close_request_after == timedelta(days=1)
    assert config.targets("refund", "urgent").first_response == timedelta(minutes=30)
    assert config.targets("refund", "urgent").resolution == timedelta(hours=8)
