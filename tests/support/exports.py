"""Generated exports (``core.store.export_format``) of desks of any size: realistic
tickets — two threads, an opening, comments, a note, a claim, a resolution, their
deliveries, read marks, timers — for the memory test and ``bench/export.py``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from core.store.export_format import dumps

WORDS = ("pixel", "refund", "invoice", "login", "report", "campaign", "tracking", "order",
         "payout", "dashboard", "export", "banner", "conversion", "cookie", "domain")
KINDS = ("opened", "commented", "commented", "noted", "claimed", "resolved")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _ticket_line(n: int, start: datetime, rng: random.Random) -> dict[str, Any]:
    opened = start + timedelta(minutes=n)
    requester = f"shell:local:user{n % 997}"
    at = [opened + timedelta(minutes=10 * i) for i in range(len(KINDS))]
    ticket = {
        "number": n, "subject": _text(rng, 5), "description": _text(rng, 40),
        "category": rng.choice(("general", "technical", "billing", "refund")),
        "priority": rng.choice(("low", "normal", "high", "urgent")), "status": "resolved",
        "visibility": "private", "requester_key": requester, "requester_org": "shell:local",
        "requester_name": f"user{n % 997}", "assignee_key": "shell:local:sam",
        "assignee_name": "sam", "account": None,
        "fields": {"receipt": f"R-{n}", "card_last4": "4242"},
        "watchers": [], "watcher_keys": "|", "links": [], "source": "shell", "locale": None,
        "escalation_level": 0, "opened_at": opened, "first_response_at": at[1],
        "resolved_at": at[5], "closed_at": None, "last_activity_at": at[5],
        "first_response_due": opened + timedelta(hours=8),
        "resolution_due": opened + timedelta(hours=48), "resolution": _text(rng, 8),
        "sla": {"running_since": None, "status_since": at[5].isoformat()},
        "close_requested_at": None, "rating": None, "rating_comment": None,
    }
    bindings = [
        {"id": 2 * n - 1, "ticket_number": n, "platform": "shell", "workspace": "local",
         "audience": "public", "channel": "ticket", "reaches_requester": True,
         "in_requester_dm": False, "thread": f"t{n}", "card_message": None},
        {"id": 2 * n, "ticket_number": n, "platform": "shell", "workspace": "local",
         "audience": "internal", "channel": "team", "reaches_requester": False,
         "in_requester_dm": False, "thread": f"team{n}", "card_message": f"card{n}"},
    ]
    events, deliveries = [], []
    for i, kind in enumerate(KINDS):
        event_id = len(KINDS) * (n - 1) + i + 1
        data: dict[str, Any] = {}
        if kind in ("commented", "noted"):
            data = {"text": _text(rng, 25), "attachments": []}
        elif kind == "resolved":
            data = {"note": ticket["resolution"]}
        elif kind == "claimed":
            data = {"to": "in_progress"}
        events.append({
            "id": event_id, "ticket_number": n, "kind": kind,
            "actor_key": requester if i in (0, 2) else "shell:local:sam",
            "actor_name": "someone", "at": at[i], "platform": "shell",
            "audience": "internal" if kind == "noted" else "public", "data": data,
            "body": data.get("text") or data.get("note"), "request_key": None,
            "origin_binding_id": None})
        deliveries.append({
            "id": event_id, "ticket_number": n, "event_id": event_id, "platform": "shell",
            "target": "binding", "audience": "internal", "binding_id": 2 * n,
            "address": None, "purpose": "thread", "state": "done", "attempts": 1,
            "next_attempt_at": None, "leased_until": None, "leased_by": None,
            "maybe_sent": False, "merged_from": None, "last_error": None,
            "created_at": at[i], "delivered_at": at[i] + timedelta(seconds=1)})
    return {
        "ticket": ticket, "bindings": bindings, "events": events, "deliveries": deliveries,
        "read_marks": [{"ticket_number": n, "reader_key": requester,
                        "reader_org": "shell:local", "seen_at": at[5]}],
        "timers": [{"id": n, "ticket_number": n, "kind": "resolved_close",
                    "due_at": at[5] + timedelta(days=3),
                    "command": {"command": "close", "number": n}, "fingerprint": f"r{n}",
                    "set_at": at[5], "fired_at": None}],
    }


def generated_export(count: int, start: datetime, seed: int = 12) -> Iterator[str]:
    """The lines (each ending in a newline) of an export of ``count`` tickets."""
    rng = random.Random(seed)
    yield dumps({"helpthread_export": 1, "revision": None, "exported_at": start,
                 "since": None, "sensitive": True}) + "\n"
    for n in range(1, count + 1):
        yield dumps(_ticket_line(n, start, rng)) + "\n"
    yield dumps({"end": {"tickets": count, "next_number": count + 1}}) + "\n"
