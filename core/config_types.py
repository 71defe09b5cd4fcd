"""The value types of the desk's configuration (``core.config``): durations written like
``90s``/``15m``/``8h``/``5d`` and held as ``timedelta``, priorities, one-line names,
and the base of every section (unknown keys refused, values frozen)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta
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


def _kind(value: Any) -> str:
    """What a TOML or JSON value is, in the words the config file's reader knows."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, date | time):
        return "a date or time"
    return type(value).__name__


def listed(what: str, example: str, items: tuple[type, ...] = (str,)) -> BeforeValidator:
    """The check of a list-typed key's shape, before its items are read: anything but a
    list (a bare string, say — else pydantic's "Input should be a valid tuple"), or an
    item not one of ``items``, raises ``ValueError`` saying what the key holds, with an
    ``example`` as written in the config file: ``write a list of {what}, e.g. {example}
    (not a string)``."""

    def check(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(f"write a list of {what}, e.g. {example} (not {_kind(value)})")
        for number, item in enumerate(value, 1):
            if not isinstance(item, items):
                raise ValueError(f"write a list of {what}, e.g. {example} (item {number} "
                                 f"is {_kind(item)})")
        return value

    return BeforeValidator(check)


TABLES = (dict, BaseModel)  # ``listed``'s items for a list of tables (or of models, in code)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamingKeys(ValueError):
    """A section's refusal that names keys the reader set (``email.smtp_port``):
    ``text`` holds ``{keys}`` where they go. ``str()`` lists them as dotted keys; the
    loader may list them instead by where each was set (``render``), a variable or the
    config file, which only it knows."""

    def __init__(self, text: str, keys: Sequence[str]) -> None:
        self.text, self.keys = text, tuple(keys)
        super().__init__(self.render(self.keys))

    def render(self, named: Sequence[str]) -> str:
        """The message with ``named`` (one entry a key, in ``keys``' order) in place."""
        return self.text.replace("{keys}", ", ".join(named))
