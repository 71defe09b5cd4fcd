"""``helpthread report``: the stats report (PRODUCT.md §4, §9) for the operator — printed
as a table, the chart as a PNG file, and a self-contained HTML page (inline CSS, the
chart as a ``data:`` URI, no scripts, every name escaped)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape

from adapters.shell.stats import COLUMNS, heading
from bot.runtime import migrate_existing
from bot.settings import Settings
from core.clock import SystemClock
from core.config import DeskConfig
from core.periods import parse_period
from core.report import Figures, Report, desk_report, share_text, short_duration
from core.report_chart import chart_png
from core.store.engine import make_engine
from core.store.sql import SqlStores

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem;
       color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
p.period { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d1d9e0; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f6f8fa; }
tr.group th { background: #eef1f4; text-align: left; }
img { max-width: 100%; border: 1px solid #d1d9e0; }
"""
# Nothing but the inline style and the embedded chart may load, and no script runs.
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
ALT = "Tickets opened and resolved per day, and the median response times"


@dataclass(frozen=True)
class Made:
    report: Report
    png: bytes


async def make(settings: Settings, config: DeskConfig, since: str) -> Made:
    """The report of ``since`` (``7d``, ``30d``, a date…) up to now and its chart.
    Migrates the database first, which must exist (``migrate_existing``); raises
    ``core.errors.Invalid`` for a bad period (before anything is opened), ``Unavailable``
    when the database fails."""
    parse_period(since, SystemClock().now())
    await migrate_existing(settings.database_url, "report")
    engine = make_engine(settings.database_url)
    try:
        report = await desk_report(config, SqlStores(engine), SystemClock(), since)
    finally:
        await engine.dispose()
    return Made(report, chart_png(report, title=config.desk.name))


def _row(f: Figures) -> str:
    cells = (str(f.opened), str(f.resolved), str(f.backlog),
             short_duration(f.first_response.median), short_duration(f.first_response.p90),
             short_duration(f.resolution.median), short_duration(f.resolution.p90),
             share_text(f.sla_met), share_text(f.satisfaction))
    return (f"<tr><th scope=\"row\">{escape(f.name)}</th>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")


def html(made: Made, desk_name: str) -> str:
    """The report as one HTML page that needs nothing else: no scripts, no remote
    assets; names (categories, agents, the desk's) escaped."""
    report = made.report
    head = "".join(f"<th scope=\"col\">{escape(c)}</th>" for c in COLUMNS)
    rows = [_row(report.total)]
    for title, lines in (("By category", report.by_category), ("By agent", report.by_agent)):
        if lines:
            rows.append(f"<tr class=\"group\"><th colspan=\"{len(COLUMNS)}\">{title}</th></tr>")
            rows += [_row(line) for line in lines]
    chart = base64.b64encode(made.png).decode("ascii")
    title = f"{desk_name}: stats, {report.label}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="period">{escape(heading(report))}</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<img alt="{ALT}" src="data:image/png;base64,{chart}">
</body>
</html>
"""
