"""The shell keeps a text's own lines: a comment or description of several lines is
shown with each line indented under the line it began on, in ``/ticket show`` and in a
thread (a new user's trial: the second line of a mailed comment stood at the margin)."""

from __future__ import annotations

from adapters.shell import views as shell_views
from tests.platform.test_shell_sla import Shell, having
from tests.support.memory import MemoryStores
from tests.support.people import form, make_desk, person

LENA = person("lena")


async def test_show_indents_each_line_of_a_description_and_a_comment() -> None:
    desk = make_desk(MemoryStores())
    opened = await desk.open_ticket(LENA, form(subject="Printer",
                                               description="It jams.\nEvery morning."))
    await desk.comment(LENA, opened.ticket.number, "Good.\nWorks now, thanks.\n\nLena")
    lines = shell_views.details(await desk.show(LENA, opened.ticket.number))
    assert "  description: It jams." in lines
    assert lines[lines.index("  description: It jams.") + 1] == "    Every morning."
    said = next(i for i, line in enumerate(lines) if line.endswith("lena: Good."))
    assert lines[said:said + 4] == ["    lena: Good.", "      Works now, thanks.", "",
                                    "      Lena"]
    assert not any("\n" in line for line in lines)


async def test_a_thread_message_keeps_its_lines_under_the_author() -> None:
    desk = make_desk(MemoryStores())
    opened = await desk.open_ticket(LENA, form(subject="Printer", description="d"))
    await desk.comment(LENA, opened.ticket.number, "one\ntwo")
    details = await desk.show(LENA, opened.ticket.number)
    comment = details.events[-1]
    assert shell_views.event_lines(comment, details.ticket, None) == ["lena: one", "  two"]


async def test_a_script_line_with_several_bad_fields_names_each_and_asks_nothing() -> None:
    """A second trial: the shell named the first bad field, asked for it, took the
    script's next line as the answer, then refused the others."""
    shell = Shell()
    out = await shell.type("/as lena", '/ticket new category=general subject="' + "S" * 300
                           + '" description=ok priority=zz', "short subject")
    assert having(out, "subject: is 300 characters long"), out
    assert having(out, "; priority: must be one of"), out
    assert having(out, "Nothing was opened."), out
    assert not having(out, "Subject?"), out
    assert not shell.stores.state.tickets
