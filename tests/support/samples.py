"""One sample payload per event kind: for tests that build events by kind, and for the
test that every kind renders on every platform."""

from __future__ import annotations

from core.events import (
    Assigned,
    Attachment,
    Claimed,
    Closed,
    Commented,
    Escalated,
    EventKind,
    Held,
    InfoRequested,
    Linked,
    Noted,
    Opened,
    Payload,
    PriorityChanged,
    Reopened,
    Resolved,
    Resumed,
    Unassigned,
    WatcherAdded,
)
from core.tickets import LinkKind, Status

SAMPLES: dict[EventKind, Payload] = {
    EventKind.OPENED: Opened(),
    EventKind.COMMENTED: Commented("hi", (Attachment("error.png", 2048, "https://x.test/e"),)),
    EventKind.NOTED: Noted("checked the payment log"),
    EventKind.CLAIMED: Claimed(Status.IN_PROGRESS),
    EventKind.ASSIGNED: Assigned("Ana", Status.IN_PROGRESS),
    EventKind.UNASSIGNED: Unassigned("Ana", Status.OPEN),
    EventKind.WAITING: InfoRequested("Which order?"),
    EventKind.HELD: Held("bank reference 5512"),
    EventKind.RESUMED: Resumed(Status.IN_PROGRESS),
    EventKind.RESOLVED: Resolved("Refunded the duplicate"),
    EventKind.CLOSED: Closed("duplicate"),
    EventKind.REOPENED: Reopened(Status.OPEN),
    EventKind.PRIORITY_CHANGED: PriorityChanged("normal", "urgent"),
    EventKind.ESCALATED: Escalated(1, "customer is a partner"),
    EventKind.LINKED: Linked(LinkKind.RELATED, 7),
    EventKind.WATCHER_ADDED: WatcherAdded("Omar"),
}
