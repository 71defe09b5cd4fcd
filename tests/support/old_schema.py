"""Rows as an older schema's desk wrote them, by plain SQL: a migration test writes
them at an old revision (today's desk writes today's columns), then upgrades."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


async def ticket_with_history(engine: AsyncEngine, number: int = 1, *,
                              subject: str = "Older ticket", description: str = "Dépôt",
                              watcher: str | None = "shell:local:marco") -> None:
    """Ticket ``number`` of lena (private), as a 0006 desk wrote it: opened at ``AT``, a
    public answer by sam a minute later, an internal note two minutes later; watched by
    ``watcher``."""
    watchers = [[watcher, "marco"]] if watcher else []
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO tickets (number, subject, description, category, priority, "
            "status, visibility, requester_key, requester_org, requester_name, fields, "
            "watchers, watcher_keys, links, source, escalation_level, opened_at, "
            "last_activity_at) VALUES (:number, :subject, :description, 'technical', "
            "'normal', 'in_progress', 'private', 'shell:local:lena', 'shell:local', 'lena', "
            "'{}', :watchers, :keys, '[]', 'shell', 0, :at, :last)"),
            {"number": number, "subject": subject, "description": description,
             "watchers": json.dumps(watchers),
             "keys": "|" + "".join(w[0] + "|" for w in watchers), "at": AT,
             "last": AT + timedelta(minutes=2)})
        for minutes, kind, audience, body in ((0, "opened", "public", None),
                                              (1, "commented", "public", "public answer"),
                                              (2, "noted", "internal", "private remark")):
            await conn.execute(text(
                "INSERT INTO events (ticket_number, kind, actor_key, actor_name, at, "
                "platform, audience, data, body) VALUES (:number, :kind, "
                "'shell:local:sam', 'sam', :at, 'shell', :audience, :data, :body)"),
                {"number": number, "kind": kind, "audience": audience,
                 "at": AT + timedelta(minutes=minutes),
                 "data": json.dumps({"text": body} if body else {}), "body": body})
