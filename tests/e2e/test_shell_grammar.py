"""Issue 9 points 4 and 7 in the shell: the one grammar, and a form that checks each answer."""

from __future__ import annotations

import io
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from subprocess import CompletedProcess

from adapters.shell.outbound import Printer
from adapters.shell.repl import ShellSession
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.memory import MemoryStores
from tests.support.people import make_desk

Run = Callable[..., CompletedProcess[str]]


def test_each_answer_is_checked_when_given(run_helpthread: Run) -> None:
    script = (
        "/as lena\n"
        "/ticket new\n"
        "bogus\n"            # not a category: asked again at once
        "general\n"
        "tab\there\n"        # a tab in a one-line field: asked again at once
        "A fine subject\n"
        "It broke.\n"
    )
    out = run_helpthread(script).stdout
    lines = out.splitlines()
    refused_category = lines.index(next(x for x in lines if "'bogus' is not a category" in x))
    assert "Category?" in lines[refused_category + 1], "the same field is asked again"
    assert "(to lena) subject: contains a control character (U+0009)" in out
    assert out.index("U+0009") < out.index("Description?"), "checked before the next field"
    assert "(to lena) Opened #1: A fine subject." in out


def test_a_scripts_answers_never_become_comments(run_helpthread: Run) -> None:
    script = (
        "/as lena\n"
        "/ticket new category=general subject=First description=d\n"
        "/ticket new category=general\n"   # lena is in #1's thread now
        "Second subject\n"
        "# not a comment either\n"
        "\n"
        "Second description\n"
    )
    out = run_helpthread(script).stdout
    assert "(to lena) Opened #2: Second subject." in out
    assert "[#1 ticket thread] lena:" not in out and "[#1 team thread] lena:" not in out


def test_optional_fields_can_be_given_inline_from_a_script(run_helpthread: Run) -> None:
    script = (
        "/as lena\n"
        "/ticket new category=refund subject=s description=d receipt=R1 Amount=12.50 "
        "priority=high account=A-1 visibility=shared card_last4=4242\n"
        "/ticket show\n"
    )
    out = run_helpthread(script).stdout
    assert "(to lena) Opened #1: s." in out
    assert "high" in out and "A-1" in out and "12.50" in out and "shared" in out
    assert "4242" not in out


def test_an_empty_or_unknown_inline_value_is_refused_and_opens_nothing(
        run_helpthread: Run, tmp_path: Path) -> None:
    """README "An empty value is refused": a typed ``key=`` with nothing after it, for
    any field, is refused naming it; ``visibility=`` is named as typed."""
    open_ = '/ticket new category=general subject="e" description="x" '
    script = (
        "/as lena\n"
        f"{open_}account=\n"
        f"{open_}cc=\n"
        f"{open_}share=\n"
        '/ticket new category=refund subject="e1" description="x" receipt=R1 card_last4=\n'
        f"{open_}visibility=bogus\n"
        "/ticket list\n"
    )
    done = run_helpthread(script)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "(to lena) account: is empty; write a value after account= or leave it out" in out
    assert "(to lena) cc: is empty; name watchers" in out
    assert "(to lena) share: is empty; say yes or no" in out
    assert ("(to lena) card_last4: is empty; write a value after card_last4= or leave it "
            "out") in out
    assert "(to lena) visibility: 'bogus' is not a visibility; say private or shared" in out
    assert "share: answer yes or no" not in out
    assert "Opened #" not in out and "(to lena) No open tickets." in out
    with sqlite3.connect(tmp_path / "desk.db") as db:
        assert db.execute("SELECT count(*) FROM tickets").fetchone() == (0,)


