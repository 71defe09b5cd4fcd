"""``helpthread deliveries``: what waits in the outbox, and re-queueing parked deliveries.

A parked delivery is a dead letter: refused for good by its platform, or failed
``delivery.max_attempts`` times. It keeps its last error; once the cause is fixed
(the bot invited back to a channel, a token renewed) ``deliveries retry`` puts it
back in its queue with a fresh count of attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.runtime import migrate_existing
from bot.settings import Settings
from core.clock import SystemClock
from core.routing import Delivery, DeliveryState
from core.store.engine import make_engine
from core.store.outbox import SqlOutbox

LISTED_MAX = 500  # rows one listing shows; the summary line counts them all
COLUMNS = ("id", "ticket", "platform", "purpose", "state", "attempts", "due", "last error")


class NotParked(Exception):
    """Some of the ids named are no parked delivery; nothing was re-queued."""


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else "now"


def _cells(d: Delivery, now: datetime) -> tuple[str, ...]:
    due = "-" if d.state is DeliveryState.PARKED else (
        _when(d.next_attempt_at) if d.next_attempt_at and d.next_attempt_at > now else "now")
    return (str(d.id), f"#{d.ticket_number}", d.platform, d.purpose.value, d.state.value,
            str(d.attempts), due, d.last_error or "")


def table(rows: Sequence[Delivery], now: datetime) -> Table:
    """The deliveries as a table: id, ticket, platform, purpose, state, attempts, due (UTC;
    "now" when due already), last error — whole, folded onto as many lines as it needs."""
    shown = Table(show_lines=False, header_style="bold")
    for column in COLUMNS:
        shown.add_column(column, overflow="fold",
                         justify="right" if column in ("id", "ticket", "attempts") else "left")
    for d in rows:
        # Text, not markup: an error's own "[...]" is the platform's words, not a style
        shown.add_row(*(Text(cell) for cell in _cells(d, now)))
    return shown


_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def tab_separated(rows: Sequence[Delivery], now: datetime) -> str:
    r"""The same columns as ``table``, one line per delivery, tab-separated under a header
    line; a backslash, tab, newline or carriage return in a cell written as ``\\``, ``\t``,
    ``\n``, ``\r`` (as PostgreSQL's COPY text format): one line a delivery, nothing cut."""
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(cell.translate(_ESCAPED) for cell in _cells(d, now)) for d in rows]
    return "\n".join(lines)


async def show(settings: Settings, *, parked_only: bool, console: Console) -> None:
    """Print the pending and parked deliveries (``parked_only``: parked ones)."""
    await migrate_existing(settings.database_url, "deliveries")
    engine = make_engine(settings.database_url)
    try:
        rows = await SqlOutbox(engine).listing(parked_only=parked_only, limit=LISTED_MAX)
    finally:
        await engine.dispose()
    # Piped: for a script (cut, awk, grep) — tab-separated lines, whole errors, and the
    # human lines on stderr so stdout is only the header and the rows. A box table at
    # the pipe's 80 columns folds an error over many lines no tool can read back.
    piped = not console.is_terminal
    told = Console(stderr=True) if piped else console
    if not rows:
        told.print("No parked deliveries." if parked_only
                   else "No pending or parked deliveries: everything was delivered.")
        return
    now = SystemClock().now()
    if piped:
        console.file.write(tab_separated(rows, now) + "\n")  # raw: rich expands tabs
    else:
        console.print(table(rows, now))
    parked = sum(d.state is DeliveryState.PARKED for d in rows)
    more = f" (the first {LISTED_MAX})" if len(rows) == LISTED_MAX else ""
    told.print(f"{len(rows) - parked} pending, {parked} parked{more}.", highlight=False)


ID_MAX = 2**31 - 1


async def retry(settings: Settings, ids: list[int] | None) -> list[int]:
    """Re-queue parked deliveries ``ids`` (None: every parked one); returns the ids
    re-queued. Raises ``NotParked`` naming the ids that are not parked deliveries, in
    which case nothing changed."""
    await migrate_existing(settings.database_url, "deliveries retry")
    engine = make_engine(settings.database_url)
    outbox = SqlOutbox(engine)
    try:
        if ids is not None:
            # ids are 32-bit in the table (PostgreSQL integer): a larger one names none
            stored = [i for i in ids if 0 < i <= ID_MAX]
            known = {d.id: d for d in await outbox.listing(parked_only=False,
                                                            limit=len(ids), ids=stored)}
            wrong = [i for i in ids if i not in known
                     or known[i].state is not DeliveryState.PARKED]
            if wrong:
                raise NotParked(", ".join(
                    f"{i} is pending, not parked" if i in known
                    else f"{i} is no parked delivery (delivered, or no such id)"
                    for i in wrong))
        return await outbox.requeue(ids, SystemClock().now())
    finally:
        await engine.dispose()
