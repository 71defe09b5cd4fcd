"""Business hours (placeholder until the calendar lands: clocks around the clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class Calendar(Protocol):
    def is_open(self, at: datetime) -> bool: ...
    def add(self, start: datetime, work: timedelta) -> datetime: ...
    def between(self, start: datetime, end: datetime) -> timedelta: ...
    def next_opening(self, at: datetime) -> datetime: ...
    def back_text(self, at: datetime) -> str: ...


class AroundTheClock:
    def is_open(self, at: datetime) -> bool:
        return True

    def add(self, start: datetime, work: timedelta) -> datetime:
        return start + work

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def next_opening(self, at: datetime) -> datetime:
        return at

    def back_text(self, at: datetime) -> str:
        return ""
