"""Where a period starts, as written after ``--since`` (``helpthread report``, ``helpthread
export``) or ``/ticket stats``: one parser for every command, so each takes the same forms.

- a duration back from now: ``7d``, ``30d``, ``12h``, ``2w`` (``core.durations``, at most
  3650d);
- a date ``YYYY-MM-DD``: from that UTC midnight;
- a date-time ``YYYY-MM-DDTHH:MM[:SS][±HH:MM]`` (ISO 8601): UTC when it names no offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from core.durations import parse_duration
from core.errors import Invalid

_DURATION = re.compile(r"\d+\s*[smhdw]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}.*")
FORMS = "7d, 30d, 90d, a date like 2026-01-31 or a date-time like 2026-01-31T09:00"


def parse_period(text: str, now: datetime) -> tuple[datetime, str]:
    """The start (UTC) and label (``30d``, ``since 2026-01-01``) of the period ``text``
    up to ``now`` (aware). Raises ``Invalid("period", …)`` naming what is wrong: a
    negative or zero duration, one longer than 3650d, a day that does not exist, a start
    in the future, or none of the forms above; ``text`` is named as it was written (its
    case kept)."""
    given = text.strip()  # echoed in messages as written; matched in lower case
    text = given.lower()
    if text.startswith("-") and (_DURATION.fullmatch(text[1:].strip())
                                 or _DATE.match(text[1:].strip())):
        raise Invalid("period", f"{given} is negative: write how far back, like "
                      f"{given[1:].strip()}")
    if _DURATION.fullmatch(text):
        try:
            return now - parse_duration(text), text
        except ValueError as err:  # zero, or longer than LONGEST: its message says so
            raise Invalid("period", str(err).replace(repr(text), given, 1)
                          .replace("'", "")) from err
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as err:
            raise Invalid("period", f"{given} is not a date") from err
        since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    elif _DATE_TIME.fullmatch(text):
        try:
            at = datetime.fromisoformat(text.upper())
        except ValueError as err:
            raise Invalid("period", f"{given} is not a date-time") from err
        since = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    else:
        raise Invalid("period", f"write it like {FORMS}")
    if since > now:
        raise Invalid("period", f"{given} is in the future")
    return since, f"since {text.upper() if 't' in text else text}"


__all__ = ["FORMS", "parse_period"]
