"""How ``helpthread doctor``'s checks are shown: a table on a terminal, plain aligned
lines otherwise (piped, logged, grepped), then one summary line."""

from __future__ import annotations

import unicodedata
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.checks import Check, Outcome

STYLES = {Outcome.OK: "green", Outcome.WARNING: "yellow", Outcome.FAILED: "bold red",
          Outcome.SKIPPED: "dim"}
OUTCOME_WIDTH = max(len(o.value) for o in Outcome)


def printable(text: str) -> str:
    """``text`` with control characters (a server's answer may hold escapes) shown as
    ``?``: nothing a check says can drive the terminal."""
    return "".join("?" if unicodedata.category(ch) == "Cc" else ch for ch in text)


def lines(checks: list[Check]) -> list[str]:
    """One line per check: outcome, name and detail in aligned columns."""
    width = max((len(c.name) for c in checks), default=0)
    return [f"{c.outcome.value:<{OUTCOME_WIDTH}}  {c.name:<{width}}  {printable(c.detail)}"
            for c in checks]


def summary(checks: list[Check]) -> str:
    """``3 ok, 1 warning, 1 FAILED, 2 skipped``, then what it means."""
    counts = Counter(c.outcome for c in checks)
    said = ", ".join(f"{counts[o]} {o.value}" + ("s" if o is Outcome.WARNING
                                                  and counts[o] != 1 else "")
                     for o in Outcome if counts[o])
    if counts[Outcome.FAILED]:
        return f"{said}: fix what FAILED (its detail says how)."
    if counts[Outcome.WARNING]:
        return f"{said}: `helpthread run` can start; read the warnings."
    return f"{said}: ready for `helpthread run`."


def show(checks: list[Check], console: Console) -> None:
    """The report on ``console``: a table when it is a terminal, plain lines when not."""
    if not console.is_terminal:
        console.file.write("".join(line + "\n" for line in [*lines(checks),
                                                             summary(checks)]))
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Check", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    for check in checks:
        table.add_row(Text(check.name), Text(check.outcome.value, style=STYLES[check.outcome]),
                      Text(printable(check.detail)))
    console.print(table)
    console.print(Text(summary(checks)))
