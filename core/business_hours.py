"""Business hours: when the desk is open, and how much business time lies between two
instants (PRODUCT.md §7, ``[business_hours]``). Pure: no I/O, no clock, no platform.

The definition everything here follows: an instant is **open** iff its local wall time
(``instant.astimezone(zone)``) falls in one of the windows of that local weekday and its
local date is not a holiday. Business time is the real elapsed time of the open instants,
so across DST changes:

- on a fall-back day a repeated wall-clock hour inside a window counts twice (the desk
  is open during both of them);
- a window touching a spring-forward gap simply has less time (09:00-17:00 on a day that
  skips 02:00-03:00 is unaffected; 01:00-05:00 that day is 3 hours).

Holidays close whole local days. The computation walks whole windows and days between
the zone's offset changes, never minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOKAHEAD = timedelta(days=5 * 366)
"""The longest closed stretch ``add`` and ``next_opening`` look across for open time
before they give up with ``ValueError`` (a calendar that never opens again)."""

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_UTC = UTC
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1)
_CHUNK = timedelta(hours=6)  # offset probes: no zone changes offset twice within this
_ENTRY = re.compile(r"(?P<days>[a-z][a-z,\- ]*?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*"
                    r"(?P<end>\d{1,2}:\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Window = tuple[timedelta, timedelta]
"""An open window of a local day: [start, end) as time since local midnight."""


class Calendar(Protocol):
    """What the SLA clocks need of a calendar: ``BusinessCalendar`` or ``AroundTheClock``.
    Every method takes aware datetimes (naive ones raise ``ValueError``) and returns
    aware UTC datetimes."""

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The first instant at which ``work`` of business time has passed since
        ``start``."""
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); zero when ``end <= start``."""
        ...

    def is_open(self, at: datetime) -> bool:
        """Whether the desk is open at ``at``."""
        ...

    def next_opening(self, at: datetime) -> datetime:
        """``at`` when open, else the next instant the desk opens."""
        ...

    def back_text(self, at: datetime) -> str:
        """"We're back …" for a ticket opened at ``at`` outside hours; "" when open."""
        ...


def _utc(value: datetime, name: str) -> datetime:
    """``value`` as a naive UTC datetime; ``ValueError`` when it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a timezone), not "
                         f"{value.isoformat()}")
    return value.astimezone(_UTC).replace(tzinfo=None)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=_UTC)


def _check_work(work: timedelta) -> None:
    if work < timedelta(0):
        raise ValueError(f"work must not be negative, not {work}")


class AroundTheClock:
    """The calendar without ``[business_hours]``: always open, business time is time."""

    def add(self, start: datetime, work: timedelta) -> datetime:
        """``start + work`` in UTC; ``ValueError`` for a naive ``start`` or negative work."""
        _check_work(work)
        return _aware(_utc(start, "start") + work)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """``end - start``, zero when ``end <= start``; ``ValueError`` for naive input."""
        return max(_utc(end, "end") - _utc(start, "start"), timedelta(0))

    def is_open(self, at: datetime) -> bool:
        """Always true; ``ValueError`` for a naive ``at``."""
        _utc(at, "at")
        return True

    def next_opening(self, at: datetime) -> datetime:
        """``at`` in UTC; ``ValueError`` for a naive ``at``."""
        return _aware(_utc(at, "at"))

    def back_text(self, at: datetime) -> str:
        """Always "" (never closed); ``ValueError`` for a naive ``at``."""
        _utc(at, "at")
        return ""

    def __repr__(self) -> str:
        return "AroundTheClock()"


