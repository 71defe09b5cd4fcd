"""Links on the shell, through the real session, desk and delivery worker: linking
again with the other kind changes the link (a related ticket can become a duplicate,
which closes it pointing at the other, PRODUCT.md §4)."""

from __future__ import annotations

from core.tickets import Status
from tests.platform.test_shell_sla import Shell, having

OPEN = ('/ticket new category=general subject="Printer on fire" '
        'description="It is smoking."')
AGAIN = ('/ticket new category=general subject="Printer smoking" '
         'description="Smoke again."')


async def test_a_related_link_becomes_a_duplicate() -> None:
    shell = Shell()
    await shell.type(OPEN, AGAIN, "/as sam --agent")
    out = await shell.type("/ticket link #2 related 1", "/ticket link #2 related 1")
    assert having(out, "Refused: #2 is already linked to #1 (related)"), out
    out = await shell.type("/ticket link #2 duplicate_of #1", "/ticket show 2")
    assert not having(out, "already linked"), out
    assert having(out, "closed #2: a duplicate of #1", "[#2 ticket thread]"), out
    assert having(out, "  duplicate of #1")
    assert not having(out, "  related #1")
    assert shell.stores.state.tickets[2].status is Status.CLOSED
    assert shell.stores.state.tickets[1].status is Status.OPEN
