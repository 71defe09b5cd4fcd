"""Typed event payloads: each event's ``data`` becomes its payload's fields.

The first schema kept free-form data: agents-only parts under ``internal``, the
free text under ``text`` whatever it was. Each kind now has one payload type
(``core.events``) whose fields are stored as they are named, and which fields
only agents read is declared on the type. This converts every stored row; the
conversion is written out here, not imported, so it stays as it was run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500

events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("data", sa.JSON),
)


def _attachments(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            size = item.get("size")
            out.append({"name": str(item.get("name") or "file"),
                        "size": size if isinstance(size, int) else None,
                        "url": str(item.get("url") or "")})
    return out


def _reason(data: dict[str, Any]) -> Any:
    internal = data.get("internal")
    return internal.get("reason") if isinstance(internal, dict) else None


def _up(kind: str, d: dict[str, Any]) -> dict[str, Any]:
    """One row's data in the first schema → its payload's fields."""
    text = d.get("text")
    match kind:
        case "opened":
            return {"on_behalf": bool(d.get("on_behalf"))}
        case "commented" | "noted":
            return {"text": text or "", "attachments": _attachments(d.get("attachments"))}
        case "claimed" | "reopened" | "resumed":
            out = {"to": d.get("to") or ("open" if kind == "reopened" else "in_progress")}
            if kind != "claimed":
                out["by_reply"] = bool(d.get("by_reply"))
            return out
        case "assigned":
            return {"assignee": str(d.get("assignee") or ""), "to": d.get("to") or "in_progress"}
        case "unassigned":
            return {"previous": str(d.get("previous") or ""), "to": d.get("to") or "open"}
        case "waiting":
            return {"question": text or "", "to": "waiting"}
        case "held":
            return {"reason": _reason(d), "to": "on_hold"}
        case "resolved":
            return {"note": text or "", "to": "resolved"}
        case "closed":
            return {"reason": text, "to": "closed", "by_system": False}
        case "priority_changed":
            return {"previous": d.get("from"), "to": d.get("to")}
        case "escalated":
            return {"level": int(d.get("level") or 1), "reason": _reason(d)}
        case "linked":
            return {"link": d.get("link"), "number": d.get("number"),
                    "by_reply": bool(d.get("by_reply"))}
        case "watcher_added":
            return {"watcher": str(d.get("watcher") or "")}
    return d


def _down(kind: str, d: dict[str, Any]) -> dict[str, Any]:
    """A payload's fields → the first schema's data (for ``alembic downgrade``)."""
    out = {k: v for k, v in d.items() if v not in (None, False, [])}
    for name in ("question", "note"):
        if name in out:
            out["text"] = out.pop(name)
    if kind in ("held", "escalated"):
        reason = out.pop("reason", None)
        if reason is not None:
            out["internal"] = {"reason": reason}
    elif kind == "closed" and "reason" in out:
        out["text"] = out.pop("reason")
    if kind == "priority_changed":
        out["from"] = out.pop("previous", None)
    out.pop("by_system", None)
    return out


def _convert(convert: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.id, events.c.kind, events.c.data)
            .where(events.c.id > last).order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            data = row.data if isinstance(row.data, dict) else {}
            bind.execute(events.update().where(events.c.id == row.id)
                         .values(data=convert(row.kind, data)))
        last = rows[-1].id


def upgrade() -> None:
    _convert(_up)


def downgrade() -> None:
    _convert(_down)
