"""``/ticket search`` on SQLite (FTS5) and PostgreSQL (tsvector): the query language,
ranking, snippets, visibility and read marks, on the index migration 0007 keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import Invalid
from core.identity import Actor
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.integration.conftest import Wired
from tests.support.old_schema import ticket_with_history
from tests.support.people import agent, form, make_desk, person

LENA, MARCO, OMAR, SAM = person("lena"), person("marco"), person("omar"), agent("sam")
ANA = agent("ana")


async def numbers(wired: Wired, who: Actor, text: str) -> list[int]:
    return [i.ticket.number for i in await wired.desk.search(who, text)]


async def test_words_phrases_negation_and_ranking(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form(subject="Printer jams", description="The paper tray "
                                      "is stuck since Monday"))
    clock.advance(60)
    await desk.open_ticket(LENA, form(subject="Wifi drops", description="Signal lost near "
                                      "the printer room"))
    clock.advance(60)
    await desk.open_ticket(LENA, form(subject="Laptop slow", description="Takes minutes"))
    await desk.comment(LENA, 3, "the printer driver update made it slow")
    assert await numbers(wired, LENA, "printer") == [1, 2, 3]  # subject > description > comment
    assert await numbers(wired, LENA, "PRINTER slow") == [3]  # every word must match
    assert await numbers(wired, LENA, '"paper tray"') == [1]
    assert await numbers(wired, LENA, '"tray paper"') == []  # a phrase keeps its order
    assert await numbers(wired, LENA, "printer -wifi") == [1, 3]
    assert await numbers(wired, LENA, 'printer -"driver update"') == [1, 2]
    assert await numbers(wired, LENA, "-printer") == []  # only negations: all excluded
    assert await numbers(wired, LENA, "-wifi -laptop") == [1]
    assert await numbers(wired, MARCO, "printer") == []  # lena's private tickets


async def test_numbers_as_tickets_and_as_words(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(subject="Refund please", description="Order 5512"))
    await desk.open_ticket(LENA, form(subject="Second", description="Order 1 was late"))
    await desk.open_ticket(MARCO, form(subject="Marco's", description="order 2"))
    assert await numbers(wired, LENA, "#2") == [2]
    assert await numbers(wired, LENA, "#3") == []  # not hers
    assert await numbers(wired, SAM, "#3 order") == [3]
    assert await numbers(wired, SAM, "#3 refund") == []
    assert await numbers(wired, LENA, "5512") == [1]  # an order id
    assert await numbers(wired, LENA, "1") == [1, 2]  # ticket #1 first, then the word
    assert await numbers(wired, LENA, "2") == [2]  # marco's ticket says 2: not hers
    assert await numbers(wired, SAM, "2") == [2, 3]


async def test_every_filter_and_filters_alone(wired: Wired) -> None:
    desk, clock = wired.desk, wired.clock
    await desk.open_ticket(LENA, form(subject="Billing question", category="billing",
                                      priority="high"))
    clock.advance(2 * 86400)
    await desk.open_ticket(LENA, form(subject="Billing refund", category="refund",
                                      fields={"receipt": "RC-1", "card_last4": "4242"}))
    clock.advance(2 * 86400)
    await desk.open_ticket(MARCO, form(subject="Billing again", category="billing"))
    await desk.claim(SAM, 1)
    await desk.assign(SAM, 3, ANA)
    await desk.resolve(SAM, 1, "Refunded the fee")
    day = lambda n: (wired.clock.now() - timedelta(days=n)).date().isoformat()  # noqa: E731
    assert sorted(await numbers(wired, SAM, "billing status:open")) == [2, 3]
    assert await numbers(wired, SAM, "billing status:closed") == [1]
    assert await numbers(wired, SAM, "billing status:resolved") == [1]
    assert await numbers(wired, SAM, "billing status:in_progress") == [3]
    assert sorted(await numbers(wired, SAM, "billing status:all")) == [1, 2, 3]
    assert await numbers(wired, SAM, "category:billing") == [3, 1]  # filters alone
    assert await numbers(wired, SAM, "category:Refund") == [2]  # key or name
    assert await numbers(wired, SAM, "priority:high") == [1]
    assert await numbers(wired, SAM, "assignee:me") == [1]
    assert await numbers(wired, SAM, "assignee:ana") == [3]
    assert await numbers(wired, SAM, "assignee:@ANA billing") == [3]
    assert await numbers(wired, SAM, "assignee:none") == [2]
    assert await numbers(wired, SAM, "requester:marco") == [3]
    assert await numbers(wired, SAM, "requester:%") == []  # a LIKE wildcard is a character
    assert await numbers(wired, LENA, "requester:me") == [1, 2]  # newest activity first
    assert await numbers(wired, LENA, "requester:marco") == []  # not hers to see
    assert await numbers(wired, SAM, f"before:{day(3)}") == [1]  # before: exclusive
    assert await numbers(wired, SAM, f"before:{day(4)}") == []
    assert await numbers(wired, SAM, f"after:{day(2)}") == [3, 2]  # from that day on
    assert await numbers(wired, SAM, f"after:{day(0)}") == [3]
    assert await numbers(wired, SAM, "billing -refund category:billing status:open") == [3]
    for query, field in (("status:maybe", "status"), ("category:nope", "category"),
                         ("priority:mega", "priority"), ("before:yesterday", "before"),
                         ("after:2026-13-01", "after"), ("billing status:", "status")):
        with pytest.raises(Invalid) as refused:
            await desk.search(SAM, query)
        assert refused.value.field == field, query


async def test_diacritics_and_scripts_beyond_latin(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(subject="Café au lait", description="Crème brûlée"))
    await desk.open_ticket(LENA, form(subject="Привет мир", description="Ошибка оплаты"))
    await desk.open_ticket(LENA, form(subject="Καλημερα κοσμε", description="λαθος"))
    await desk.open_ticket(LENA, form(subject="請求 エラー", description="東京 支店"))
    assert await numbers(wired, LENA, "cafe") == [1]
    assert await numbers(wired, LENA, "CAFÉ creme") == [1]
    assert await numbers(wired, LENA, "brulee") == [1]
    assert await numbers(wired, LENA, "привет") == [2]
    assert await numbers(wired, LENA, '"ошибка оплаты"') == [2]
    assert await numbers(wired, LENA, "καλημερα") == [3]
    assert await numbers(wired, LENA, "エラー") == [4]
    assert await numbers(wired, LENA, "東京") == [4]


async def test_a_change_is_searchable_once_committed_with_a_snippet(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(subject="VPN", description="It fails every morning "
                                      "when I connect from the office network downstairs"))
    assert await numbers(wired, LENA, "kerberos") == []
    await desk.reply(SAM, 1, "Looks like the kerberos ticket expires overnight")
    await desk.note(SAM, 1, "escalate to the identity team if kerberos again")
    [hit] = await desk.search(LENA, "kerberos")
    assert hit.snippet is not None and "kerberos" in hit.snippet
    assert "identity" not in hit.snippet  # the note is not hers to read
    [hit] = await desk.search(SAM, "identity")
    assert hit.snippet is not None and "identity team" in hit.snippet
    assert await numbers(wired, LENA, "identity") == []
    [hit] = await desk.search(LENA, "office")
    assert hit.snippet is not None and "office network" in hit.snippet
    assert "\x02" not in hit.snippet and "\x03" not in hit.snippet
    [hit] = await desk.search(LENA, "status:open")
    assert hit.snippet is None  # filters alone: nothing to cut around


async def test_internal_text_and_sensitive_fields_are_for_agents(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(category="refund", subject="Money back",
                                      visibility="shared",
                                      fields={"receipt": "RC-9", "card_last4": "4242"}))
    await desk.claim(SAM, 1)
    await desk.hold(SAM, 1, "waiting on acquirer")
    await desk.escalate(SAM, 1, "chargeback risk")
    assert await numbers(wired, SAM, "4242") == [1]
    assert await numbers(wired, SAM, "acquirer") == [1]
    assert await numbers(wired, SAM, "chargeback") == [1]
    for who in (LENA, OMAR):  # the requester, and her org on a shared ticket
        assert await numbers(wired, who, "money") == [1]
        for secret in ("4242", "acquirer", "chargeback"):
            assert await numbers(wired, who, secret) == [], (who, secret)
    [hit] = await desk.search(SAM, "4242")
    assert hit.snippet is None or "4242" not in hit.snippet  # never cut from a field


async def test_searching_marks_nothing_read(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(subject="Unread test"))
    wired.clock.advance(60)
    await desk.reply(SAM, 1, "An answer")
    for query in ("unread", "#1", "1", "status:open"):
        [hit] = await desk.search(LENA, query)
        assert hit.unread, query
    [listed] = await desk.list_tickets(LENA)
    assert listed.unread
    await desk.show(LENA, 1)  # opening it does
    assert not (await desk.search(LENA, "#1"))[0].unread


async def test_odd_input_never_reaches_the_engine_as_syntax(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(subject="Quote \"this\" OR that", description="NEAR"))
    for query in ('"unclosed phrase', 'a" OR b', "NEAR(x y)", "x*", "col:word", "^start",
                  "{subject}: x", "AND", "or", "a -", "- -x", "(", "'); drop table x;--",
                  "“curly” quotes", "#0", "#999999999", "99999999999"):
        try:  # answers, whatever it finds, or says there is nothing to look for
            await desk.search(LENA, query)
        except Invalid as refused:  # "(": no words; #0: no ticket has it (as show says)
            assert refused.field == "search" and query in ("(", "#0"), query
    assert await numbers(wired, LENA, "or that") == [1]  # OR is a word here
    assert await numbers(wired, LENA, '"quote this"') == [1]
    assert await numbers(wired, LENA, "near") == [1]


async def test_the_migration_indexes_tickets_written_before_it(database_url: str) -> None:
    await upgrade_async(database_url, "0006")
    engine = make_engine(database_url)
    try:
        desk = make_desk(SqlStores(engine))
        await ticket_with_history(engine)  # as a 0006 desk wrote it
        await upgrade_async(database_url)
        assert [i.ticket.number for i in await desk.search(LENA, "depot answer")] == [1]
        assert await desk.search(LENA, "remark") == []
        assert [i.ticket.number for i in await desk.search(SAM, "remark")] == [1]
        assert [i.ticket.number for i in await desk.search(MARCO, "older")] == [1]  # watcher
        assert await desk.search(OMAR, "older") == []
    finally:
        await engine.dispose()
