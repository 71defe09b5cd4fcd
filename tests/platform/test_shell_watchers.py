"""Issue 13, points 1 and 2 on the shell, through the real session, desk and delivery
worker: ``/ticket watch|unwatch|cc|uncc|share|unshare``, the form's ``cc=``, refusals
by name, watchers on cards and in ``show``, and what a watcher is sent."""

from __future__ import annotations

from tests.platform.test_shell_sla import Shell, having
from tests.support.people import MAIL_ROUTE, desk_config

OPEN = ('/ticket new category=general subject="Printer on fire" '
        'description="It is smoking."')


async def test_cc_watch_and_share_by_command() -> None:
    shell = Shell(routes=(MAIL_ROUTE,))  # [email] set up: addresses may be cc'd
    await shell.type(OPEN)
    out = await shell.type("/as marco", "/ticket show 1")
    assert having(out, "Refused: there is no ticket #1 you can see")
    out = await shell.type("/as lena", "/ticket cc 1 marco")
    assert having(out, "(to lena) Done: marco watches #1.")
    assert having(out, "lena added marco as a watcher of #1.")
    out = await shell.type("/as marco", "/ticket show 1")
    assert having(out, "  watchers: marco")
    out = await shell.type("/ticket cc 1 omar")
    assert having(out, "Refused: only agents or the requester of #1 can add watchers")
    out = await shell.type("/as sam --agent", "/ticket note 1 internal only",
                           "/ticket reply 1 On it")
    assert having(out, "[DM to marco] sam: On it")
    assert not having(out, "internal only", "[DM to marco]"), "never a note"
    out = await shell.type("/ticket cc 1 omar@@example.com")
    assert having(out, "cc: 'omar@@example.com' is not a valid e-mail address")
    out = await shell.type("/ticket cc 1 Omar@Example.com", "/ticket uncc 1 marco")
    assert having(out, "Done: omar@example.com watches #1.")
    assert having(out, "Done: marco no longer watches #1.")
    out = await shell.type("/as omar", "/ticket watch 1")
    assert having(out, "Refused: there is no ticket #1 you can see")
    out = await shell.type("/as lena", "/ticket share 1")
    assert having(out, "(to lena) Done: #1 is shared with lena's organisation.")
    out = await shell.type("/as omar", "/ticket list org", "/ticket watch 1",
                           "/ticket share 1")
    assert having(out, "#1")
    assert having(out, "(to omar) Done: you are watching #1")
    assert having(out, "Refused: you already follow #1") == []
    assert having(out, "Refused: only agents or the requester of #1 can share it")
    out = await shell.type("/ticket unwatch 1", "/ticket unwatch 1")
    assert having(out, "Done: you no longer watch #1.")
    assert having(out, "Refused: you do not watch #1")
    out = await shell.type("/as lena", "/ticket unshare 1", "/as omar", "/ticket show 1")
    assert having(out, "Done: #1 is private.")
    assert having(out, "(to omar) Refused: there is no ticket #1 you can see")


async def test_the_form_takes_cc_and_names_a_bad_one() -> None:
    shell = Shell(routes=(MAIL_ROUTE,))
    out = await shell.type(OPEN + " cc=marco,not-an-address@")
    assert having(out, "cc: 'not-an-address@' is not a valid e-mail address")
    assert not having(out, "Opened #")
    out = await shell.type(OPEN + " cc=marco,omar@example.com share=yes")
    assert having(out, "Opened #1")
    assert having(out, "  watchers: marco, omar@example.com")
    assert having(out, "  shared with lena's organisation")
    assert having(out, "[DM to marco] New ticket:"), "the watcher hears of it"