def test_the_shell_reads_commands_with_the_one_grammar(run_helpthread: Run) -> None:
    script = (
        "/as lena\n"
        "/ticket new category=general subject=One description=d\n"
        "/ticket new category=general subject=Two description=d\n"
        "/as sam --agent\n"
        "/thread 1\n"
        "/ticket reply 2 weeks is the usual time\n"
        "/ticket claim 2\n"
        "/ticket claim #2\n"
        "/ticket show 1 2\n"
        "/ticket list open junk\n"
        "/ticket priority urgent\n"
        "/ticket fro\x07b\n"
        "/thread 1x\n"
        "/thread 0\n"
    )
    out = run_helpthread(script).stdout
    assert "[#1 ticket thread] sam: 2 weeks is the usual time" in out
    assert "(to sam) number: in #1's thread write another ticket as #2" in out
    assert "(to sam) Done: #2 is in progress." in out
    assert "(to sam) show: '2' is more than /ticket show takes" in out
    assert "(to sam) list: 'junk' is not one of" in out
    assert "(to sam) Done: #1 is now urgent priority." in out
    assert "(to sam) command: 'fro\\u0007b' is not a /ticket command" in out
    assert "\x07" not in out
    assert "(to sam) number: '1x' is not a ticket number" in out
    assert "(to sam) number: tickets are numbered from 1" in out


class FakeTerminal:
    def __init__(self) -> None:
        self.hidden = False
        self.log: list[str] = []

    def hide(self) -> None:
        self.hidden = True
        self.log.append("hide")

    def show(self) -> bool:
        was, self.hidden = self.hidden, False
        if was:
            self.log.append("show")
        return was


class IdleWorker:
    async def run_until_idle(self) -> None:
        return None


async def test_a_sensitive_answer_is_not_echoed_at_a_terminal() -> None:
    out = io.StringIO()
    terminal = FakeTerminal()
    session = ShellSession(make_desk(MemoryStores()), IdleWorker(),  # type: ignore[arg-type]
                           Printer(out), persona="lena", interactive=True,
                           terminal=terminal)  # type: ignore[arg-type]
    typed = ["/ticket new category=refund subject=s description=d receipt=R1 amount=1 "
             "priority=low account=A share=no", "4242"]

    async def lines() -> AsyncIterator[str]:
        for line in typed:
            session.prompt()  # as the terminal loop does before reading each line
            yield line + "\n"

    await session.run(lines())
    assert terminal.log == ["hide", "show"], "echo off for card_last4 only, then back on"
    assert "Opened #1" in out.getvalue() and "4242" not in out.getvalue()


def test_a_requester_at_the_limit_is_refused_before_the_form(run_helpthread: Run) -> None:
    opens = "".join(f"/ticket new category=general subject=S{i} description=d\n"
                    for i in range(5))  # the default limit: 5 open tickets
    out = run_helpthread("/as lena\n" + opens + "/ticket new\n").stdout
    assert "(to lena) Refused: you already have 5 open tickets" in out
    assert "Category?" not in out, "no form is started only to be refused"


def test_a_tab_separates_the_command_and_quit_takes_no_words(run_helpthread: Run) -> None:
    out = run_helpthread("/ticket\tlist\n/quit now\n/ticket help\n").stdout
    assert "(to " in out and "No open tickets." in out
    assert "/quit takes nothing after it" in out
    assert "the shell desk." in out, "the session went on after '/quit now'"


def test_separators_str_strip_would_drop_are_refused_by_name(run_helpthread: Run) -> None:
    """Issue 10, point 7: U+001C–U+001F and NEL at the end of text, or between words, are
    neither trimmed nor taken as spaces: they are refused naming the field."""
    out = run_helpthread(
        "/as lena\n/ticket new category=general subject=S description=d\n"
        "/as sam --agent\n"
        "/ticket note 1 trailing\x1c\n"
        "/ticket resolve 1 finished the work\x85\n"
        "/ticket claim\x1d1\n").stdout
    assert "(to sam) text: contains a control character (U+001C)" in out
    assert "(to sam) resolution: contains a control character (U+0085)" in out
    assert "(to sam) command: 'claim\\u001d1' is not a /ticket command" in out
    assert "Internal note added" not in out and "is resolved" not in out


