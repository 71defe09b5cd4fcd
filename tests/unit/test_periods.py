"""``core.periods.parse_period`` names a wrong period as it was written: its case kept
(``--since 2026-12-07T25:00`` was echoed as ``2026-12-07t25:00``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import Invalid
from core.periods import parse_period

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("written", "reason"), [
    ("2026-12-07T25:00", "2026-12-07T25:00 is not a date-time"),
    ("2026-12-07 25:00Z", "2026-12-07 25:00Z is not a date-time"),
    ("2026-06-02T09:00Z", "2026-06-02T09:00Z is in the future"),
    ("-5D", "-5D is negative: write how far back, like 5D"),
    ("3651D", "3651D is too long a duration (at most 3650d)"),
    ("0W", "0W must be longer than zero"),
    ("  2026-02-30  ", "2026-02-30 is not a date"),
    ("3651d", "3651d is too long a duration (at most 3650d)"),
    ("-5d", "-5d is negative: write how far back, like 5d"),
    ("0d", "0d must be longer than zero"),
    ("2999-01-01", "2999-01-01 is in the future"),
])
def test_a_wrong_period_is_named_as_written(written: str, reason: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse_period(written, NOW)
    assert raised.value.reason == reason


def test_upper_case_forms_are_still_taken() -> None:
    assert parse_period("2026-05-01T09:30Z", NOW) == (
        datetime(2026, 5, 1, 9, 30, tzinfo=UTC), "since 2026-05-01T09:30Z")
    assert parse_period("7D", NOW)[1] == "7d"
