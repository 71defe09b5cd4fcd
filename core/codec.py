"""Frozen dataclasses ↔ plain JSON values, for event payloads and stored commands.

One small, strict codec rather than pickle: what is stored stays readable by
a migration and by another process version. Supported field types: ``str``,
``int``, ``float``, ``bool``, ``None``, aware ``datetime`` (ISO 8601 text),
``StrEnum`` subclasses, ``tuple[X, ...]``,
``Mapping[str, str]`` / ``dict[str, str]``, ``frozenset[str]`` and nested
dataclasses of those. Anything else raises ``TypeError`` when encoding.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses become dicts of their fields."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("cannot encode a naive datetime")
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(encode(item) for item in value)
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(cls: type[T], data: Mapping[str, Any]) -> T:
    """The dataclass ``cls`` from ``encode``'s output; missing fields take their defaults,
    unknown keys raise ``TypeError`` (a stored value we do not understand is a bug)."""
    hints = _hints(cls)  # type: ignore[arg-type]  # classes are hashable
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - known
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    values = {name: _value(hints[name], raw) for name, raw in data.items()}
    return cls(**values)


def _value(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(options[0], raw)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_value(item, v) for v in raw)
    if origin is frozenset:
        item = typing.get_args(hint)[0]
        return frozenset(_value(item, v) for v in raw)
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return {str(k): v for k, v in raw.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint is float:
        return float(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return decode(hint, raw)
    return raw
