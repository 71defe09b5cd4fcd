"""What an imported row must hold beyond its column types: enumerated columns one of
their enum's values, user keys ``platform:workspace:id``, text what the desk takes on the
way in (``core.validation``: one-line fields on one line, no control characters; names
as ``core.identity.display_name`` keeps them), JSON columns the shape the store reads
back (``core.store.rows``, ``core.store.timers_sql``) — event data the payload its kind
expects, decoded by ``core.codec`` as the store decodes it, and every value of the type
the payload declares. A row that passes reads back without an error.

``check_row(table, row)`` raises ``BadValue`` naming ``table.column`` and why.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from core import codec, commands
from core.errors import Invalid
from core.events import PAYLOAD_OF, Audience, EventKind
from core.identity import name_problem
from core.routing import DeliveryState, Purpose, Target
from core.store.export_format import BadValue
from core.tickets import PRIORITIES, LinkKind, Rating, SlaClock, Status, Visibility
from core.timers import TimerKind
from core.validation import refuse_controls, shown

Check = Callable[[Any, Mapping[str, Any]], None]  # (value, the whole row); ValueError


def _one_of(kind: type[enum.Enum] | tuple[str, ...]) -> Check:
    values = tuple(m.value for m in kind) if isinstance(kind, type) else kind

    def check(value: Any, row: Mapping[str, Any]) -> None:
        if value is not None and value not in values:
            raise ValueError(f"{value!r} is not one of {', '.join(values)}")
    return check


def _text(*, multiline: bool) -> Check:
    """Text as the desk takes it on the way in (``core.validation``): a one-line field
    (a subject, a category field) on one line without control or format characters;
    multi-line text (a description, a comment) without controls but its line breaks and
    tabs. Lengths and emptiness are the columns' own checks."""
    def check(value: Any, row: Mapping[str, Any]) -> None:
        if isinstance(value, str):
            _refused(value, multiline)
    return check


def _refused(value: str, multiline: bool) -> None:
    try:
        refuse_controls("", value, multiline)
    except Invalid as err:
        raise ValueError(f"{shown(value)} {err.reason}") from None


def _name(value: Any, row: Mapping[str, Any]) -> None:
    """A display name as ``core.identity.display_name`` keeps it."""
    why = name_problem(value) if isinstance(value, str) else None
    if why is not None:
        raise ValueError(f"{shown(value)} {why}")


def _user_key(value: Any, row: Mapping[str, Any]) -> None:
    if value is not None and (not isinstance(value, str) or value.count(":") < 2):
        raise ValueError(f"{value!r} is not a user key (platform:workspace:id)")


@functools.cache
def _values(kind: type[enum.Enum]) -> frozenset[Any]:
    return frozenset(m.value for m in kind)


def _hashable(value: Any) -> bool:
    return not isinstance(value, list | dict)


