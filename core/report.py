"""How the desk is doing (PRODUCT.md §4 ``/ticket stats``, ``helpthread report``): the
read model of a period's figures, for agents only.

Definitions, over the period ``[since, until]`` (UTC):

- **opened**: tickets opened in it; **resolved**: tickets whose (latest) resolution was
  made in it; **backlog**: tickets active now (open, in progress, waiting, on hold).
- **first response** and **resolution** times: of the first responses and resolutions
  made in it — the business time the ticket's SLA clock counted (``[business_hours]``
  where configured, around the clock otherwise; waiting and on-hold time excluded), or
  the wall time since opening for a ticket stored without a clock. Median and 90th
  percentile (linear interpolation between the closest ranks).
- **SLA met**: of those first responses and resolutions, the share whose target was not
  breached; **breaches**: SLA breach notices recorded in it (outstanding ones included).
- **satisfaction**: of the tickets resolved in it that their requester rated, the share
  rated good.
- **by agent**: by the ticket's assignee; the backlog nobody has taken is "unassigned".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core import policy
from core.clock import Clock
from core.config import DeskConfig
from core.identity import Actor
from core.periods import parse_period
from core.policy import Action
from core.store.port import StoreFactory
from core.store.report_sql import UNASSIGNED, Measured, ReportRows, read_report_rows
from core.store.sql import SqlStore
from core.tickets import Rating

DEFAULT_PERIOD = "30d"


@dataclass(frozen=True, slots=True)
class Times:
    """Durations in seconds: how many, their median and 90th percentile (None: none)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class Share:
    """``part`` of ``whole``; ``percent`` is None when ``whole`` is 0."""

    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return None if self.whole == 0 else 100.0 * self.part / self.whole


