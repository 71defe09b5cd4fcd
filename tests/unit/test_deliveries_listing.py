"""``helpthread deliveries`` as it reads on a terminal: a parked delivery's last error
whole, folded onto as many lines as the column needs — never cut, never an ellipsis —
and its brackets printed as written, not taken for rich markup."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from bot.deliveries import tab_separated, table
from core.events import Audience
from core.routing import Delivery, DeliveryState, Purpose, Target

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
ERROR = ("Cannot connect to host smtp.example.com:587 ssl:default [bold][Multiple "
         "exceptions: [Errno 111] Connect call failed ('127.0.0.1', 587), [Errno 99] "
         "Cannot assign requested address] after 8 attempts")


def _parked(error: str) -> Delivery:
    return Delivery(12, 3, "email", Target.EMAIL, Audience.PUBLIC, NOW, address="a@b.example",
                    purpose=Purpose.NOTIFY, state=DeliveryState.PARKED, attempts=8,
                    last_error=error, id=41)


def _terminal(width: int) -> str:
    console = Console(width=width, force_terminal=True, color_system=None, record=True)
    console.print(table([_parked(ERROR)], NOW))
    return console.export_text()


def test_a_long_error_folds_whole_on_an_80_column_terminal() -> None:
    shown = _terminal(80)
    assert "…" not in shown and all(len(line) <= 80 for line in shown.splitlines())
    column = [line.split("│")[-2].strip() for line in shown.splitlines() if "│" in line]
    assert "".join(column).replace(" ", "") == ERROR.replace(" ", "")


def test_a_wide_terminal_shows_the_error_on_one_line() -> None:
    assert ERROR in _terminal(400)


def test_piped_cells_escape_tab_newline_and_backslash_only() -> None:
    lines = tab_separated([_parked("a\tb\nc\\d\re")], NOW).splitlines()
    assert lines[1].split("\t") == ["41", "#12", "email", "notify", "parked", "8", "-",
                                    "a\\tb\\nc\\\\d\\re"]
