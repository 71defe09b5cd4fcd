"""The stats report as terminal tables (rich): ``/ticket stats`` in the shell and
``helpthread report`` print these."""

from __future__ import annotations

import io
import os
import tempfile

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.report import Figures, Report, share_text, short_duration

WIDE = 170  # columns the whole table needs with long category names
COLUMNS = ("", "opened", "resolved", "backlog", "1st reply p50", "1st reply p90",
           "resolve p50", "resolve p90", "SLA met", "satisfied")


def _cells(f: Figures) -> tuple[str, ...]:
    return (escape(f.name), str(f.opened), str(f.resolved), str(f.backlog),
            short_duration(f.first_response.median), short_duration(f.first_response.p90),
            short_duration(f.resolution.median), short_duration(f.resolution.p90),
            share_text(f.sla_met), share_text(f.satisfaction))


def heading(report: Report) -> str:
    kind = "business time" if report.business_time else "around the clock"
    return (f"Stats, {report.label}: {report.span} (times: {kind}; backlog: active now; "
            f"SLA breaches in the period: {report.breaches})")


def table(report: Report) -> Table:
    """One table: the desk's figures, then by category and by agent (the ticket's
    assignee), each group under its heading."""
    found = Table(box=box.SQUARE, header_style="bold", show_edge=True)
    for n, column in enumerate(COLUMNS):
        found.add_column(column, justify="left" if n == 0 else "right", no_wrap=True)
    found.add_row(*_cells(report.total))
    for title, lines in (("by category", report.by_category), ("by agent", report.by_agent)):
        if lines:
            found.add_section()
            found.add_row(f"[bold]{title}[/bold]")
            for line in lines:
                found.add_row(*_cells(line))
    return found


def print_report(report: Report, console: Console) -> None:
    console.print(heading(report), highlight=False, soft_wrap=True)
    console.print(table(report))


def report_text(report: Report, width: int = WIDE) -> str:
    """``print_report`` as plain text ``width`` columns wide (no colour codes)."""
    out = io.StringIO()
    print_report(report, Console(file=out, width=width, color_system=None,
                                 force_terminal=False, legacy_windows=False))
    return out.getvalue().rstrip("\n")


def write_chart(png: bytes, directory: str | None = None) -> str:
    """Writes ``png`` to a new file ``helpthread-stats-*.png`` in ``directory`` (default:
    the system's temporary directory) and returns its path. Raises ``OSError``."""
    handle, path = tempfile.mkstemp(prefix="helpthread-stats-", suffix=".png", dir=directory)
    with os.fdopen(handle, "wb") as file:
        file.write(png)
    return path
