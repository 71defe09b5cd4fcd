"""The export's JSON written by the database itself: each row as a JSON object, each
ticket's rows of a table as one JSON array (SQLite ``json_object``/``json_group_array``,
PostgreSQL ``row_to_json``/``string_agg``), so Python only joins text — decoding
and re-encoding every value in Python would cap the export far below its target
(bench/export.py). On PostgreSQL the database writes each ticket's whole line
(``ticket_lines_sql``: one prepared statement a batch, one string a ticket), sensitive
fields stripped in SQL. Values as ``core.store.export_format`` defines them: times ISO
8601 UTC with microseconds (``2026-12-06T15:56:37.000000+00:00``), booleans ``true``/
``false``, JSON columns as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Table,
    Text,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, array
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import JSON

from core.store.export_format import Owned, SensitiveFields, exported_columns
from core.store.tables import UtcDateTime

PG_TIME: ColumnElement[Any] = literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'""")


def _quoted(text: str) -> ColumnElement[Any]:
    assert "'" not in text  # table and column names from core.store.tables
    return literal_column(f"'{text}'")


def _value(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        if dialect == "postgresql":
            return func.to_char(func.timezone(_quoted("UTC"), column), PG_TIME)
        return func.replace(column, _quoted(" "), _quoted("T")).op("||")(_quoted("+00:00"))
    if dialect == "postgresql":
        return column
    if isinstance(kind, Boolean):
        return func.json(case((column == 1, _quoted("true")), (column == 0, _quoted("false"))))
    if isinstance(kind, JSON):
        return func.json(column)
    return column


def row_object(table: Table, dialect: str) -> ColumnElement[Any]:
    """One row of ``table`` as a JSON object (exported columns, in table order). On
    PostgreSQL it names the ``LATERAL`` subquery ``row_values(table)`` that a statement
    using it must join."""
    if dialect == "postgresql":  # as text: the driver would decode json into a dict
        return cast(func.row_to_json(literal_column(_row_name(table))), Text)
    pairs: list[ColumnElement[Any]] = []
    for column in exported_columns(table):
        pairs += [_quoted(column.name), _value(column, dialect)]
    return func.json_object(*pairs, type_=Text)


def _row_name(table: Table) -> str:
    return f"{table.name}_json"


def row_values(table: Table, replaced: Mapping[str, ColumnElement[Any]] | None = None
               ) -> Any:
    """PostgreSQL: ``table``'s exported columns as the export writes them (a column named
    in ``replaced`` as the expression given there), a ``LATERAL`` subquery whose row
    ``row_to_json`` turns into the object: it looks each column's type up once per
    statement, where ``json_build_object`` (variadic ``any``) did so for every value — a
    third of the export's time in the database."""
    replaced = replaced or {}
    return (select(*[replaced.get(c.name, _value(c, "postgresql")).label(c.name)
                     for c in exported_columns(table)])
            .correlate(table).lateral(_row_name(table)))


def _with_row(statement: Any, table: Table, dialect: str) -> Any:
    return statement.join(row_values(table), true()) if dialect == "postgresql" else statement


def tickets_json(table: Table, dialect: str, after: int, high: int,
                 since: Any = None) -> Any:
    """(number, category, row as JSON text) of the tickets numbered above ``after`` up to
    ``high`` (opened at or after ``since``), ascending."""
    statement = _with_row(select(table.c.number, table.c.category,
                                 row_object(table, dialect).label("row")).select_from(table),
                          table, dialect)
    if since is not None:
        statement = statement.where(table.c.opened_at >= since)
    return (statement.where(table.c.number > after, table.c.number <= high)
            .order_by(table.c.number))


def owned_json(owned: Owned, dialect: str, low: Any, high: Any) -> Any:
    """(ticket number, JSON array of its rows in key order) for the tickets numbered
    above ``low`` up to ``high`` (numbers, or SQL expressions) that have rows in
    ``owned``."""
    table = owned.table
    key = list(table.primary_key.columns)
    if owned.via is None:
        number: ColumnElement[Any] = table.c[owned.column]
        source: Any = table
    else:
        number = owned.via.c[owned.via_ticket]
        source = table.join(owned.via,
                            owned.via.c[owned.via_column] == table.c[owned.column])
    in_range = (number > low) & (number <= high)
    if dialect == "postgresql":
        joined = func.string_agg(row_object(table, dialect),
                                 aggregate_order_by(_quoted(","), *key))
        array = _quoted("[").op("||")(joined).op("||")(_quoted("]"))
        return (_with_row(select(number.label("n"), array.label("rows")).select_from(source),
                          table, dialect).where(in_range).group_by(number))
    # SQLite groups along each table's ticket index without sorting (a row keeps its
    # id, so its place in the array is moot); json_object's result goes in as JSON.
    return (select(number.label("n"),
                   func.json_group_array(row_object(table, dialect)).label("rows"))
            .select_from(source).where(in_range).group_by(number))


def stripped_fields(table: Table, hide: SensitiveFields) -> ColumnElement[Any] | None:
    """PostgreSQL: ``table.fields`` (a ticket's category fields) without the keys ``hide``
    names for the ticket's category — the remaining object as ``jsonb`` writes it, the
    stored text when it holds none of them; None when no category has a sensitive
    field."""
    fields, category = table.c.fields, table.c.category
    stored = cast(fields, JSONB)

    def strip(keys: frozenset[str]) -> tuple[ColumnElement[bool], ColumnElement[Any]]:
        names = array([literal(k, Text) for k in sorted(keys)])
        return ((func.json_typeof(fields) == literal("object", Text)) & stored.has_any(names),
                cast(stored.op("-")(names), JSON))

    anywhere = frozenset().union(*hide.by_category.values())
    if not anywhere:
        return None
    whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
    for key, keys in sorted(hide.by_category.items()):
        if keys:
            holds, without = strip(keys)
            whens.append(((category == literal(key, Text)) & holds, without))
    if hide.by_category:  # a known category holding none of its own: kept as stored
        whens.append((category.in_(sorted(hide.by_category)), fields))
    whens.append(strip(anywhere))  # a category the config no longer names
    return case(*whens, else_=fields)


AFTER, HIGH, SINCE = "$1", "$2", "$3"  # ticket_lines_sql's parameters, in this order


def ticket_lines(table: Table, owned: list[Owned], hidden: ColumnElement[Any] | None,
                 since: bool) -> Any:
    """PostgreSQL: each ticket as its whole export line (no newline) —
    ``{"ticket":{…},"bindings":[…],…}``, a key per table of ``owned`` — numbered above
    ``AFTER`` up to ``HIGH`` (opened at or after ``SINCE`` if ``since``), ascending;
    ``hidden``: the ``fields`` to write instead of the stored ones (``stripped_fields``)."""
    after: ColumnElement[Any] = literal_column(AFTER)
    high: ColumnElement[Any] = literal_column(HIGH)
    values = row_values(table, None if hidden is None else {"fields": hidden})
    source: Any = table.join(values, true())
    parts = [_quoted('{"ticket":'), row_object(table, "postgresql")]
    for part in owned:
        arrays = owned_json(part, "postgresql", after, high).subquery(f"{part.table.name}_rows")
        source = source.outerjoin(arrays, arrays.c.n == table.c.number)
        parts += [_quoted(f',"{part.table.name}":'), func.coalesce(arrays.c.rows, _quoted("[]"))]
    parts.append(_quoted("}"))
    line = parts[0]
    for part_text in parts[1:]:
        line = line.op("||")(part_text)
    statement = (select(line.label("line")).select_from(source)
                 .where(table.c.number > after, table.c.number <= high))
    if since:
        statement = statement.where(table.c.opened_at >= literal_column(f"{SINCE}::timestamptz"))
    return statement.order_by(table.c.number)


def ticket_lines_sql(dialect: Dialect, table: Table, owned: list[Owned],
                     hidden: ColumnElement[Any] | None, since: bool) -> str:
    """``ticket_lines`` as the SQL text the driver prepares once and runs for every batch
    with its parameters ``$1`` (after), ``$2`` (high) and, if ``since``, ``$3`` (an aware
    datetime); every other value in it is a literal (the sensitive keys, ``Text``). Built
    once per export: building and compiling the statement for each batch cost more
    client time than reading the batch."""
    statement = ticket_lines(table, owned, hidden, since)
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
