"""What a new user's trial of the shell desk found in refusals and notices: empty input
named, not taken as a default; words as a person writes them, not internal keys."""

from __future__ import annotations

from tests.platform.test_shell_sla import Shell, having

OPEN = '/ticket new category=general subject="Printer" description="Smokes"'


async def test_an_empty_priority_is_refused_naming_the_field() -> None:
    shell = Shell()
    out = await shell.type(OPEN + " priority=")
    assert having(out, "priority: is empty; say one of low, normal, high, urgent"), out
    assert not having(out, "Opened #")
    assert shell.stores.state.tickets == {}
