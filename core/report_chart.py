"""The stats report's chart (PRODUCT.md §4): tickets opened and resolved per day, and the
day's median first-response and resolution times, as PNG bytes.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
state), so it is safe beside the event loop's other work and in any thread. matplotlib
(with numpy and Pillow, about 40 MB) is imported on the first chart, not when the desk
starts: ``helpthread run`` stays within its memory target (README, Benchmarks).
"""

from __future__ import annotations

import io

from core.report import Report

OPENED, RESOLVED = "#4c72b0", "#55a868"
FIRST_RESPONSE, RESOLUTION = "#dd8452", "#8172b2"


def _hours(seconds: float | None) -> float:
    return float("nan") if seconds is None else seconds / 3600.0


def chart_png(report: Report, *, title: str = "Helpthread", dpi: int = 100) -> bytes:
    """A 9×6-inch PNG (at ``dpi``) of ``report.days``: bars of tickets opened and
    resolved, and below them the median first-response and resolution hours of each day
    (gaps where a day had none). The title names ``title`` and the period."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    counts, times = figure.subplots(2, 1, sharex=True)
    days = [d.day for d in report.days]
    width = 0.4
    positions = list(range(len(days)))
    counts.bar([p - width / 2 for p in positions], [d.opened for d in report.days],
               width, label="opened", color=OPENED)
    counts.bar([p + width / 2 for p in positions], [d.resolved for d in report.days],
               width, label="resolved", color=RESOLVED)
    counts.set_ylabel("tickets")
    counts.yaxis.get_major_locator().set_params(integer=True)
    counts.legend(loc="upper left")
    counts.set_title(f"{title}: tickets per day, {report.label} "
                     f"({report.since.date().isoformat()} – {report.until.date().isoformat()} UTC)")
    unit = "business hours" if report.business_time else "hours"
    first = [_hours(d.first_response_median) for d in report.days]
    resolved = [_hours(d.resolution_median) for d in report.days]
    times.plot(positions, first, marker="o", label="first response (median)",
               color=FIRST_RESPONSE)
    times.plot(positions, resolved, marker="s", label="resolution (median)", color=RESOLUTION)
    times.set_ylabel(unit)
    # At least an hour tall: minutes and seconds would otherwise read like a scale of 1e-5.
    times.set_ylim(0, max([h for h in first + resolved if h == h] + [1.0]) * 1.15)
    times.legend(loc="upper left")
    step = max(1, len(days) // 12)
    times.set_xticks(positions[::step], [f"{d:%b %d}" for d in days[::step]],
                     rotation=45, ha="right")
    for axes in (counts, times):
        axes.grid(axis="y", alpha=0.3)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
