"""Durations as written in helpthread.toml: ``90s``, ``15m``, ``8h``, ``5d`` (PRODUCT.md §10)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST = timedelta(days=3650)  # ten years: any target or window longer is a typo
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse ``"<integer><unit>"`` with unit s, m, h, d or w, at most ``LONGEST``.

    Raises ``ValueError`` with a message that shows the accepted form.
    """
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 15m, 8h or 5d")
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    try:
        value = timedelta(seconds=amount * _UNITS[unit])
    except OverflowError as err:
        raise ValueError(f"{text!r} is too long a duration (at most 3650d)") from err
    if value > LONGEST:
        raise ValueError(f"{text!r} is too long a duration (at most 3650d)")
    return value


def format_duration(value: timedelta) -> str:
    """The shortest exact ``<n><unit>`` form of ``value`` (inverse of ``parse_duration``)."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_SPOKEN = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def spoken(value: timedelta) -> str:
    """``value``'s magnitude as people say it, in at most its two largest units, the
    smaller rounded to the nearest (half up), carrying into the larger: 47 h 59 m is
    ``2 days``, 47 h ``1 day 23 hours``, 90 s ``1 minute 30 seconds``. Every view says
    a due time and the time left the same way (a card's "in 2 days" and "2 days left"
    for one moment)."""
    seconds = abs(value.total_seconds())
    for i, (name, size) in enumerate(_SPOKEN):
        if seconds < size and size > 1:
            continue
        step = _SPOKEN[i + 1][1] if i + 1 < len(_SPOKEN) else 1
        rounded = int(seconds / step + 0.5) * step
        if i > 0 and rounded >= _SPOKEN[i - 1][1]:  # 23 h 59.6 m: a day
            return spoken(timedelta(seconds=rounded))
        big, small = divmod(rounded, size)
        words = [_unit(big, name)]
        if small:
            words.append(_unit(small // step, _SPOKEN[i + 1][0]))
        return " ".join(words)
    raise AssertionError("unreachable: the last unit takes any value")


def _unit(count: int, name: str) -> str:
    return f"{count} {name}{'' if count == 1 else 's'}"
