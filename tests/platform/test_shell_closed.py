"""README "A closed ticket is locked" on the shell, through the real session, desk and
delivery worker — also when the agent is the ticket's requester."""

from __future__ import annotations

import pytest

from core.events import EventKind
from core.tickets import Status
from tests.platform.test_shell_sla import Shell, having
from tests.support.people import desk_config

REFUSAL = "Refused: #1 is closed; reopen it first: /ticket reopen 1"


@pytest.mark.parametrize("opened_by", [
    '/ticket new category=general subject="mine" description="d"',
    '/ticket new for:sam category=general subject="mine" description="d"',
])
async def test_an_agents_reply_to_their_own_closed_ticket_is_refused(opened_by: str) -> None:
    shell = Shell()
    out = await shell.type("/as sam --agent", opened_by, "/ticket close 1 done",
                           "/ticket reply 1 public reply")
    assert having(out, "Opened #1")
    assert having(out, REFUSAL, "(to sam)"), out
    assert not having(out, "Reply posted to #1.")
    state = shell.stores.state
    assert not [e for e in state.events if e.kind is EventKind.COMMENTED]
    assert state.tickets[1].status is Status.CLOSED


async def test_the_agent_requesters_thread_message_reopens_or_follows_up() -> None:
    shell = Shell(config=desk_config(lifecycle={"reopen_window": "5s"}))
    await shell.type("/as sam --agent",
                     '/ticket new category=general subject="mine" description="d"',
                     "/ticket close 1 done")
    out = await shell.type("/thread 1", "Typed at once")
    assert not having(out, "Refused"), out
    assert shell.stores.state.tickets[1].status is not Status.CLOSED, "reopened"
    await shell.type("/ticket close 1 done again")
    await shell.wait(1)
    out = await shell.type("/thread 1", "Typed later")
    assert having(out, "#1 is closed; your message is in follow-up #2."), out
    assert shell.stores.state.tickets[1].status is Status.CLOSED
    assert shell.stores.state.tickets[2].description == "Typed later"


async def test_the_follow_up_notice_says_the_old_tickets_status() -> None:
    """Past the reopen window, a message on a resolved ticket goes to a follow-up; the
    notice says "resolved" (it is not closed), then "closed" once it is."""
    shell = Shell(config=desk_config(lifecycle={"reopen_window": "5s"}))
    await shell.type('/ticket new category=general subject="Printer" description="Smokes"',
                     "/as sam --agent", "/ticket claim 1",
                     "/ticket resolve 1 Replaced the fuser unit")
    await shell.wait(1)
    out = await shell.type("/as lena", "/thread 1", "It smokes again")
    assert having(out, "#1 is resolved; your message is in follow-up #2. You are in its "
                  "ticket thread."), out
    assert shell.stores.state.tickets[1].status is Status.RESOLVED
    out = await shell.type("/thread 1", "And again")  # continues in the open follow-up
    assert having(out, "#1 is resolved; your message is in follow-up #2."), out
    await shell.type("/as sam --agent", "/ticket close 1")
    out = await shell.type("/as lena", "/thread 1", "Still")
    assert having(out, "#1 is closed; your message is in follow-up #2."), out
