"""Export and import (issue 12, point 6): a desk built on SQLite, exported as JSON lines,
imported into a fresh PostgreSQL and a fresh SQLite database, compared row by row, table
by table — and the imported desk goes on working. CSV reads with ``csv.reader``;
sensitive fields stay out unless asked for; a non-empty database and bad lines are
refused with nothing imported; memory stays flat as the desk grows."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.delivery import DeliveryWorker
from core.events import Attachment
from core.identity import Person, UserRef
from core.inbound import Receipt
from core.store.engine import make_engine
from core.store.export_format import CSV_COLUMNS, SensitiveFields
from core.store.export_sql import ExportOptions, export_chunks
from core.store.import_sql import BadExport, NotEmpty, import_lines
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores
from core.store.tables import Base
from core.tickets import LinkKind
from tests.support.exports import generated_export
from tests.support.people import agent, desk_config, form, make_desk, person
from tests.support.recording import RecordingOutbound

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SAM, LENA, OMAR = agent("sam"), person("lena"), person("omar")


async def _build_desk(url: str) -> None:
    """Tickets in many states: comments with attachments, notes, watchers, links, a
    rating, waiting and held clocks, timers, read marks, deliveries (some delivered),
    inbound keys and thread cursors, a sensitive field."""
    await upgrade_async(url)
    engine = make_engine(url)
    clock = FrozenClock(START)
    stores = SqlStores(engine)
    desk = make_desk(stores, clock=clock)
    try:
        one = (await desk.open_ticket(LENA, form("Pixel not firing"))).ticket.number
        clock.advance(300)
        await desk.reply(SAM, one, "Looking at it.")
        await desk.note(SAM, one, "Tag manager changed last week.",
                        attachments=[Attachment("trace.har", 2048, "https://x.test/trace")])
        await desk.comment(LENA, one, "Here is a screenshot — ünïcode ✓\nsecond line",
                           attachments=[Attachment("shot.png", 10, "https://x.test/s")])
        await desk.add_watcher(SAM, one, Person(UserRef("shell", "local", "kim"), "Kim"))
        clock.advance(3600)
        await desk.resolve(SAM, one, "Re-added the pixel.")
        await desk.rate(LENA, one, "good", "Quick, thanks")
        refund = (await desk.open_ticket(OMAR, form(
            "Refund missing", "Refund for order 77 never came.", category="refund",
            fields={"receipt": "R-1", "card_last4": "4242"}))).ticket.number
        await desk.show(OMAR, refund)
        await desk.claim(SAM, refund)
        await desk.request_info(SAM, refund, "Which card did you use?")
        await desk.link(SAM, refund, LinkKind.RELATED, one)
        clock.advance(7200)
        held = (await desk.open_ticket(LENA, form("Report broken", "Numbers off.",
                                                  category="data", priority="high",
                                                  visibility="shared"))).ticket.number
        await desk.hold(SAM, held, "Waiting on the vendor")
        await desk.escalate(SAM, held, "Customer is large")
        await desk.set_priority(SAM, held, "urgent")
        await desk.show(SAM, held)
        asked = (await desk.open_ticket(OMAR, form("Login loop", "Cannot log in."))
                 ).ticket.number
        await desk.reply(SAM, asked, "Cleared your sessions.")
        await desk.ask_close(SAM, asked)
        worker = DeliveryWorker(SqlOutbox(engine), [RecordingOutbound()], desk.config,
                                clock=clock)
        await worker.run_once()  # some deliveries delivered, later ones still pending
        await desk.comment(OMAR, asked, "Still looping.")
        bound = (await desk.bindings_of(one))[0]
        async with stores.transaction() as store:
            events = await store.events(one)
            await store.record_inbound(Receipt(("shell:message:1",), 10, "m1"),
                                       events[-1].id, bound.id, clock.now())
            await store.record_inbound(Receipt(("shell:message:2",)), None, None,
                                       clock.now())
    finally:
        await engine.dispose()


async def _export(url: str, **options: Any) -> str:
    engine = make_engine(url)
    try:
        chunks = [c.text async for c in export_chunks(engine, ExportOptions(
            exported_at=START, **options))]
    finally:
        await engine.dispose()
    return "".join(chunks)


def _parsed(export: str) -> list[dict[str, Any]]:
    """The export's lines, each ticket's rows sorted by their whole content."""
    lines = [json.loads(line) for line in export.splitlines()]
    for line in lines:
        for name, rows in line.items():
            if name != "ticket" and isinstance(rows, list):
                rows.sort(key=lambda row: json.dumps(row, sort_keys=True))
    return lines


async def _import(url: str, text: str, batch: int = 500) -> Any:
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        return await import_lines(engine, io.StringIO(text), batch=batch)
    finally:
        await engine.dispose()


async def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in key order, as the ORM reads them (times as aware UTC)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: [dict(r) for r in (await conn.execute(
                    select(table).order_by(*table.primary_key.columns))).mappings()]
                for table in Base.metadata.sorted_tables}
    finally:
        await engine.dispose()


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'source.db'}"
    await _build_desk(url)
    yield url


async def test_round_trip_keeps_every_row(source: str, database_url: str) -> None:
    url = database_url
    text = await _export(source)
    done = await _import(url, text)
    before, after = await _dump(source), await _dump(url)
    assert done.tickets == 4 and done.next_number == 5
    for name, rows in before.items():
        if name == "counters":  # PostgreSQL numbers tickets from a sequence (0004)
            continue
        if Base.metadata.tables[name].info.get("derived"):  # not exported: made again
            assert name not in text  # (ticket_embeddings: helpthread db embed)
            continue
        assert rows, f"the source desk has no {name} rows: the round trip shows nothing"
        assert after[name] == rows, name
    if url.startswith("sqlite"):
        assert after["counters"] == before["counters"]
    # Exported again from the new database: the same lines (PostgreSQL spaces its JSON;
    # a ticket's rows of a table come in no set order, each with its key).
    assert _parsed(await _export(url))[1:] == _parsed(text)[1:]
    # The imported desk works: numbers and ids continue after the imported ones.
    engine = make_engine(url)
    try:
        desk = make_desk(SqlStores(engine), clock=FrozenClock(START + timedelta(days=1)))
        new = (await desk.open_ticket(LENA, form("After the move", "New desk."))).ticket
        await desk.reply(SAM, 1, "Still here after the move.")
        assert new.number == 5
        events = await desk.show(SAM, 1)
        assert events.ticket.number == 1
    finally:
        await engine.dispose()
    moved = await _dump(url)
    highest_event = max(r["id"] for r in before["events"])
    assert min(r["id"] for r in moved["events"] if r["id"] > highest_event) == \
        highest_event + 1


async def test_history_sla_and_timers_come_back_as_they_were(source: str,
                                                             tmp_path: Path) -> None:
    text = await _export(source)
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["helpthread_export"] == 1 and lines[0]["revision"] is not None
    assert lines[-1] == {"end": {"tickets": 4, "next_number": 5}}
    refund = next(line for line in lines if line.get("ticket", {}).get("number") == 2)
    assert refund["ticket"]["status"] == "waiting"
    assert refund["ticket"]["sla"]["running_since"] is None  # paused while waiting
    assert refund["timers"] and refund["read_marks"]
    assert [e["kind"] for e in refund["events"]] == ["opened", "claimed", "waiting",
                                                     "linked"]
    desk_rows = [line for line in lines if "table" in line]
    noted = next(e["id"] for e in lines[1]["events"] if e["kind"] == "commented")
    seen = (START + timedelta(hours=3, minutes=5)).isoformat(timespec="microseconds")
    assert lines[1]["ticket"]["opened_at"] == "2026-03-02T09:00:00.000000+00:00"
    assert desk_rows == [{"table": "inbound_keys", "rows": [
        {"key": "shell:message:1", "event_id": lines[1]["events"][-1]["id"], "seen_at": seen},
        {"key": "shell:message:2", "event_id": None, "seen_at": seen}]}]
    assert noted < lines[1]["events"][-1]["id"]


async def test_sensitive_fields_only_when_asked(source: str, tmp_path: Path) -> None:
    hide = SensitiveFields.of(desk_config())
    hidden = await _export(source, hide=hide)
    kept = await _export(source)
    assert "4242" not in hidden and "card_last4" not in hidden
    assert '"card_last4":"4242"' in kept
    url = f"sqlite+aiosqlite:///{tmp_path / 'hidden.db'}"
    done = await _import(url, hidden)
    assert not done.sensitive
    refund = next(r for r in (await _dump(url))["tickets"] if r["number"] == 2)
    assert refund["fields"] == {"receipt": "R-1"}


async def test_csv_reads_with_the_standard_library(source: str) -> None:
    text = await _export(source, format="csv", hide=SensitiveFields.of(desk_config()))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    by_number = {row[0]: dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert sorted(by_number) == ["1", "2", "3", "4"]
    one = by_number["1"]
    assert one["status"] == "resolved" and one["rating"] == "good"
    assert (one["comments"], one["notes"]) == ("2", "1")
    assert one["watchers"] == "shell:local:kim"
    assert one["opened_at"] == START.isoformat()
    assert by_number["2"]["links"] == "related #1"
    assert json.loads(by_number["2"]["fields"]) == {"receipt": "R-1"}
    since = await _export(source, format="csv", since=START + timedelta(hours=2))
    assert [row[0] for row in csv.reader(io.StringIO(since))][1:] == ["3", "4"]


async def test_refuses_a_database_that_holds_tickets(source: str) -> None:
    text = await _export(source)
    with pytest.raises(NotEmpty, match=r"already holds 4 tickets \(#1-#4\)"):
        await _import(source, text)


@pytest.mark.parametrize("damage, line, says", [
    (lambda lines: lines.__setitem__(2, lines[2][:-5]), 3, "not JSON"),
    (lambda lines: lines.__setitem__(0, '{"format": "csv"}'), 1, "not a helpthread export"),
    (lambda lines: lines.pop(), 6, "without its closing line"),
    (lambda lines: lines.insert(3, lines[2]), 4, "ascending order"),
    (lambda lines: lines.__setitem__(1, lines[1].replace('"subject":', '"colour":"red",'
                                                         '"subject":')), 2,
     "no column 'colour'"),
    (lambda lines: lines.__setitem__(1, lines[1].replace('"opened_at":"2026',
                                                         '"opened_at":"x2026')), 2,
     "tickets.opened_at"),
])
async def test_bad_lines_are_named_and_nothing_is_imported(
        source: str, database_url: str, damage: Any, line: int, says: str) -> None:
    lines = (await _export(source)).splitlines()
    damage(lines)
    with pytest.raises(BadExport, match=f"^line {line}: .*{says}"):
        await _import(database_url, "\n".join(lines) + "\n")
    assert all(not rows for name, rows in (await _dump(database_url)).items()
               if name != "counters")


async def test_a_row_the_database_refuses_is_named_by_its_line(
        source: str, database_url: str) -> None:
    lines = (await _export(source)).splitlines()
    second = json.loads(lines[2])
    second["events"][0]["id"] = json.loads(lines[1])["events"][0]["id"]  # a duplicate id
    lines[2] = json.dumps(second)
    with pytest.raises(BadExport, match=r"^line 3: the database refused it"):
        await _import(database_url, "\n".join(lines) + "\n", batch=2)


async def test_memory_stays_flat_as_the_desk_grows(tmp_path: Path) -> None:
    """Peak memory allocated while exporting 4,000 tickets is about that of 1,000: each
    batch is written before the next is read."""
    peaks = []
    for count in (1000, 4000):
        url = f"sqlite+aiosqlite:///{tmp_path / f'desk{count}.db'}"
        await _import(url, "".join(generated_export(count, START)))
        engine = make_engine(url)
        written = 0
        try:
            tracemalloc.start()
            async for chunk in export_chunks(engine, ExportOptions(exported_at=START,
                                                                   batch=200)):
                written += chunk.tickets
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
            await engine.dispose()
        assert written == count
    assert peaks[1] < peaks[0] * 1.3, peaks


def _damaged(lines: list[str], table: str, column: str, value: Any,
             kind: str | None = None) -> int:
    """Sets ``column`` of the first ``table`` row (of event ``kind`` when given) to
    ``value`` on the first line holding one; returns that line's number (1-based)."""
    for index, raw in enumerate(lines):
        line = json.loads(raw)
        rows = [line["ticket"]] if table == "tickets" and "ticket" in line \
            else line.get(table) or []
        if table != "tickets" and line.get("table") == table:
            rows = line["rows"]
        for row in rows:
            if kind is None or row.get("kind") == kind:
                row[column] = value
                lines[index] = json.dumps(line)
                return index + 1
    raise AssertionError(f"no {table} row to damage")


