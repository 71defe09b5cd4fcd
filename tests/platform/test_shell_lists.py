"""Issue 12, point 2 on the shell: ``/ticket list … page N`` and ``/ticket queue page N``
in pages of 20, each page that goes on naming the command for the next, a page past
the end said so — through the real session and desk."""

from __future__ import annotations

from tests.platform.test_shell_sla import Shell, having
from tests.support.people import desk_config, form, person

ROOMY = desk_config(desk={"max_open_per_user": 50, "max_new_per_hour": 50})


async def test_list_and_queue_page_by_page() -> None:
    shell = Shell(config=ROOMY)
    for n in range(21):
        await shell.desk.open_ticket(person("lena"), form(f"Ticket {n + 1}"))
        shell.clock.advance(1)
    first = await shell.type("/ticket list")
    assert len(having(first, "] Ticket ")) == 20 and having(first, " #21 [open] Ticket 21")
    assert having(first, "More: /ticket list open page 2")
    second = await shell.type("/ticket list open page 2")
    assert having(second, " #1 [open] Ticket 1 ") and not having(second, "More:")
    past = await shell.type("/ticket list page 3")
    assert having(past, "there is no page 3; the list has 2 pages"), past
    queue = await shell.type("/as sam --agent", "/ticket queue")
    assert len(having(queue, "] Ticket ")) == 20 and having(queue, "More: /ticket queue page 2")
    assert having(await shell.type("/ticket queue page 2"), " #21 [open] Ticket 21")


async def test_search_page_by_page() -> None:
    shell = Shell(config=ROOMY)
    for n in range(21):
        await shell.desk.open_ticket(person("lena"), form(f"Ticket {n + 1}"))
        shell.clock.advance(1)
    first = await shell.type("/ticket search ticket")
    assert len(having(first, "] Ticket ")) == 20
    assert having(first, "More: /ticket search ticket page 2")
    assert len(having(await shell.type("/ticket search ticket page 2"), "] Ticket ")) == 1
