"""Issue 13, points 1 and 2 on SQLite and PostgreSQL: watchers and sharing stored,
found by list, search and show through the watchers table and the visibility SQL, a
shared ticket read for its whole organisation, e-mail watchers' deliveries queued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import Invalid, NotFound
from core.routing import Target
from core.store.port import TicketQuery
from core.store.tables import DeliveryRow
from core.watching import email_watcher
from tests.integration.conftest import Wired
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, agent, form, make_desk, person

LENA, MARCO, OMAR, SAM = person("lena"), person("marco"), person("omar"), agent("sam")
ZED = person("zed", workspace="acme")


async def numbers(wired: Wired, who, **kwargs) -> list[int]:
    return [i.ticket.number for i in await wired.desk.list_tickets(who, "all", **kwargs)]


async def test_watchers_and_sharing_are_what_list_search_and_show_find(wired: Wired) -> None:
    desk = wired.desk = make_desk(wired.stores, clock=wired.clock,  # [email] set up
                                  routes=[SHELL_ROUTE, MAIL_ROUTE])
    await desk.open_ticket(LENA, form(subject="Invoice pixel", watchers=(
        email_watcher("omar.mail@example.com"),)))
    await desk.open_ticket(LENA, form(subject="Pixel shared", visibility="shared"))
    assert await numbers(wired, MARCO) == [2]
    assert [h.ticket.number for h in await desk.search(MARCO, "pixel")] == [2]
    await desk.add_watcher(LENA, 1, MARCO.person)
    assert await numbers(wired, MARCO) == [2, 1]
    assert [h.ticket.number for h in await desk.search(MARCO, "invoice")] == [1]
    assert (await desk.show(MARCO, 1)).ticket.watchers[-1].name == "marco"
    await desk.remove_watcher(SAM, 1, MARCO.person)
    assert await numbers(wired, MARCO) == [2]
    assert await desk.search(MARCO, "invoice") == []
    with pytest.raises(NotFound):
        await desk.show(MARCO, 1)
    await desk.watch(OMAR, 2)
    await desk.set_visibility(LENA, 2, "private")
    assert await numbers(wired, MARCO) == [], "private again: the organisation loses it"
    assert await numbers(wired, OMAR) == [2], "a watcher keeps it"
    assert await numbers(wired, ZED) == []
    async with wired.stores.reading() as store:
        found = await store.find_tickets(TicketQuery(viewer=OMAR.ref, sees_internal=False))
        watched = await store.get_ticket(1)
    assert [t.number for t in found] == [2]
    assert watched is not None and [w.ref.key for w in watched.watchers] == [
        "email::omar.mail@example.com"]


async def test_without_email_configured_nothing_waits_for_an_address(
        wired: Wired) -> None:
    """With no ``[email]`` an address is refused as a watcher (it would wait forever for
    mail nobody sends); one stored while e-mail was set up is sent nothing once it is
    off; tests/platform/email sends them mail when it is set."""
    await wired.desk.open_ticket(LENA, form())
    with pytest.raises(Invalid, match="e-mail is not set up on this desk"):
        await wired.desk.add_watcher(SAM, 1, email_watcher("Omar@Example.com"))
    with_mail = make_desk(wired.stores, clock=wired.clock, routes=[SHELL_ROUTE, MAIL_ROUTE])
    await with_mail.add_watcher(SAM, 1, email_watcher("Omar@Example.com"))
    await wired.desk.reply(SAM, 1, "We are on it")  # e-mail is off again
    await wired.worker.run_until_idle()
    deliveries = DeliveryRow.__table__
    async with wired.stores.reading() as store:
        queued = (await store.conn.execute(select(deliveries).where(
            deliveries.c.target == Target.EMAIL.value))).all()
        ticket = await store.get_ticket(1)
    assert len(queued) == 1, "only the cc made while e-mail was on"
    assert ticket is not None and [w.ref.key for w in ticket.watchers] == [
        "email::omar@example.com"]


async def test_a_shared_ticket_is_read_for_the_organisation_a_private_one_is_not(
        wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form(visibility="shared"))
    await desk.open_ticket(LENA, form(subject="Private"))
    clock.advance(60)
    await desk.reply(SAM, 1, "Answer one")
    await desk.reply(SAM, 2, "Answer two")
    clock.advance(60)
    assert await numbers(wired, MARCO, unread=True) == [1]
    assert await numbers(wired, LENA, unread=True) == [2, 1]
    await desk.show(OMAR, 1)  # any member of Lena's organisation
    assert await numbers(wired, MARCO, unread=True) == []
    assert await numbers(wired, LENA, unread=True) == [2]
    clock.advance(60)
    await desk.comment(LENA, 1, "Thanks!")  # new activity: unread again for the others
    assert await numbers(wired, MARCO, unread=True) == [1]
