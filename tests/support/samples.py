"""One sample payload per event kind: for tests that build events by kind, and for the
test that every kind renders on every platform."""

from __future__ import annotations

from datetime import UTC, datetime

from core.events import (
    Assigned,
    Attachment,
    Claimed,
    Closed,
    CloseDeclined,
    CloseRequested,
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
    Rated,
    Reminded,
    Reopened,
    Resolved,
    Resumed,
    SlaBreached,
    SlaWarning,
    Unassigned,
    VisibilityChanged,
    WatcherAdded,
    WatcherRemoved,
)
from core.tickets import LinkKind, Rating, Status, Visibility

DUE = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)

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
    EventKind.WATCHER_ADDED: WatcherAdded("Omar", "slack:T1:UOMAR"),
    EventKind.WATCHER_REMOVED: WatcherRemoved("omar@example.com", "email::omar@example.com"),
    EventKind.VISIBILITY_CHANGED: VisibilityChanged(Visibility.SHARED),
    EventKind.SLA_WARNING: SlaWarning("first_response", DUE),
    EventKind.SLA_BREACHED: SlaBreached("resolution", DUE),
    EventKind.REMINDED: Reminded(DUE),
    EventKind.CLOSE_REQUESTED: CloseRequested("All sorted?", DUE),
    EventKind.CLOSE_DECLINED: CloseDeclined(by_reply=True),
    EventKind.RATED: Rated(Rating.GOOD, "Quick, thanks", Rating.BAD),
}
