"""The stats report's queries (PRODUCT.md §4 ``/ticket stats``), on SQLite and PostgreSQL.

Agents only see stats, so nothing here filters by visibility. Counts are grouped in SQL
(openings per day and category, the backlog per category and assignee, breach events);
the rows a time is measured on — first responses and resolutions made in the period —
are read with the business time their SLA clock banked (``tickets.sla``, a JSON column:
``first_response_used`` / ``resolution_used`` seconds and the ``breached`` targets),
extracted in SQL, so a percentile is taken over the period's rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.events import EventKind
from core.store.sql import ACTIVE_VALUES, E, T

UNASSIGNED = ""  # the assignee key of the backlog nobody has taken


@dataclass(frozen=True, slots=True)
class Measured:
    """One first response or resolution made in the period: ``at`` (UTC) when it was
    made; ``seconds`` the time it took — the SLA clock's business time when the ticket
    has one (waiting/on-hold time excluded), else wall time since ``opened_at``; ``met``
    whether its target was not breached; ``rating`` the requester's (resolutions)."""

    at: datetime
    category: str
    assignee_key: str
    assignee_name: str
    seconds: float
    met: bool
    rating: str | None = None


@dataclass(frozen=True, slots=True)
class ReportRows:
    """What ``read_report_rows`` read: ``opened`` (day, category, assignee key, count),
    ``backlog`` (category, assignee key, count) of active tickets now, ``names`` the
    assignees' display names by key, ``breaches`` the ``sla_breached`` events in the
    period, the period's ``responses`` and ``resolutions``, and ``first_opened`` when
    the desk's first ticket was opened (UTC; None for an empty desk), where its per-day
    series can start."""

    opened: list[tuple[date, str, str, int]]
    backlog: list[tuple[str, str, int]]
    names: dict[str, str]
    breaches: int
    responses: list[Measured]
    resolutions: list[Measured]
    first_opened: datetime | None = None


def _day(dialect: str, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a stored time: SQLite keeps naive UTC text; PostgreSQL's
    ``date()`` of a ``timestamptz`` would use the session's time zone."""
    if dialect == "sqlite":
        return func.date(column)
    return func.date(func.timezone("UTC", column))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _within(column: ColumnElement[datetime], since: datetime,
            until: datetime) -> ColumnElement[bool]:
    return (column >= since) & (column <= until)


def _seconds(used: float | None, start: datetime, end: datetime) -> float:
    return float(used) if used is not None else max((end - start).total_seconds(), 0.0)


def _breached(value: Any, target: str) -> bool:
    return isinstance(value, list) and target in value


async def read_report_rows(conn: AsyncConnection, since: datetime,
                           until: datetime) -> ReportRows:
    """Everything the report for ``[since, until]`` (UTC) is computed from, read on
    ``conn`` (one read transaction). Memory grows with the period's first responses and
    resolutions, not with the desk."""
    dialect = conn.dialect.name
    assignee = func.coalesce(T.c.assignee_key, UNASSIGNED)
    day = _day(dialect, T.c.opened_at)
    opened_q = (select(day, T.c.category, assignee, func.count())
                .where(_within(T.c.opened_at, since, until))
                .group_by(day, T.c.category, assignee))
    opened = [(_as_date(d), str(c), str(a), int(n)) for d, c, a, n in
              await conn.execute(opened_q)]
    backlog_q = (select(T.c.category, assignee, func.count())
                 .where(T.c.status.in_(ACTIVE_VALUES)).group_by(T.c.category, assignee))
    backlog = [(str(c), str(a), int(n)) for c, a, n in await conn.execute(backlog_q)]
    breaches_q = (select(func.count()).select_from(E)
                  .where(E.c.kind == EventKind.SLA_BREACHED.value)
                  .where(_within(E.c.at, since, until)))
    breaches = int((await conn.execute(breaches_q)).scalar_one())
    names_q = (select(T.c.assignee_key, func.max(T.c.assignee_name))
               .where(T.c.assignee_key.is_not(None))
               .where(T.c.status.in_(ACTIVE_VALUES)
                      | _within(T.c.first_response_at, since, until)
                      | _within(T.c.resolved_at, since, until)
                      | _within(T.c.opened_at, since, until))
               .group_by(T.c.assignee_key))
    names = {str(k): str(n) for k, n in await conn.execute(names_q)}
    breached = T.c.sla["breached"]
    responses_q = select(T.c.first_response_at, T.c.opened_at, T.c.category, assignee,
                         T.c.sla["first_response_used"].as_float(), breached).where(
        _within(T.c.first_response_at, since, until))
    responses = [Measured(at, c, a, names.get(a, a), _seconds(used, opened_at, at),
                          not _breached(b, "first_response"))
                 for at, opened_at, c, a, used, b in await conn.execute(responses_q)]
    resolutions_q = select(T.c.resolved_at, T.c.opened_at, T.c.category, assignee,
                           T.c.sla["resolution_used"].as_float(), breached,
                           T.c.rating).where(_within(T.c.resolved_at, since, until))
    resolutions = [Measured(at, c, a, names.get(a, a), _seconds(used, opened_at, at),
                            not _breached(b, "resolution"), rating)
                   for at, opened_at, c, a, used, b, rating in
                   await conn.execute(resolutions_q)]
    first_opened = (await conn.execute(select(func.min(T.c.opened_at)))).scalar_one()
    return ReportRows(opened, backlog, names, breaches, responses, resolutions,
                      first_opened)
