"""The value types of the desk's configuration (``core.config``): durations written like
``90s``/``15m``/``8h``/``5d`` and held as ``timedelta``, priorities, one-line names,
and the base of every section (unknown keys refused, values frozen)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from core.characters import first_control
from core.durations import format_duration, parse_duration


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("write a duration like 90s, 15m, 8h or 5d")


Duration = Annotated[
    timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)
]


Priority = Literal["low", "normal", "high", "urgent"]  # core.tickets.PRIORITIES


def _one_line(value: str) -> str:
    """A name the desk shows people (its own, a category's, a field's label): not blank,
    one line, no control characters — as for any one-line field a person types."""
    if not value.strip():
        raise ValueError("is blank")
    bad = first_control(value)
    if bad is not None:
        raise ValueError(f"contains a control character (U+{ord(bad):04X})")
    return value


Name = Annotated[str, AfterValidator(_one_line)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
