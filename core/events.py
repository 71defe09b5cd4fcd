"""What happened: events are the history and the source of every delivery (DESIGN.md).

``Event.data`` holds what the event says (``text``, ``from``/``to`` status,
``attachments``…). Anything only agents may read sits under ``data["internal"]``;
``public_data`` removes it before a public audience sees the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.identity import Person


class Audience(StrEnum):
    PUBLIC = "public"  # requester, watchers, org (shared), agents: the ticket thread
    INTERNAL = "internal"  # agents only: the team thread


class EventKind(StrEnum):
    OPENED = "opened"
    COMMENTED = "commented"  # public comment or reply
    NOTED = "noted"  # internal note
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    WAITING = "waiting"  # info requested from the requester
    HELD = "held"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    PRIORITY_CHANGED = "priority_changed"
    ESCALATED = "escalated"
    LINKED = "linked"
    WATCHER_ADDED = "watcher_added"


# Kinds that change what a card shows: cards are updated in place (PRODUCT.md §5).
CARD_CHANGES = frozenset(
    {
        EventKind.OPENED,
        EventKind.CLAIMED,
        EventKind.ASSIGNED,
        EventKind.UNASSIGNED,
        EventKind.WAITING,
        EventKind.HELD,
        EventKind.RESUMED,
        EventKind.RESOLVED,
        EventKind.CLOSED,
        EventKind.REOPENED,
        EventKind.PRIORITY_CHANGED,
        EventKind.ESCALATED,
    }
)


@dataclass(slots=True)
class Event:
    """One change to one ticket. ``actor`` is None for the desk's own changes (expiry…).
    ``platform`` is where it came from; ``request_key`` makes platform retries idempotent;
    ``origin_binding_id`` is the thread it was typed in (not echoed back there)."""

    ticket_number: int
    kind: EventKind
    actor: Person | None
    at: datetime
    platform: str
    audience: Audience = Audience.PUBLIC
    data: dict[str, Any] = field(default_factory=dict)
    request_key: str | None = None
    origin_binding_id: int | None = None
    id: int | None = None

    @property
    def text(self) -> str | None:
        value = self.data.get("text")
        return value if isinstance(value, str) else None

    def public_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k != "internal"}

    def data_for(self, audience: Audience) -> dict[str, Any]:
        """The event's data as ``audience`` may read it."""
        return dict(self.data) if audience is Audience.INTERNAL else self.public_data()
