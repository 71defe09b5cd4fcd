"""The export's file format (``helpthread export`` / ``import``): which tables a ticket
owns, how a row becomes JSON and back, and the CSV columns.

JSON lines, UTF-8, one JSON object a line:

- line 1, the header: ``{"helpthread_export": 1, "revision": "0006", "exported_at": …,
  "since": null, "sensitive": false}`` (``revision``: the exporting database's migration);
- one line per ticket, ascending by number: ``{"ticket": {column: value, …}, "bindings":
  [row, …], "events": […], …}`` — the ``tickets`` row and, under each table's name, every
  row of the tables the ticket owns (``owned_tables``), surrogate ids included (each row
  keeps its key, so the order of an array says nothing; events come in id order);
- ``{"table": NAME, "rows": […]}``: rows of tables no ticket owns (``inbound_keys``: their
  link to an event may be empty, and reading them per ticket would scan them all each
  batch), after the tickets, full exports only;
- the last line: ``{"end": {"tickets": N, "next_number": K}}`` — an export without it was
  cut short.

Values are the columns' own: text, integers, booleans, JSON as JSON, times as ISO 8601
UTC strings with microseconds (``2026-12-06T15:56:37.000000+00:00``). Tables and columns
are read from ``core.store.tables``, so a table or column added there is exported and
imported without a change here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, String, Table, Text
from sqlalchemy.sql.schema import ForeignKey

from core.config import DeskConfig
from core.store.tables import Base, UtcDateTime

FORMAT_VERSION = 1
TICKETS = "tickets"
# Desk-wide state that is not data to move: the ticket counter is set from the export's
# "next_number". Tables the database keeps in step by itself are not exported either —
# an import's inserts fill them: ``watchers`` (issue 12's search, migration 0007: a
# trigger copies ``tickets.watchers``), and any table whose ``info`` says ``derived``.
NOT_EXPORTED = frozenset({"counters", "alembic_version", "watchers"})


def _skipped(table: Table) -> bool:
    return table.name in NOT_EXPORTED or bool(table.info.get("derived"))


def table_named(name: str) -> Table:
    return Base.metadata.tables[name]


@dataclass(frozen=True)
class Owned:
    """A table whose rows belong to a ticket: ``column`` holds the ticket number directly
    (``via`` None), or references ``via``'s ``via_column`` (its key), a table whose
    ``via_ticket`` holds it (``thread_cursors.binding_id`` → ``bindings.id``)."""

    table: Table
    column: str
    via: Table | None = None
    via_column: str = ""
    via_ticket: str = ""


def _reference(fk: ForeignKey) -> tuple[str, str]:
    return fk.column.table.name, fk.column.name


def owned_tables() -> list[Owned]:
    """The tables a ticket owns (a link that is never NULL leads to it), in the order
    they insert (references first)."""
    found: dict[str, Owned] = {}
    for table in Base.metadata.sorted_tables:
        if table.name == TICKETS or _skipped(table):
            continue
        direct = via = None
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            if fk.parent.nullable:
                continue
            target, target_column = _reference(fk)
            if (target, target_column) == (TICKETS, "number"):
                direct = fk
            elif target in found and found[target].via is None and via is None:
                via = fk
        if direct is not None:
            found[table.name] = Owned(table, direct.parent.name)
        elif via is not None:
            parent = found[_reference(via)[0]]
            found[table.name] = Owned(table, via.parent.name, parent.table,
                                      _reference(via)[1], parent.column)
    return list(found.values())


def desk_tables() -> list[Table]:
    """The tables no ticket owns, in the order they insert."""
    owned = {o.table.name for o in owned_tables()}
    return [t for t in Base.metadata.sorted_tables
            if t.name != TICKETS and not _skipped(t) and t.name not in owned]


def exported_columns(table: Table) -> list[Column[Any]]:
    """Every stored column; computed (generated) ones are the database's own."""
    return [c for c in table.columns if c.computed is None]


# ---- values -------------------------------------------------------------------------

def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    raise TypeError(f"cannot export a {type(value).__name__}")


