"""A database written by the first schema upgrades to typed event payloads (0002)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from core.events import (
    Assigned,
    Attachment,
    Closed,
    Commented,
    Escalated,
    EventKind,
    Held,
    InfoRequested,
    Linked,
    Opened,
    PriorityChanged,
    Resolved,
    Resumed,
)
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from core.tickets import LinkKind, Status

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)

# Rows as the first schema's desk wrote them (core/events.py before 0002).
OLD_ROWS: list[tuple[str, str, dict[str, object]]] = [
    ("opened", "public", {"on_behalf": True}),
    ("commented", "public", {"text": "It charged me twice", "attachments": [
        {"name": "receipt.png", "size": 2048, "url": "https://files.test/r",
         "slack_file": "F1"}]}),
    ("assigned", "public", {"assignee": "Ana", "to": "in_progress"}),
    ("waiting", "public", {"text": "Which order?", "to": "waiting"}),
    ("resumed", "public", {"by_reply": True, "to": "in_progress"}),
    ("held", "public", {"to": "on_hold", "internal": {"reason": "bank ref 5512"}}),
    ("priority_changed", "public", {"from": "normal", "to": "urgent"}),
    ("escalated", "public", {"level": 1, "internal": {"reason": "partner account"}}),
    ("resolved", "public", {"text": "Refunded the duplicate", "to": "resolved"}),
    ("closed", "public", {"to": "closed"}),
    ("linked", "internal", {"link": "related", "number": 7}),
]

EXPECTED = [
    Opened(on_behalf=True),
    Commented("It charged me twice", (Attachment("receipt.png", 2048, "https://files.test/r"),)),
    Assigned("Ana", Status.IN_PROGRESS),
    InfoRequested("Which order?"),
    Resumed(Status.IN_PROGRESS, by_reply=True),
    Held("bank ref 5512"),
    PriorityChanged("normal", "urgent"),
    Escalated(1, "partner account"),
    Resolved("Refunded the duplicate"),
    Closed(None),
    Linked(LinkKind.RELATED, 7),
]


async def test_first_schema_rows_become_typed_payloads(database_url: str) -> None:
    await upgrade_async(database_url, "0001")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO tickets (number, subject, description, category, priority, "
                "status, visibility, requester_key, requester_org, requester_name, fields, "
                "watchers, watcher_keys, links, source, escalation_level, opened_at) VALUES "
                "(1, 'Charged twice', 'Order 77', 'refund', 'urgent', 'closed', 'private', "
                "'shell:local:lena', 'shell:local', 'lena', '{}', '[]', '|', '[]', 'shell', 1, "
                ":at)"), {"at": AT})
            for kind, audience, data in OLD_ROWS:
                await conn.execute(text(
                    "INSERT INTO events (ticket_number, kind, actor_key, actor_name, at, "
                    "platform, audience, data, body) VALUES (1, :kind, 'shell:local:sam', "
                    "'sam', :at, 'shell', :audience, :data, :body)"),
                    {"kind": kind, "at": AT, "audience": audience, "data": json.dumps(data),
                     "body": data.get("text")})
        await upgrade_async(database_url)
        async with SqlStores(engine).transaction() as store:
            stored = await store.events(1)
        assert [e.payload for e in stored] == EXPECTED
        assert [e.kind for e in stored][:2] == [EventKind.OPENED, EventKind.COMMENTED]
        await upgrade_async(database_url)  # a second run finds nothing to do
    finally:
        await engine.dispose()


async def test_0003_parks_failed_deliveries_and_defaults_the_new_columns(
        database_url: str) -> None:
    """A 0002 database's deliveries: a failed one becomes parked (a dead letter
    ``helpthread deliveries retry`` can re-queue); none is held, maybe sent or merged."""
    await upgrade_async(database_url, "0002")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO tickets (number, subject, description, category, priority, "
                "status, visibility, requester_key, requester_org, requester_name, fields, "
                "watchers, watcher_keys, links, source, escalation_level, opened_at) VALUES "
                "(1, 'Charged twice', 'Order 77', 'refund', 'urgent', 'open', 'private', "
                "'shell:local:lena', 'shell:local', 'lena', '{}', '[]', '|', '[]', 'shell', 0, "
                ":at)"), {"at": AT})
            await conn.execute(text(
                "INSERT INTO events (id, ticket_number, kind, at, platform, audience, data) "
                "VALUES (1, 1, 'opened', :at, 'shell', 'public', '{}')"), {"at": AT})
            for state in ("failed", "pending", "done"):
                await conn.execute(text(
                    "INSERT INTO deliveries (ticket_number, event_id, platform, target, "
                    "audience, purpose, state, attempts, last_error, created_at) VALUES "
                    "(1, 1, 'slack', 'dm', 'public', 'receipt', :state, 3, 'gone', :at)"),
                    {"state": state, "at": AT})
        await upgrade_async(database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT state, attempts, maybe_sent, leased_by, merged_from, last_error "
                "FROM deliveries ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [
            ("parked", 3, False, None, None, "gone"),
            ("pending", 3, False, None, None, "gone"),
            ("done", 3, False, None, None, "gone"),
        ]
    finally:
        await engine.dispose()