@pytest.mark.parametrize("table, column, value, kind, says", [
    ("tickets", "status", "weird", None, "'weird' is not one of open, in_progress"),
    ("tickets", "priority", "asap", None, "'asap' is not one of low, normal"),
    ("tickets", "visibility", "public", None, "'public' is not one of private, shared"),
    ("tickets", "rating", "meh", None, "'meh' is not one of good, bad"),
    ("tickets", "requester_key", "lena", None, "not a user key"),
    ("tickets", "assignee_key", "sam", None, "not a user key"),
    ("tickets", "fields", {"receipt": 5}, None, "not a JSON object of texts"),
    ("tickets", "fields", "notjson{", None, "not a JSON object of texts"),
    ("tickets", "watchers", [["shell:local:kim"]], None, "not a \\[key, name\\] pair"),
    ("tickets", "watchers", [["kim", "Kim"]], None, "not a user key"),
    ("tickets", "links", [["sibling", 1]], None, "not a list of \\[kind, number\\] pairs"),
    ("tickets", "sla", {"cycle": "one"}, None, "not SLA clocks: 'cycle' is 'one'"),
    ("tickets", "sla", "notjson{", None, "not a JSON object"),
    ("bindings", "audience", "everyone", None, "'everyone' is not one of public, internal"),
    ("events", "kind", "exploded", None, "'exploded' is not one of opened"),
    ("events", "audience", "all", None, "'all' is not one of public, internal"),
    ("events", "actor_key", "sam", None, "not a user key"),
    ("events", "data", "notjson{", None, "'notjson{' is not a JSON object"),
    ("events", "data", [], None, "is not a JSON object"),
    ("events", "data", {"text": 5}, "commented", "'text' is 5, not a str"),
    ("events", "data", {"text": "hi", "colour": "red"}, "commented", "no field 'colour'"),
    ("events", "data", {}, "commented", "missing"),
    ("events", "data", {"text": "hi", "attachments": [{"size": 3}]}, "commented",
     "not the data of an event of kind 'commented'"),
    ("events", "data", {"to": "weird"}, "claimed", "'weird' is not a valid Status"),
    ("deliveries", "state", "lost", None, "'lost' is not one of pending, done, parked"),
    ("deliveries", "target", "pigeon", None, "'pigeon' is not one of binding"),
    ("deliveries", "purpose", "fun", None, "'fun' is not one of card"),
    ("deliveries", "audience", "all", None, "'all' is not one of public"),
    ("read_marks", "reader_key", "omar", None, "not a user key"),
    ("timers", "kind", "alarm", None, "'alarm' is not one of first_response_warning"),
    ("timers", "command", {"command": "explode"}, None, "not a stored command"),
    ("timers", "command", "notjson{", None, "not a stored command"),
])
async def test_a_value_the_desk_cannot_read_is_named_and_nothing_is_imported(
        source: str, database_url: str, table: str, column: str, value: Any,
        kind: str | None, says: str) -> None:
    """Every enumerated column against its enum, every JSON column against what the store
    reads back (event data: the payload its kind expects) — refused by line and column."""
    lines = (await _export(source)).splitlines()
    line = _damaged(lines, table, column, value, kind)
    with pytest.raises(BadExport, match=f"^line {line}: {table}.{column}: .*{says}"):
        await _import(database_url, "\n".join(lines) + "\n")
    assert all(not rows for name, rows in (await _dump(database_url)).items()
               if name != "counters")


async def test_a_category_the_config_no_longer_names_still_reads(
        source: str, database_url: str) -> None:
    """A category key the importing desk's config lacks is kept, and the ticket shows,
    lists and searches (its fields as they were)."""
    lines = (await _export(source)).splitlines()
    _damaged(lines, "tickets", "category", "legacy-billing")
    await _import(database_url, "\n".join(lines) + "\n")
    engine = make_engine(database_url)
    try:
        desk = make_desk(SqlStores(engine), desk_config())
        shown = await desk.show(SAM, 1)
        assert shown.ticket.category == "legacy-billing"
        assert sorted(t.ticket.number for t in await desk.list_tickets(SAM, "all")) == [1, 2, 3, 4]
        await desk.reply(SAM, 1, "Still here after the move.")
    finally:
        await engine.dispose()
