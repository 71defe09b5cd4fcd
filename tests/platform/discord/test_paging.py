"""Issue 12, point 2 on Discord through real discord.py in SimCord: ``/ticket list`` and
``queue`` in pages of 20 with a "More" button (a ``DynamicItem`` carrying the next
page in its ``custom_id``), authorised again when pressed — a forged or forwarded
button shows only what the presser may see — and pages longer than a message sent
whole over several messages."""

from __future__ import annotations

import re
from typing import Any

import discord

from adapters.discord.paging import MoreButton
from core.identity import Actor, UserRef
from tests.platform.discord.conftest import World, told
from tests.support.people import form


def requester(w: World, n: int) -> Actor:
    """One of five requesters of the guild (never delivered to: no thread is needed)."""
    return Actor(UserRef("discord", str(w.guild.id), str(700 + n % 5)), f"Req {n % 5}")


async def open_many(w: World, count: int, subject: str = "Printer") -> None:
    for n in range(count):
        await w.runtime.desk.open_ticket(requester(w, n), form(f"{subject} {n + 1}",
                                                              category="general"))


def numbers(*messages: Any) -> list[int]:
    return [int(n) for m in messages for n in re.findall(r"\*\*#(\d+)\*\*", m.content)]


def more_ids(message: Any) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row.get("components", [])
            if c.get("label") == "More"]


async def test_list_in_pages_with_a_more_button(world: World) -> None:
    w = world
    await open_many(w, 21)
    listed = await w.bob.slash(w.team, "ticket list")
    first = listed.response
    assert listed.ephemeral and numbers(first) == list(range(21, 1, -1))
    assert more_ids(first) == ["more:list open page 2"]
    pressed = await w.bob.click(first, label="More")
    second = told(pressed)
    assert second.ephemeral and numbers(second) == [1] and "*Page 2*" in second.content
    assert more_ids(second) == []
    again = await w.bob.slash(w.team, "ticket list", page=2)  # `page` everywhere
    assert numbers(again.response) == [1]
    past = await w.bob.slash(w.team, "ticket list", page=3)
    assert told(past).content == "**page**: there is no page 3; the list has 2 pages"


async def test_a_long_page_comes_whole_over_several_messages(world: World) -> None:
    w = world
    await open_many(w, 21, subject="A very long subject " * 6)
    listed = await w.bob.slash(w.team, "ticket list")
    messages = [listed.response, *listed.followups]
    assert len(messages) >= 2 and all(len(m.content) <= 2000 for m in messages)
    assert numbers(*messages) == list(range(21, 1, -1)), "no ticket of the page left out"
    assert [more_ids(m) for m in messages][-1] == ["more:list open page 2"]
    assert all(more_ids(m) == [] for m in messages[:-1])


async def test_queue_pages_for_agents_only(world: World) -> None:
    w = world
    await open_many(w, 22)
    queue = await w.bob.slash(w.team, "ticket queue")
    assert numbers(queue.response) == list(range(1, 21))  # soonest due first
    assert more_ids(queue.response) == ["more:queue page 2"]
    second = told(await w.bob.click(queue.response, label="More"))
    assert numbers(second) == [21, 22]
    assert numbers((await w.bob.slash(w.team, "ticket queue", page=2)).response) == [21, 22]
    refused = await w.dave.slash(w.support, "ticket queue", page=2)
    assert "only agents" in told(refused).content.lower()


async def test_a_forged_more_button_shows_only_what_the_presser_may_see(
        world: World) -> None:
    w = world
    await open_many(w, 21)
    channel = w.bot.get_channel(w.support.id)
    for words in ("list all page 2", "queue page 1"):
        view = discord.ui.View(timeout=None)
        view.add_item(MoreButton(words))
        await channel.send(f"More of {words}", view=view)
    await w.env.settle()
    listing, queue = w.support.history()[-2:]
    shown = told(await w.dave.click(listing, label="More"))  # dave may see no ticket
    assert shown.ephemeral and "there is no page 2; the list is empty" in shown.content
    refused = told(await w.dave.click(queue, label="More"))
    assert refused.ephemeral and "only agents" in refused.content.lower()
    agent = told(await w.bob.click(listing, label="More"))  # an agent sees the agent's
    assert numbers(agent) == [1]


async def test_search_in_pages(world: World) -> None:
    w = world
    await open_many(w, 22)
    found = await w.bob.slash(w.team, "ticket search", query="printer")
    shown = [found.response, *found.followups]  # with snippets: over two messages
    assert len(numbers(*shown)) == 20
    assert more_ids(shown[-1]) == ["more:search printer page 2"]
    second = told(await w.bob.click(shown[-1], label="More"))
    assert len(numbers(second)) == 2 and more_ids(second) == []
    long = "printer " + " ".join(["-absent"] * 12)  # too long for a custom_id
    paged = await w.bob.slash(w.team, "ticket search", query=long)
    shown = [paged.response, *paged.followups]
    assert all(more_ids(m) == [] for m in shown)
    assert shown[-1].content.endswith("More: the same search with page:2")
    assert len(numbers((await w.bob.slash(w.team, "ticket search", query=long,
                                          page=2)).response)) == 2