def _conforms(hint: Any, value: Any) -> bool:
    """Whether ``value`` (JSON) is what ``codec.decode`` should turn into ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(arg, value) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    if origin in (tuple, frozenset):
        item = typing.get_args(hint)[0]
        return isinstance(value, list) and all(_conforms(item, v) for v in value)
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _hashable(value) and value in _values(hint)
    if hint is datetime:
        if not isinstance(value, str):
            return False
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, dict) and _fields_conform(hint, value) is None
    return False


@functools.cache
def _fields_of(cls: type[Any]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type hint, required) of each field of the dataclass ``cls``; resolving the
    hints is costly (``get_type_hints`` compiles each annotation), so once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name], f.default is dataclasses.MISSING
                  and f.default_factory is dataclasses.MISSING)
                 for f in dataclasses.fields(cls))


def _fields_conform(cls: type[Any], data: Mapping[str, Any]) -> str | None:
    """Why ``data`` is not the dataclass ``cls`` as ``codec.encode`` writes it, or None."""
    for name, hint, required in _fields_of(cls):  # type: ignore[arg-type]  # hashable
        if name not in data:
            if required:
                return f"{name!r} is missing"
        elif not _conforms(hint, data[name]):
            return f"{name!r} is {data[name]!r}, not a {_named(hint)}"
    return None


def _named(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _decoded(cls: type[Any], data: Any, what: str) -> None:
    """``data`` decodes as ``cls`` with ``core.codec``, every field of its declared type."""
    if not isinstance(data, dict):
        raise ValueError(f"{data!r} is not a JSON object ({what})")
    try:
        codec.decode(cls, data)
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise ValueError(f"not {what}: {err}") from None
    why = _fields_conform(cls, data)
    if why is not None:
        raise ValueError(f"not {what}: {why}")


_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_PAYLOADS = {k.value: PAYLOAD_OF[k] for k in EventKind}


def _event_data(value: Any, row: Mapping[str, Any]) -> None:
    kind = row.get("kind")
    payload = _PAYLOADS.get(kind) if isinstance(kind, str) else None
    if payload is None:
        return  # ``events.kind`` is refused on its own
    _decoded(payload, value, f"the data of an event of kind {kind!r}")
    _no_controls(value, "")


def _no_controls(value: Any, where: str) -> None:
    """No text anywhere in ``value`` (event data: names and texts alike) holds what
    neither a name nor multi-line text may: a control character but a line break or a
    tab, or a lone surrogate."""
    if isinstance(value, dict):
        for key, item in value.items():
            _no_controls(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_controls(item, f"{where}[{index}]")
    elif isinstance(value, str):
        found = _UNSAFE.search(value)
        if found:
            raise ValueError(f"{where}: {shown(value)} contains a control character "
                             f"(U+{ord(found.group()):04X})")


def _sla(value: Any, row: Mapping[str, Any]) -> None:
    if value is not None:
        _decoded(SlaClock, value, "SLA clocks")


def _fields(value: Any, row: Mapping[str, Any]) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{value!r} is not a JSON object of texts")
    for key, text in value.items():  # category fields are one-line form fields
        try:
            _refused(key, multiline=False)
            _refused(text, multiline=False)
        except ValueError as err:
            raise ValueError(f"{key!r}: {err}") from None


def _watchers(value: Any, row: Mapping[str, Any]) -> None:
    if not isinstance(value, list):
        raise ValueError(f"{value!r} is not a list of [key, name] pairs")
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)):
            raise ValueError(f"{pair!r} is not a [key, name] pair")
        _user_key(pair[0], row)
        _name(pair[1], row)


def _links(value: Any, row: Mapping[str, Any]) -> None:
    kinds = _values(LinkKind)
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and p[0] in kinds
            and isinstance(p[1], int) and not isinstance(p[1], bool) for p in value):
        raise ValueError(f"{value!r} is not a list of [kind, number] pairs (kinds: "
                         f"{', '.join(sorted(kinds))})")


def _command(value: Any, row: Mapping[str, Any]) -> None:
    if not isinstance(value, dict) or value.get("command") not in commands.BY_NAME \
            or value["command"] == commands.NAMES[commands.OpenTicket]:
        raise ValueError(f"{value!r} is not a stored command")
    fields = {k: v for k, v in value.items() if k != "command"}
    _decoded(commands.BY_NAME[value["command"]], fields, f"a {value['command']!r} command")


ONE_LINE, MULTILINE = _text(multiline=False), _text(multiline=True)
CHECKS: dict[str, dict[str, Check]] = {
    "tickets": {
        "status": _one_of(Status), "visibility": _one_of(Visibility),
        "priority": _one_of(PRIORITIES), "rating": _one_of(Rating),
        "requester_key": _user_key, "assignee_key": _user_key, "fields": _fields,
        "watchers": _watchers, "links": _links, "sla": _sla,
        "subject": ONE_LINE, "category": ONE_LINE, "account": ONE_LINE,
        "requester_org": ONE_LINE, "description": MULTILINE, "resolution": MULTILINE,
        "rating_comment": MULTILINE, "requester_name": _name, "assignee_name": _name,
    },
    "bindings": {"audience": _one_of(Audience)},
    "events": {"kind": _one_of(EventKind), "audience": _one_of(Audience),
               "actor_key": _user_key, "data": _event_data, "actor_name": _name,
               "body": MULTILINE},
    "deliveries": {"target": _one_of(Target), "audience": _one_of(Audience),
                   "purpose": _one_of(Purpose), "state": _one_of(DeliveryState)},
    "read_marks": {"reader_key": _user_key},
    "timers": {"kind": _one_of(TimerKind), "command": _command},
}


def check_row(table: str, row: Mapping[str, Any]) -> None:
    """Raises ``BadValue`` (``table.column: why``) for the first value of ``row`` (an
    exported row, its column types already checked) the desk could not read back."""
    for column, check in CHECKS.get(table, {}).items():
        if column not in row:
            continue
        try:
            check(row[column], row)
        except ValueError as err:
            raise BadValue(f"{table}.{column}: {err}") from None
