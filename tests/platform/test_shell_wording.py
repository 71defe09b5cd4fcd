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


async def test_a_watcher_refusal_says_follows_for_someone_else() -> None:
    shell = Shell()
    out = await shell.type(OPEN, "/as sam --agent", "/ticket cc 1 lena")
    assert having(out, "Refused: lena is the requester of #1 and follows it already"), out
    out = await shell.type("/as lena", "/ticket watch 1")
    assert having(out, "Refused: you are the requester of #1 and follow it already"), out


async def test_link_refusals_and_notices_use_the_words_people_type_and_read() -> None:
    shell = Shell()
    await shell.type(OPEN, OPEN.replace("Printer", "Toner"), "/as sam --agent")
    out = await shell.type("/ticket link 1 related")
    assert having(out, "link: say which ticket #1 links to, like 12 or #12: "
                  "/ticket link 1 related M"), out
    assert not having(out, "other")
    out = await shell.type("/ticket link 1 related 2x")
    assert having(out, "link: '2x' is not a ticket number"), out
    out = await shell.type("/ticket link 2 duplicate_of 1")
    notices = having(out, "linked #2 to #1")
    assert notices and all("(duplicate of)" in line for line in notices), out
    assert not having(out, "(duplicate_of)")


async def test_a_follow_up_is_shown_as_follow_up_of() -> None:
    shell = Shell()
    await shell.type(OPEN, "/as sam --agent", "/ticket close 1")
    shell.clock.advance(30 * 86400)
    out = await shell.type("/as lena", "/thread 1", "Smokes again", "/ticket show 2")
    assert having(out, "  follow-up of #1"), out
    assert not having(out, "follow up of")


async def test_a_bad_optional_field_from_a_script_refuses_the_line_asking_nothing() -> None:
    """From a script (no TTY) an optional field is never asked (README): a bad typed one
    refuses the line, so the next line is not taken as its answer (a new user's trial:
    ``priority=bogus`` made the next line, a comment, the priority's answer)."""
    shell = Shell()
    out = await shell.type(OPEN + " priority=bogus")
    assert having(out, "priority: must be one of low, normal, high, urgent"), out
    assert having(out, "Nothing was opened."), out
    assert not having(out, "Priority?")
    out = await shell.type("/ticket list")
    assert having(out, "No open tickets"), out
    for typed, said in (('cc=",,"', "cc: ',,' names no one"),
                        ("cc=lena", "cc: lena is the requester")):
        out = await shell.type(f"{OPEN} {typed}")
        assert having(out, said) and having(out, "Nothing was opened."), out
    assert shell.stores.state.tickets == {}


async def test_at_a_terminal_a_bad_optional_field_is_asked_again() -> None:
    shell = Shell()
    shell.session.interactive = True
    out = await shell.type(OPEN + " priority=bogus")
    for _ in range(5):  # Enter past the optional fields offered at a terminal
        if having(out, "priority: must be one of"):
            break
        out = await shell.type("")
    assert having(out, "priority: must be one of low, normal, high, urgent"), out
    assert having(out, "Priority?"), out
    out = await shell.type("high")
    assert having(out, "Opened #1"), out


async def test_a_missing_ticket_and_a_hidden_one_are_refused_in_the_same_words() -> None:
    """Nobody learns which ticket numbers exist by asking (a new user's trial: a missing
    one said "there is no ticket #99", another's private one "… you can see")."""
    shell = Shell()
    await shell.type(OPEN, "/as omar")
    hidden = await shell.type("/ticket show 1")
    missing = await shell.type("/ticket show 99")
    assert having(hidden, "Refused: there is no ticket #1 you can see"), hidden
    assert having(missing, "Refused: there is no ticket #99 you can see"), missing
