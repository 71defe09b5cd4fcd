"""PostgreSQL's export writes each ticket's whole line in the database
(``core.store.export_json.ticket_lines_sql``): text that JSON and the line format must
escape — backslashes, quotes, tabs, line breaks, non-Latin scripts,
emoji — comes back exactly as imported, one ticket a line; sensitive fields are stripped
in SQL per category, the rest of the ticket untouched; ``since`` and the batch
boundaries leave no ticket out and none twice."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from core.store.engine import make_engine
from core.store.export_format import SensitiveFields
from core.store.export_sql import ExportOptions, export_chunks
from core.store.import_sql import import_lines
from core.store.migrate import upgrade_async
from tests.support.exports import generated_export

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Multi-line text as the desk takes it (an import refuses control characters, as the
# desk does on the way in); ONE_LINE as a subject or a category field may hold it.
TRICKY = ('back\\slash \\n "quoted" tab\there\nnew line\r\n '
          'café Ελληνικά 日本語 עברית 🎫 \u2028 \\u00e9 {"not": "json"}')
ONE_LINE = 'back\\slash \\n "quoted" café Ελληνικά 日本語 עברית 🎫 \\u00e9 {"not": "json"}'
HIDE = SensitiveFields({"billing": frozenset({"card_last4"}), "general": frozenset(),
                        "technical": frozenset({"receipt", "card_last4"})})


def _source(count: int) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in generated_export(count, START)]
    for line in lines[1:-1]:
        n = line["ticket"]["number"]
        if n % 2:
            line["ticket"]["description"] = TRICKY
            line["ticket"]["subject"] = ONE_LINE[:60]
            line["ticket"]["fields"] = {"receipt": ONE_LINE, "card_last4": "4242"}
            for event in line["events"]:
                if "text" in event["data"]:
                    event["data"]["text"] = event["body"] = TRICKY + str(n)
        if n == 3:
            line["ticket"]["category"] = "retired"  # a category the config no longer names
        if n == 5:
            line["ticket"]["category"] = "general"
    return lines


async def _export(url: str, **options: Any) -> list[str]:
    engine = make_engine(url)
    try:
        text = "".join([c.text async for c in export_chunks(engine, ExportOptions(
            exported_at=START, batch=4, **options))])
    finally:
        await engine.dispose()
    assert text.endswith("\n")
    return text.split("\n")[:-1]


def _sorted(line: dict[str, Any]) -> dict[str, Any]:
    return {name: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
            if isinstance(rows, list) else rows for name, rows in line.items()}


async def _imported(url: str, source: list[dict[str, Any]]) -> None:
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        await import_lines(engine, io.StringIO("".join(
            json.dumps(line, ensure_ascii=False) + "\n" for line in source)))
    finally:
        await engine.dispose()


async def test_tricky_text_comes_back_exactly_one_ticket_a_line(postgres_url: str,
                                                                 tmp_path: Path) -> None:
    source = _source(11)
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'same.db'}"
    await _imported(postgres_url, source)
    await _imported(sqlite_url, source)

    lines = await _export(postgres_url)
    assert len(lines) == len(source)  # header, 11 tickets, the closing line
    exported = [json.loads(line) for line in lines]
    assert [_sorted(line) for line in exported[1:-1]] == \
        [_sorted(json.loads(line)) for line in (await _export(sqlite_url))[1:-1]]
    for before, after in zip(source[1:-1], exported[1:-1], strict=True):
        assert {k: after["ticket"][k] for k in before["ticket"]} == before["ticket"]
        assert _sorted(after)["events"] == _sorted(before)["events"]
    assert exported[1]["ticket"]["description"] == TRICKY
    assert exported[-1] == {"end": {"tickets": 11, "next_number": 12}}

    hidden = [json.loads(line) for line in (await _export(postgres_url, hide=HIDE))[1:-1]]
    fields = {line["ticket"]["number"]: line["ticket"]["fields"] for line in hidden}
    for line in source[1:-1]:
        ticket = line["ticket"]
        stored, category = ticket["fields"], ticket["category"]
        keys = HIDE.keys(category)
        assert fields[ticket["number"]] == {k: v for k, v in stored.items() if k not in keys}
    assert fields[3] == {}  # "retired": every key sensitive anywhere goes
    kept = [line for line in (await _export(postgres_url, hide=HIDE))[1:-1] if "4242" in line]
    assert [json.loads(line)["ticket"]["category"] for line in kept] == \
        ["general"] * len(kept) != []  # the one category with no sensitive field
    for before, after in zip(source[1:-1], hidden, strict=True):  # nothing else changed
        assert {k: after["ticket"][k] for k in before["ticket"] if k != "fields"} == \
            {k: v for k, v in before["ticket"].items() if k != "fields"}
        assert _sorted(after)["events"] == _sorted(before)["events"]

    since = [json.loads(line) for line in (await _export(
        postgres_url, since=START + timedelta(minutes=5)))[1:-1]]
    assert [line["ticket"]["number"] for line in since] == list(range(5, 12))


async def test_an_import_indexes_each_events_text_as_one_at_a_time_would(
        postgres_url: str) -> None:
    """Migration 0011's statement-level trigger: an import's ``COPY`` of many tickets'
    events appends each ticket's texts in id order, public ones to ``comments`` and the
    rest to ``notes`` — as adding them one by one does — and search finds them."""
    source = _source(6)
    await _imported(postgres_url, source)
    engine = make_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            rows = {n: (comments, notes) for n, comments, notes in await conn.execute(text(
                "SELECT ticket_number, comments, notes FROM ticket_search"))}
            await conn.execute(text(
                "INSERT INTO events (ticket_number, kind, actor_key, actor_name, at, platform,"
                " audience, data, body) VALUES (2, 'commented', 'shell:local:sam', 'sam', "
                "now(), 'shell', 'public', '{}', 'zanzibar')"))
            found = (await conn.execute(text(
                "SELECT ticket_number FROM ticket_search WHERE public_doc @@ "
                "websearch_to_tsquery('simple', 'zanzibar')"))).scalars().all()
            await conn.rollback()
    finally:
        await engine.dispose()
    for line in source[1:-1]:
        texts = [(e["audience"] == "public" and e["kind"] not in ("held", "escalated",
                                                                   "rated"), e["body"])
                 for e in sorted(line["events"], key=lambda e: e["id"]) if e["body"]]
        assert rows[line["ticket"]["number"]] == (
            "".join("\n" + body for public, body in texts if public),
            "".join("\n" + body for public, body in texts if not public))
    assert found == [2]
