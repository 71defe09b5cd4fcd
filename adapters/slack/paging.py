"""``/ticket list``, ``queue`` and ``search`` page by page (issue 12, point 2), answered
ephemerally: a page of 20, and under a page that goes on a "More" button.

The button carries the listing's words for the next page in its ``value``
(``core.grammar.ListTickets.words``: ``list open mine page 2``). A press reads them
back with ``grammar.parse_listing`` and asks the desk again *as the presser*: the
desk decides what they may see, so a forged value shows nothing beyond the
presser's own list, a non-agent's forged queue is refused, and a value naming any
other command is refused. The next page comes as a new ephemeral message (the
earlier pages stay where they were).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack import answers, ids
from adapters.slack.context import Shared
from adapters.slack.text import from_slack
from core import grammar
from core.errors import DeskError
from core.identity import Actor
from core.views import Page

QUEUE_EMPTY = "The queue is empty: nothing unassigned or overdue."
NOTHING_FOUND = "Nothing found."
Listing = grammar.ListTickets | grammar.Queue | grammar.Search


class Paging:
    def __init__(self, shared: Shared) -> None:
        self.s = shared

    def register(self, app: AsyncApp) -> None:
        app.action(ids.MORE)(self.s.inflight.track(self.on_more))

    async def page(self, actor: Actor, request: Listing) -> Page:
        """The page ``request`` names, as ``actor`` may see it. Raises the desk's errors."""
        desk = self.s.desk
        if isinstance(request, grammar.Queue):
            return await desk.queue_page(actor, request.page)
        if isinstance(request, grammar.Search):  # as Slack sent it: &, <, > escaped
            return await desk.search_page(actor, from_slack(request.text), request.page)
        return await desk.list_page(actor, request.scope, mine=request.mine, org=request.org,
                                    unread=request.unread, page=request.page)

    async def show(self, actor: Actor, request: Listing, body: dict[str, Any]) -> None:
        """Answers ``body``'s user with the page (and a "More" button when it goes on).
        Raises the desk's errors."""
        page = await self.page(actor, request)
        empty = (QUEUE_EMPTY if isinstance(request, grammar.Queue) else NOTHING_FOUND
                 if isinstance(request, grammar.Search) else request.nothing())
        await self.s.answer(body, answers.page_pieces(page, empty),
                            extra=answers.more_button(page, request))

    async def on_more(self, ack: Any, body: dict[str, Any]) -> None:
        """The "More" button: the next page, for whoever pressed it."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        try:
            request = grammar.parse_listing(str(action.get("value") or ""))
            await self.show(await self.s.actor(body), request, body)
        except DeskError as err:
            await self.s.tell(body, answers.refusal(err))