class BusinessCalendar:
    """Weekly hours in one timezone, minus holidays (see the module's definition).

    ``timezone``: an IANA name. ``hours``: entries like ``"mon-fri 09:00-17:00"`` — days
    (``mon``, a range ``mon-fri``, a list ``mon,wed,fri``, or ``daily``), then one window
    whose end may be ``24:00``; entries naming the same day add windows (overlapping ones
    merge). ``holidays``: extra closed dates, ``YYYY-MM-DD``. ``holidays_country`` /
    ``holidays_subdivision``: the ``holidays`` package's public holidays, loaded a year
    at a time when first needed. Bad values raise ``ValueError`` naming the key and the
    value; so do hours that never open."""

    def __init__(self, *, timezone: str, hours: Iterable[str],
                 holidays: Iterable[str] = (), holidays_country: str | None = None,
                 holidays_subdivision: str | None = None) -> None:
        self.timezone = timezone
        self._zone = _zone(timezone)
        self._week = _parse_hours(hours)
        self._extra = _parse_dates(holidays)
        self._country = _check_country(holidays_country, holidays_subdivision)
        self._subdivision = holidays_subdivision
        self._years: dict[int, frozenset[date]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar(timezone={self.timezone!r})"

    # -- the public methods ---------------------------------------------------------------

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The first instant (aware UTC) at which ``work`` of business time has passed
        since ``start``: work ending exactly at a closing time gives that closing time,
        no work gives ``start``. ``ValueError`` for a naive ``start``, negative work, or
        a closed stretch of ``LOOKAHEAD`` before the work is done."""
        begin = _utc(start, "start")
        _check_work(work)
        if not work:
            return _aware(begin)
        left, moment = work, begin
        while True:  # a stretch of LOOKAHEAD at a time, until one has no open time at all
            spans = self._spans(moment, moment + LOOKAHEAD)
            opened = False
            for a, b in spans:
                if b - a >= left:
                    return _aware(a + left)
                left -= b - a
                opened = True
            if not opened:
                raise ValueError(f"{self!r} is closed for {LOOKAHEAD.days} days from "
                                 f"{_aware(moment).isoformat()}; it never opens again")
            moment += LOOKAHEAD

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); zero when ``end <= start``. ``ValueError`` for
        naive input."""
        lo, hi = _utc(start, "start"), _utc(end, "end")
        return sum((b - a for a, b in self._spans(lo, hi)), timedelta(0))

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` is open; ``ValueError`` for a naive ``at``."""
        return self._open_at(_utc(at, "at"))

    def next_opening(self, at: datetime) -> datetime:
        """``at`` (in UTC) when open, else the next instant the desk opens. ``ValueError``
        for a naive ``at`` or no opening within ``LOOKAHEAD``."""
        moment = _utc(at, "at")
        if self._open_at(moment):
            return _aware(moment)
        for a, _ in self._spans(moment, moment + LOOKAHEAD):
            return _aware(a)
        raise ValueError(f"{self!r} does not open within {LOOKAHEAD.days} days after "
                         f"{at.isoformat()}")

    def back_text(self, at: datetime) -> str:
        """For a ticket opened at ``at`` outside hours: "We're back Monday at 09:00
        (Europe/Berlin)"; "today" on the same local day; the date too when the opening is
        7 or more local days ahead ("Monday 4 January"). "" when ``at`` is open."""
        if self.is_open(at):
            return ""
        opening = self.next_opening(at).astimezone(self._zone)
        days = (opening.date() - at.astimezone(self._zone).date()).days
        when = "today" if days == 0 else _WEEKDAYS[opening.weekday()]
        if days >= 7:
            when += f" {opening.day} {_MONTHS[opening.month - 1]}"
        return f"We're back {when} at {opening:%H:%M} ({self.timezone})"

    # -- the walk ---------------------------------------------------------------------------

    def _open_at(self, moment: datetime) -> bool:
        local = _aware(moment).astimezone(self._zone)
        if self._is_holiday(local.date()):
            return False
        since_midnight = timedelta(hours=local.hour, minutes=local.minute,
                                   seconds=local.second, microseconds=local.microsecond)
        return any(s <= since_midnight < e for s, e in self._week[local.weekday()])

    def _spans(self, start: datetime, stop: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open time in [start, stop) (naive UTC) as ascending, disjoint, non-empty
        intervals [a, b); a window cut by an offset change comes as two."""
        moment = start
        while moment < stop:
            offset = self._offset(moment)
            end = self._offset_holds_until(moment, offset, stop)
            yield from self._spans_at(moment, end, offset)
            moment = end

    def _spans_at(self, start: datetime, stop: datetime,
                  offset: timedelta) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals within [start, stop), over which the zone's offset is
        ``offset``: local wall time is UTC + offset throughout."""
        day = (start + offset).date()
        last = (stop + offset - timedelta(microseconds=1)).date()
        while day <= last:
            if not self._is_holiday(day):
                midnight = datetime.combine(day, time()) - offset  # in UTC
                for s, e in self._week[day.weekday()]:
                    a, b = max(start, midnight + s), min(stop, midnight + e)
                    if a < b:
                        yield a, b
            day += _DAY

    def _offset(self, moment: datetime) -> timedelta:
        offset = _aware(moment).astimezone(self._zone).utcoffset()
        assert offset is not None  # a ZoneInfo always has one
        return offset

    def _offset_holds_until(self, moment: datetime, offset: timedelta,
                            stop: datetime) -> datetime:
        """The end of the stretch from ``moment`` (at most ``_CHUNK`` long, at most
        ``stop``) over which the offset stays ``offset``: the next offset change, found
        by bisection on whole seconds (tz data changes offsets on whole seconds)."""
        probe = min(moment + _CHUNK, stop)
        if self._offset(probe) == offset:
            return probe
        lo = (moment - _EPOCH) // _SECOND
        hi = -((_EPOCH - probe) // _SECOND)  # ceil
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset(_EPOCH + mid * _SECOND) == offset:
                lo = mid
            else:
                hi = mid
        return min(_EPOCH + hi * _SECOND, probe)

    def _is_holiday(self, day: date) -> bool:
        if day in self._extra:
            return True
        if self._country is None:
            return False
        found = self._years.get(day.year)
        if found is None:
            found = frozenset(holidays_package.country_holidays(
                self._country, subdiv=self._subdivision, years=day.year).keys())
            self._years[day.year] = found
        return day in found


# -- reading the keys ------------------------------------------------------------------------


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"timezone: {name!r} is not a timezone; write an IANA name like "
                         "'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"timezone: {name!r} is not a timezone the tz database knows; "
                         "write an IANA name like 'Europe/Berlin'") from None


def _parse_hours(entries: Iterable[str]) -> tuple[tuple[Window, ...], ...]:
    """One tuple of merged, sorted windows per weekday (Monday first)."""
    if isinstance(entries, str) or not isinstance(entries, Iterable):
        raise ValueError(f"hours: {entries!r} is not a list; write a list of entries like "
                         "['mon-fri 09:00-17:00']")
    given = list(entries)
    week: list[list[Window]] = [[] for _ in DAYS]
    for entry in given:
        if not isinstance(entry, str):
            raise ValueError(f"hours: {entry!r} is not text like 'mon-fri 09:00-17:00'")
        found = _ENTRY.fullmatch(entry.strip().lower())
        if found is None:
            raise ValueError(f"hours: {entry!r} is not like 'mon-fri 09:00-17:00' (days, "
                             "then one window HH:MM-HH:MM)")
        days = _parse_days(found["days"], entry)
        start = _parse_clock(found["start"], entry, end=False)
        end = _parse_clock(found["end"], entry, end=True)
        if end == start:
            raise ValueError(f"hours: {entry!r} is an empty window; its end must be after "
                             "its start")
        if end < start:
            raise ValueError(
                f"hours: {entry!r} runs past midnight; write it as two entries, "
                f"'{_days_text(days)} {found['start']}-24:00' and "
                f"'{_days_text({(d + 1) % 7 for d in days})} 00:00-{found['end']}'")
        for day in days:
            week[day].append((start, end))
    merged = tuple(_merge(windows) for windows in week)
    if not any(merged):
        raise ValueError(f"hours: {given!r} opens at no time at all; give at least one "
                         "entry like 'mon-fri 09:00-17:00'")
    return merged


def _parse_days(text: str, entry: str) -> set[int]:
    words = text.replace(" ", "")
    if words == "daily":
        return set(range(7))
    days: set[int] = set()
    for item in words.split(","):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            bad = first if first not in DAYS else last
            raise ValueError(f"hours: {entry!r}: {bad!r} is not a day; write mon … sun, a "
                             "range like mon-fri, a list like mon,wed,fri, or daily")
        a = DAYS.index(first)
        b = DAYS.index(last) if last else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))  # fri-mon wraps
    return days


def _parse_clock(text: str, entry: str, *, end: bool) -> timedelta:
    hour, minute = (int(part) for part in text.split(":"))
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not end)):
        limit = "00:00-24:00" if end else "00:00-23:59"
        raise ValueError(f"hours: {entry!r}: {text!r} is not a time of day ({limit})")
    return timedelta(hours=hour, minutes=minute)


def _merge(windows: list[Window]) -> tuple[Window, ...]:
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _days_text(days: set[int]) -> str:
    """``{0, 1, 2, 3, 4}`` as ``mon-fri``; runs around Sunday stay together (``sun-mon``)."""
    if len(days) == 7:
        return "daily"
    parts = []
    for first in sorted(d for d in days if (d - 1) % 7 not in days):
        last = first
        while (last + 1) % 7 in days:
            last = (last + 1) % 7
        parts.append(DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}")
    return ",".join(parts)


def _parse_dates(values: Iterable[str]) -> frozenset[date]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValueError(f"holidays: {values!r} is not a list; write a list of dates like "
                         "['2026-12-24']")
    dates = set()
    for value in values:
        try:
            if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
                raise ValueError
            dates.add(date.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"holidays: {value!r} is not a date; write it as YYYY-MM-DD, "
                             "e.g. '2026-12-24'") from None
    return frozenset(dates)


def _check_country(country: str | None, subdivision: str | None) -> str | None:
    """The country code the ``holidays`` package knows (upper case), or None."""
    if country is None:
        if subdivision is not None:
            raise ValueError(f"holidays_subdivision: {subdivision!r} needs holidays_country "
                             "(the country it belongs to)")
        return None
    supported = holidays_package.list_supported_countries()
    code = country.strip().upper() if isinstance(country, str) else ""
    if code not in supported:
        raise ValueError(f"holidays_country: {country!r} is not a country the holidays "
                         "package knows; write an ISO 3166 code like 'DE' or 'US'")
    if subdivision is not None:
        try:
            holidays_package.country_holidays(code, subdiv=subdivision, years=())
        except (NotImplementedError, ValueError, TypeError):
            known = ", ".join(supported[code]) or "none"
            raise ValueError(f"holidays_subdivision: {subdivision!r} is not a subdivision "
                             f"of {code} (known: {known})") from None
    return code
