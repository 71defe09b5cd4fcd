"""Hostile text gets the same answer on every store (TESTING.md, "hostile text").

PostgreSQL cannot store NUL in text (asyncpg: CharacterNotInRepertoireError) where
SQLite could; no engine can store a lone surrogate (no UTF-8 for it); PostgreSQL's
``VARCHAR(n)`` refuses what SQLite would keep. User text is refused by field name
before it reaches a store (``core.validation.clean_text``); display names, which come
from platforms, are kept with such characters replaced (``core.identity.display_name``).
"""

from __future__ import annotations

import pytest

from core.errors import Invalid
from core.identity import NAME_MAX, Actor, UserRef
from tests.contract.conftest import StoreUnderTest
from tests.support.people import agent, form, make_desk, person

LENA, SAM = person("lena"), agent("sam")
HOSTILE = {"nul": "a\x00b", "surrogate": "a\ud800b", "low surrogate": "\udfff",
           "long": "x" * 10_000}


@pytest.mark.parametrize("bad", HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_text_is_refused_by_field_and_stores_nothing(
        contract: StoreUnderTest, bad: str) -> None:
    desk = make_desk(contract.stores)
    await desk.open_ticket(LENA, form())
    attempts = {
        "search": lambda: desk.search(LENA, f"pixel {bad}"),
        "subject": lambda: desk.open_ticket(LENA, form(subject=bad)),
        "description": lambda: desk.open_ticket(LENA, form(description=bad)),
        "account": lambda: desk.open_ticket(LENA, form(account=bad)),
        "receipt": lambda: desk.open_ticket(LENA, form(category="refund",
                                                       fields={"receipt": bad})),
        "text": lambda: desk.comment(LENA, 1, bad),
        "question": lambda: desk.request_info(SAM, 1, bad),
        "reason": lambda: desk.hold(SAM, 1, bad),
        "resolution": lambda: desk.resolve(SAM, 1, bad),
    }
    for field, attempt in attempts.items():
        with pytest.raises(Invalid) as refused:
            await attempt()
        assert refused.value.field == field
    with pytest.raises(Invalid):
        await desk.note(SAM, 1, bad)
    shown = await desk.show(SAM, 1)
    assert [e.kind.value for e in shown.events] == ["opened"]
    assert (await desk.open_ticket(LENA, form(subject="next"))).ticket.number == 2


async def test_search_at_its_limit_and_odd_but_storable_text(contract: StoreUnderTest) -> None:
    desk = make_desk(contract.stores)
    await desk.open_ticket(LENA, form(subject="Émoji 🎉 \u200f", description="tab\there"))
    assert await desk.search(LENA, "y" * 200) == []
    with pytest.raises(Invalid):
        await desk.search(LENA, "y" * 201)
    for words in ("🎉", "\u200f", "'", "\\", "%_", '"', "-", "#"):
        with pytest.raises(Invalid) as refused:  # no letter or digit: nothing to look for
            await desk.search(LENA, words)
        assert refused.value.field == "search"  # alike everywhere, never a crash
    assert [i.ticket.number for i in await desk.search(LENA, "tab\there")] == [1]
    assert [i.ticket.number for i in await desk.search(LENA, "🎉 emoji")] == [1]
    text = "ü" * 4000
    await desk.comment(LENA, 1, text)
    assert (await desk.show(LENA, 1)).events[-1].text == text


async def test_display_names_that_no_database_holds_are_kept_readable(
        contract: StoreUnderTest) -> None:
    desk = make_desk(contract.stores)
    odd = Actor(UserRef("shell", "local", "odd"), "Od\x00d \ud800" + "n" * 500)
    assert odd.name.startswith("Od\ufffdd \ufffd") and len(odd.name) == NAME_MAX
    await desk.open_ticket(odd, form())
    await desk.add_watcher(odd, 1, Actor(UserRef("shell", "local", "w"), "W\x00").person)
    await desk.assign(SAM, 1, Actor(UserRef("shell", "local", "ag"), "A\x00g",
                                    frozenset({"agents"})))
    shown = await desk.show(SAM, 1)
    t = shown.ticket
    assert t.requester.name == odd.name
    assert [w.name for w in t.watchers] == ["W\ufffd"]
    assert t.assignee is not None and t.assignee.name == "A\ufffdg"
    assert {e.actor.name for e in shown.events if e.actor} == {odd.name, "sam"}