def messages(lines: list[str], start: str) -> list[str]:
    """Each printed message whose first line starts with ``start``, its continuation
    lines (indented) joined to it."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if line.startswith(start):
            current = [line]
            found.append(current)
        elif line.startswith(" ") and current is not None:
            current.append(line.strip())
        else:
            current = None
    return [" ".join(m) for m in found if m]


async def test_a_watchers_notices_offer_no_requester_answers() -> None:
    """A watcher hears of a resolution and a close request, but the rating and the
    close / keep-open answers are the requester's: core offers them to her alone."""
    shell = Shell()
    await shell.type(OPEN, "/ticket cc 1 jun", "/as sam --agent", "/ticket claim 1")
    asked = await shell.type("/ticket ask-close 1 Works again?")
    [to_jun] = messages(asked, "[DM to jun]")
    assert "sam asks whether #1 can be closed: Works again?" in to_jun
    assert "keep-open" not in to_jun and "/ticket close" not in to_jun, to_jun
    [to_lena] = messages(asked, "[#1 ticket thread]")
    assert "Yes, close it: /ticket close 1 · No, I still need help: /ticket keep-open 1" \
        in to_lena, "the requester is still asked"
    await shell.type("/as lena", "/ticket keep-open 1", "/as sam --agent")
    resolved = await shell.type("/ticket resolve 1 Replaced the fuser unit.")
    [to_jun] = messages(resolved, "[DM to jun]")
    assert "resolved #1" in to_jun and "How did we do?" not in to_jun, to_jun
    [to_lena] = messages(resolved, "[#1 ticket thread]")
    assert "How did we do? /ticket rate 1 good|bad" in to_lena
    shown = await shell.type("/as jun", "/ticket show 1")
    assert not having(shown, "rate it:") and not having(shown, "close requested:")


async def test_a_late_reply_in_the_thread_moves_the_requester_to_the_follow_up() -> None:
    """README "Requester replies": past the reopen window a message in a closed
    ticket's thread opens a follow-up; both threads of the old ticket say so once, and
    the shell follows the requester there as ``/ticket new`` does."""
    shell = Shell(config=desk_config(lifecycle={"reopen_window": "5s"}))
    await shell.type(OPEN, "/as sam --agent", "/ticket close 1")
    shell.clock.advance(7)
    out = await shell.type("/as lena", "/thread 1", "It is smoking again.")
    assert having(out, "#1 continues in follow-up ticket #2", "[#1 team thread]")
    assert having(out, "#1 continues in follow-up ticket #2", "[#1 ticket thread]"), out
    assert having(out, "(to lena) #1 is closed; your message is in follow-up #2.")
    assert not having(out, "It is smoking again.", "[#1 ticket thread]"), "not echoed"
    assert shell.session.prompt() == "lena #2> "
    out = await shell.type("Any news?")
    assert having(out, "Any news?", "[#2 team thread]")


async def test_without_email_an_address_is_refused_as_requester_and_as_watcher() -> None:
    """No ``[email]``: a ticket for an address, or an address cc'd, would wait for mail
    nobody sends — refused naming the field, nothing stored."""
    shell = Shell()
    out = await shell.type("/as sam --agent", "/ticket new for:ana@example.com "
                           "category=general subject=Invoice description=Wrong")
    assert having(out, "for: ana@example.com is an e-mail address, and e-mail is not set "
                  "up on this desk: add [email]"), out
    assert not having(out, "Opened #")
    out = await shell.type("/as lena", OPEN + " cc=marco,omar@example.com")
    assert having(out, "cc: omar@example.com is an e-mail address, and e-mail is not "
                  "set up on this desk"), out
    assert not having(out, "Opened #")
    out = await shell.type(OPEN, "/ticket cc 1 omar@example.com", "/ticket show 1")
    assert having(out, "Opened #1")
    assert having(out, "(to lena) cc: omar@example.com is an e-mail address, and e-mail "
                  "is not set up on this desk: add [email]")
    assert not having(out, "watchers:"), "nothing stored"
    assert [t.number for t in shell.stores.state.tickets.values()] == [1]


async def test_a_closed_ticket_takes_notes_but_no_reply_cc_or_sharing() -> None:
    """Like Zendesk's closed tickets: the team may still write notes, but nothing that
    would tell people outside it something new until it is reopened."""
    shell = Shell()
    await shell.type(OPEN, "/ticket cc 1 marco", "/as sam --agent", "/ticket close 1")
    out = await shell.type("/ticket reply 1 One more thing", "/ticket cc 1 jun",
                           "/ticket uncc 1 marco", "/ticket share 1",
                           "/ticket note 1 for the record")
    refusal = "Refused: #1 is closed; reopen it first: /ticket reopen 1"
    assert len(having(out, refusal, "(to sam)")) == 4, out
    assert having(out, "Internal note added to #1.")
    assert not having(out, "One more thing") and not having(out, "[DM to jun]")
    out = await shell.type("/thread 1", "Typed in the closed thread")
    assert having(out, refusal), "an agent's public comment is a reply too"
    out = await shell.type("/as lena", "/ticket share 1")
    assert having(out, refusal, "(to lena)")
    out = await shell.type("/as sam --agent", "/ticket reopen 1", "/ticket reply 1 Back on it")
    assert having(out, "Reply posted to #1.")
    assert having(out, "sam: Back on it", "[#1 ticket thread]")