@dataclass(frozen=True, slots=True)
class Figures:
    """One line of the report: the whole desk, a category (``key`` its key) or an agent
    (``key`` the assignee's user key, ``UNASSIGNED`` for nobody)."""

    key: str
    name: str
    opened: int
    resolved: int
    backlog: int
    first_response: Times
    resolution: Times
    sla_met: Share
    satisfaction: Share


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day: tickets opened and resolved, and the median first-response and
    resolution times (seconds) of those made that day (None: none)."""

    day: date
    opened: int
    resolved: int
    first_response_median: float | None
    resolution_median: float | None


@dataclass(frozen=True, slots=True)
class Report:
    """The figures of ``[since, until]`` (UTC); ``label`` names the period as asked
    (``30d``, ``since 2026-01-01``); ``business_time`` is whether times count business
    hours (``[business_hours]`` configured)."""

    label: str
    since: datetime
    until: datetime
    business_time: bool
    total: Figures
    breaches: int
    by_category: tuple[Figures, ...]
    by_agent: tuple[Figures, ...]
    days: tuple[Day, ...]

    @property
    def span(self) -> str:
        """``2026-01-01 00:00 – 2026-01-31 09:30 UTC``: the period to the minute, the
        year in four digits (``strftime``'s ``%Y`` writes year 1 as ``1``)."""
        return f"{_minute(self.since)} – {_minute(self.until)} UTC"


def _minute(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(sep=" ", timespec="minutes")[:16]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0 ≤ q ≤ 1) of ``values``, interpolating linearly between the
    closest ranks (numpy's default; ``q=0.5`` is the median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def times(values: Sequence[float]) -> Times:
    return Times(len(values), percentile(values, 0.5), percentile(values, 0.9))


def short_duration(seconds: float | None) -> str:
    """``seconds`` as a chat-sized duration: ``45s``, ``12m``, ``3h 30m``, ``2d 4h``;
    ``–`` for None."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        rest = minutes % 60
        return f"{hours}h {rest}m" if rest else f"{hours}h"
    rest = hours % 24
    return f"{days}d {rest}h" if rest else f"{days}d"


def share_text(share: Share) -> str:
    """``83% (5/6)``, or ``–`` when there is nothing to count."""
    percent = share.percent
    return "–" if percent is None else f"{percent:.0f}% ({share.part}/{share.whole})"


def _figures(key: str, name: str, opened: int, backlog: int, responses: list[Measured],
             resolutions: list[Measured]) -> Figures:
    decided = responses + resolutions
    rated = [r.rating for r in resolutions if r.rating is not None]
    return Figures(
        key=key, name=name, opened=opened, resolved=len(resolutions), backlog=backlog,
        first_response=times([r.seconds for r in responses]),
        resolution=times([r.seconds for r in resolutions]),
        sla_met=Share(sum(m.met for m in decided), len(decided)),
        satisfaction=Share(sum(r == Rating.GOOD.value for r in rated), len(rated)),
    )


def _grouped(rows: ReportRows, group: int, names: dict[str, str]) -> tuple[Figures, ...]:
    """Figures by category (``group`` 1: the ``opened`` tuple's category) or by assignee
    (``group`` 2), every key that has anything, ordered by activity."""
    opened: dict[str, int] = defaultdict(int)
    backlog: dict[str, int] = defaultdict(int)
    responses: dict[str, list[Measured]] = defaultdict(list)
    resolutions: dict[str, list[Measured]] = defaultdict(list)
    for item in rows.opened:
        opened[str(item[group])] += item[3]
    for category, assignee, count in rows.backlog:
        backlog[category if group == 1 else assignee] += count
    for m in rows.responses:
        responses[m.category if group == 1 else m.assignee_key].append(m)
    for m in rows.resolutions:
        resolutions[m.category if group == 1 else m.assignee_key].append(m)
    keys = {*opened, *backlog, *responses, *resolutions}
    lines = [_figures(k, names.get(k, k), opened[k], backlog[k], responses[k],
                      resolutions[k]) for k in keys]
    lines.sort(key=lambda f: (-(f.opened + f.resolved + f.backlog), f.name))
    return tuple(lines)


def _days(rows: ReportRows, since: datetime, until: datetime) -> tuple[Day, ...]:
    """One ``Day`` per UTC day from the later of ``since`` and the desk's first ticket
    (``rows.first_opened``) to ``until``: a period asked from long ago (``--since
    0001-01-01``) costs the desk's days, not the calendar's. An empty desk: ``until``'s
    day alone."""
    opened: dict[date, int] = defaultdict(int)
    for day, _, _, count in rows.opened:
        opened[day] += count
    responded = _by_day(rows.responses)
    resolved = _by_day(rows.resolutions)
    last = until.astimezone(UTC).date()
    first = since.astimezone(UTC).date()
    if rows.first_opened is None:
        first = last
    else:
        first = max(first, rows.first_opened.astimezone(UTC).date())
    # Anything the period's rows hold (an imported ticket's resolution, say) stays shown.
    first = min([first, *opened, *responded, *resolved])
    days = []
    for n in range(max((last - first).days, 0) + 1):
        day = first + timedelta(days=n)
        days.append(Day(day, opened[day], len(resolved[day]),
                        percentile(responded[day], 0.5), percentile(resolved[day], 0.5)))
    return tuple(days)


def _by_day(measured: Iterable[Measured]) -> dict[date, list[float]]:
    found: dict[date, list[float]] = defaultdict(list)
    for m in measured:
        found[m.at.astimezone(UTC).date()].append(m.seconds)
    return found


def build_report(rows: ReportRows, config: DeskConfig, label: str, since: datetime,
                 until: datetime) -> Report:
    """The report of ``rows`` (read for ``[since, until]``, UTC); pure."""
    categories = {c.key: c.name for c in config.categories}
    agents = {**rows.names, UNASSIGNED: "unassigned"}
    total = _figures("", "All tickets", sum(n for *_, n in rows.opened),
                     sum(n for *_, n in rows.backlog), rows.responses, rows.resolutions)
    return Report(label=label, since=since, until=until,
                  business_time=config.business_hours is not None, total=total,
                  breaches=rows.breaches, by_category=_grouped(rows, 1, categories),
                  by_agent=_grouped(rows, 2, agents), days=_days(rows, since, until))


async def desk_report(config: DeskConfig, stores: StoreFactory, clock: Clock,
                      period: str = DEFAULT_PERIOD) -> Report:
    """The report of the period ``period`` (``parse_period``) up to now, read in one
    read-only transaction. No actor: for the operator's ``helpthread report``; chat asks
    through ``stats``. Raises ``Invalid`` for a bad period, ``Unavailable`` when the
    database fails, ``TypeError`` on a store that is not SQL."""
    now = clock.now()
    since, label = parse_period(period, now)
    async with stores.reading() as store:
        if not isinstance(store, SqlStore):
            raise TypeError("the report reads a SQL database")
        rows = await read_report_rows(store.conn, since, now)
    return build_report(rows, config, label, since, now)


async def stats(actor: Actor, config: DeskConfig, stores: StoreFactory, clock: Clock,
                period: str = DEFAULT_PERIOD) -> Report:
    """``/ticket stats [period]``: ``desk_report`` for an agent. Raises ``NotAllowed``
    for anyone else, and what ``desk_report`` raises."""
    policy.authorize(actor, Action.STATS, config)
    return await desk_report(config, stores, clock, period)


__all__ = ["Day", "Figures", "Report", "Share", "Times", "build_report", "desk_report",
           "parse_period", "percentile", "share_text", "short_duration", "stats"]