def test_search_refuses_what_show_refuses(run_helpthread: Run) -> None:
    script = ("/as sam --agent\n/ticket show #0\n/ticket search #0\n"
              "/ticket show #999999999999\n/ticket search #999999999999\n/ticket search 🎉\n")
    out = run_helpthread(script).stdout
    assert "(to sam) number: tickets are numbered from 1" in out
    assert "(to sam) search: tickets are numbered from 1" in out
    assert ("(to sam) search: '#999999999999' is too long for a ticket number (at most 9 "
            "digits)") in out
    assert "(to sam) search: '🎉' has no words to search for" in out
    assert "Nothing found" not in out


def test_a_line_that_is_not_utf8_is_refused_as_such(tmp_path: Path) -> None:
    """A byte 0xFF once read as "subject: contains a control character (U+DCFF)"."""
    script = ("/as lena\n/ticket new category=general subject=a\udcffb description=d\n"
              "/ticket new category=general description=d\nsub\udcfe\nFine subject\n")
    for locale in ("C.UTF-8", "en_US.UTF-8"):  # strict or lenient decoding by default
        desk = tmp_path / locale
        desk.mkdir()
        done = subprocess.run([HELPTHREAD, "run"], input=script.encode("utf-8",
                                                                        "surrogateescape"),
                              capture_output=True, cwd=desk, timeout=120,
                              env={**clean_env(desk), "LANG": locale, "LC_ALL": locale})
        assert done.returncode == 0, done.stderr
        out = done.stdout.decode("utf-8")
        assert "(to lena) Opened #1: Fine subject." in out, out
    assert ("(to lena) That line is not valid UTF-8 (byte 0xFF); nothing was done with it. "
            "Send text encoded as UTF-8.") in out
    refused = out.index("(byte 0xFE)")
    assert "Subject? (one line" in out[refused:]  # the form asks again
    assert "U+DC" not in out and "\ufffd" in out  # the echo shows a replacement


def test_a_multi_line_description_keeps_its_indentation(run_helpthread: Run,
                                                        tmp_path: Path) -> None:
    """Mail and chat forms open tickets whose description has several lines; the shell
    once printed the second at column 0, outside the card, then at the column of
    "description:" as if it were a line of its own; it hangs under it."""
    opened = run_helpthread("/as lena\n/ticket new category=general subject=Multi "
                            "description=placeholder\n")
    assert opened.returncode == 0, opened.stderr
    with sqlite3.connect(tmp_path / "desk.db") as db:  # as an e-mail's body arrives
        db.execute("UPDATE tickets SET description = 'line one\nline two'")
    shown = run_helpthread("/as lena\n/ticket show 1\n").stdout.splitlines()
    first = next(i for i, line in enumerate(shown) if line.endswith("description: line one"))
    indent = len(shown[first]) - len(shown[first].lstrip())
    assert shown[first + 1] == " " * (indent + 2) + "line two", shown


def test_the_printer_indents_continuation_lines() -> None:
    out = io.StringIO()
    Printer(out).lines("[#1 ticket thread]", ["New ticket:", "  one\ntwo", "x: a\nb"])
    assert out.getvalue().splitlines() == [
        "[#1 ticket thread] New ticket:",
        "                     one",
        "                     two",
        "                   x: a",
        "                   b"]


def test_a_byte_order_mark_before_the_first_command_is_not_part_of_it(
        run_helpthread: Run) -> None:
    """A script saved by a Windows editor starts with U+FEFF: its first command once read
    as text ("You are not in a ticket thread")."""
    out = run_helpthread("\ufeff/as lena\n/ticket new category=general subject=BOM "
                         "description=d\n").stdout
    assert "(to lena) Opened #1: BOM." in out, out
    assert "not in a ticket thread" not in out and "\ufeff" not in out