def dumps(value: object) -> str:
    """One JSON line (no newline): compact, UTF-8 text kept as written (control
    characters, line breaks included, are escaped, so a line never breaks)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


class BadValue(ValueError):
    """A value an import cannot store; ``str()`` names the table, column and why."""


Decoder = Callable[[Any], Any]
_JSON_TYPES = (dict, list, str, int, float, bool)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _decoder(table: Table, column: Column[Any], dialect: str) -> Decoder:
    """Checks one exported value and turns it into what the driver stores as is (the
    column type's own processing is skipped: ``core.store.import_write``): SQLite times as
    its stored text, PostgreSQL's as aware datetimes; JSON as JSON text."""
    where = f"{table.name}.{column.name}"
    nullable = bool(column.nullable)
    kind = column.type

    def refuse(value: Any, what: str) -> Any:
        if value is None:
            if nullable:
                return None
            raise BadValue(f"{where} may not be null")
        raise BadValue(f"{where}: {value!r} is not {what}")

    if isinstance(kind, UtcDateTime):
        def time(value: Any) -> Any:
            if type(value) is not str:
                return refuse(value, "an ISO 8601 time")
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise BadValue(f"{where}: {value!r} is not an ISO 8601 time") from None
            if parsed.tzinfo is None:
                raise BadValue(f"{where}: {value!r} has no UTC offset")
            parsed = parsed.astimezone(UTC)
            if dialect == "postgresql":
                return parsed
            # What SQLAlchemy's SQLite DATETIME stores for the naive UTC time.
            return parsed.replace(tzinfo=None).isoformat(" ", "microseconds")
        return time
    if isinstance(kind, Boolean):
        return lambda value: value if type(value) is bool else refuse(value, "true or false")
    if isinstance(kind, (Integer, BigInteger)):
        return lambda value: value if type(value) is int else refuse(value, "an integer")
    if isinstance(kind, (String, Text)):
        limit = getattr(kind, "length", None) or 0

        def text(value: Any) -> Any:
            if type(value) is not str:
                return refuse(value, "text")
            if limit and len(value) > limit:
                raise BadValue(f"{where}: longer than {limit} characters")
            if "\x00" in value:
                raise BadValue(f"{where}: holds a NUL character")
            broken = _SURROGATE.search(value)
            if broken:  # half of a UTF-16 pair: no database can store it as text
                raise BadValue(f"{where}: holds a broken character "
                               f"(U+{ord(broken.group()):04X})")
            return value
        return text
    if isinstance(kind, JSON):
        def json_text(value: Any) -> str:
            if value is not None and not isinstance(value, _JSON_TYPES):
                refuse(value, "JSON")
            return json.dumps(value)  # None as JSON null, as SQLAlchemy's JSON stores it
        return json_text
    # Another type (a search vector, say): stored as its text, as the export wrote it.
    return lambda value: value


@dataclass(frozen=True)
class RowReader:
    """Turns one exported row (a JSON object) back into a table's insert values, ready
    for the driver (``of(table, dialect)``): a dict keyed by column, in the order of
    ``decoders`` (the table's)."""

    table: Table
    decoders: Mapping[str, Decoder]
    missing: Mapping[str, Any]  # a left-out column's value, when it may be left out

    @classmethod
    def of(cls, table: Table, dialect: str) -> RowReader:
        decoders = {c.name: _decoder(table, c, dialect) for c in exported_columns(table)}
        missing = {}
        for column in exported_columns(table):
            if column.default is not None and column.default.is_scalar:
                missing[column.name] = decoders[column.name](
                    getattr(column.default, "arg", None))
            elif column.nullable and not column.primary_key:
                missing[column.name] = decoders[column.name](None)
        return cls(table, decoders, missing)

    def read(self, row: Any) -> dict[str, Any]:
        """Raises ``BadValue``: not an object, a column this table lacks, a bad value, a
        required column left out. A column with a default or NULL allowed takes that when
        left out (an export from an older schema)."""
        if type(row) is not dict:
            raise BadValue(f"a {self.table.name} row is not a JSON object")
        decoders = self.decoders
        if len(row) != len(decoders) or not row.keys() <= decoders.keys():
            unknown = row.keys() - decoders.keys()
            if unknown:
                raise BadValue(f"{self.table.name} has no column {sorted(unknown)[0]!r} "
                               "(an export from a newer helpthread?)")
            for name in decoders.keys() - row.keys():
                if name not in self.missing:
                    raise BadValue(f"{self.table.name}.{name} is missing")
            return {name: decode(row[name]) if name in row else self.missing[name]
                    for name, decode in decoders.items()}
        return {name: decode(row[name]) for name, decode in decoders.items()}


# ---- sensitive fields ---------------------------------------------------------------

@dataclass(frozen=True)
class SensitiveFields:
    """Category field keys declared ``sensitive`` (PRODUCT.md §2), per category; a ticket
    of a category the config no longer names loses every key sensitive anywhere."""

    by_category: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, config: DeskConfig) -> SensitiveFields:
        return cls({c.key: frozenset(f.key for f in c.fields if f.sensitive)
                    for c in config.categories})

    def keys(self, category: str) -> frozenset[str]:
        found = self.by_category.get(category)
        if found is not None:
            return found
        return frozenset().union(*self.by_category.values())

    def strip(self, ticket: dict[str, Any]) -> None:
        """Removes ``ticket``'s (a ``tickets`` row) sensitive fields in place."""
        fields = ticket.get("fields")
        if not fields:
            return
        hidden = self.keys(ticket["category"])
        if hidden and not hidden.isdisjoint(fields):
            ticket["fields"] = {k: v for k, v in fields.items() if k not in hidden}


# ---- CSV ----------------------------------------------------------------------------

CSV_COLUMNS = (
    "number", "subject", "description", "category", "priority", "status", "visibility",
    "requester", "requester_name", "requester_org", "assignee", "assignee_name", "account",
    "source", "locale", "escalation_level", "opened_at", "first_response_at",
    "first_response_due", "resolution_due", "resolved_at", "closed_at", "last_activity_at",
    "resolution", "rating", "rating_comment", "watchers", "links", "fields", "comments",
    "notes", "events",
)
_RENAMED = {"requester": "requester_key", "assignee": "assignee_key"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def csv_row(ticket: Mapping[str, Any], counts: Mapping[str, int]) -> list[str]:
    """``CSV_COLUMNS`` for one ``tickets`` row: times ISO 8601 UTC, empty for none;
    ``watchers`` their keys and ``links`` ``kind #N``, each joined by ``"; "``;
    ``fields`` a JSON object; ``comments``, ``notes``, ``events`` counts from ``counts``
    (by event kind)."""
    out = []
    for name in CSV_COLUMNS:
        if name == "watchers":
            out.append("; ".join(str(w[0]) for w in ticket.get("watchers") or []))
        elif name == "links":
            out.append("; ".join(f"{k} #{n}" for k, n in ticket.get("links") or []))
        elif name == "fields":
            out.append(dumps(ticket.get("fields") or {}))
        elif name == "comments":
            out.append(str(counts.get("commented", 0)))
        elif name == "notes":
            out.append(str(counts.get("noted", 0)))
        elif name == "events":
            out.append(str(sum(counts.values())))
        else:
            out.append(_cell(ticket.get(_RENAMED.get(name, name))))
    return out
