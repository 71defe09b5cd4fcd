"""Issue 13, point 4, in core: who may comment by e-mail (``COMMENT_BY_MAIL``) — the
ticket's requester and its watchers, nobody else: not an org member on a shared ticket
(an address belongs to no org), not an agent (a From line proves nothing), not someone who
only knows the number. Nothing else of the ticket changes."""

from __future__ import annotations

import pytest

from core.errors import InvalidTransition, NotAllowed, NotFound
from core.events import EventKind
from core.identity import Actor, Person, UserRef
from tests.support.memory import MemoryStores
from tests.support.people import MAIL_ROUTE, SHELL_ROUTE, agent, form, make_desk

SAM = agent("sam")


def mailer(address: str) -> Actor:
    return Actor(UserRef.email(address), address.split("@")[0])


LENA, OMAR, EVE = mailer("lena@example.com"), mailer("omar@example.com"), \
    mailer("eve@example.com")
ROUTES = [SHELL_ROUTE, MAIL_ROUTE]  # [email] set up: addresses may open and watch


async def test_requester_and_watchers_may_comment_by_mail_nobody_else() -> None:
    stores = MemoryStores()
    desk = make_desk(stores, routes=ROUTES)
    await desk.open_ticket(LENA, form(visibility="shared"))
    await desk.add_watcher(LENA, 1, Person(OMAR.ref, "Omar"))
    await desk.comment_by_mail(LENA, 1, "from the requester")
    await desk.comment_by_mail(OMAR, 1, "from a watcher")
    for someone in (EVE, mailer("mallory@example.net")):  # addresses share no org
        with pytest.raises(NotFound):
            await desk.comment(someone, 1, "a shared ticket is not theirs")
    with pytest.raises(NotFound):
        await desk.comment_by_mail(EVE, 1, "I know the number")
    with pytest.raises((NotFound, NotAllowed)):
        await desk.comment_by_mail(SAM, 1, "an agent's identity on another platform")
    texts = [e.text for e in stores.state.events if e.kind is EventKind.COMMENTED]
    assert texts == ["from the requester", "from a watcher"]


async def test_a_watchers_mail_does_not_reopen_a_closed_ticket() -> None:
    desk = make_desk(MemoryStores(), routes=ROUTES)
    await desk.open_ticket(LENA, form())
    await desk.add_watcher(LENA, 1, Person(OMAR.ref, "Omar"))
    await desk.close(SAM, 1)
    with pytest.raises(InvalidTransition):
        await desk.comment_by_mail(OMAR, 1, "still broken?")
    reopened = await desk.comment_by_mail(LENA, 1, "still broken")
    assert reopened.ticket.status.value == "open"


async def test_the_message_id_makes_a_second_delivery_a_replay() -> None:
    stores = MemoryStores()
    desk = make_desk(stores, routes=ROUTES)
    await desk.open_ticket(LENA, form())
    first = await desk.comment_by_mail(LENA, 1, "hi", request_key="email:a@example.com")
    again = await desk.comment_by_mail(LENA, 1, "hi", request_key="email:a@example.com")
    assert again.replayed and again.event.id == first.event.id
