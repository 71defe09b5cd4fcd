"""Coalescing: a notice superseded before it went out merges into the newer one.

Cards are state: each notice of a field change re-renders its card from the ticket as
it is when the notice goes out, so a notice left waiting may as well tell the whole
change. While a delivery of a field's change waits (pending, taken by no worker, no
attempt that may have reached the platform), the next change of the same field to the
same target replaces it: one row, the newest, telling "priority: low → urgent". A
burst of changes thus makes at most two deliveries per target — one already taken,
one waiting — and the card ends showing the final state.

Comments, notes and status changes are history and are never merged or dropped; only
the kinds in ``MERGEABLE`` (a field whose notice says nothing but old → new) are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from core.events import Event, EventKind, Payload, PriorityChanged
from core.routing import Delivery


def _priority(first: Payload, last: Payload) -> Payload:
    assert isinstance(first, PriorityChanged) and isinstance(last, PriorityChanged)
    return PriorityChanged(previous=first.previous, to=last.to)


# kind → how two notices of it read as one: the first one's old value, the last one's new.
MERGEABLE: dict[EventKind, Callable[[Payload, Payload], Payload]] = {
    EventKind.PRIORITY_CHANGED: _priority,
}


@dataclass(frozen=True, slots=True)
class Waiting:
    """A delivery not yet taken, and the earliest event its notice tells (its
    ``merged_from`` event, else its own)."""

    delivery: Delivery
    start: Event


def same_target(a: Delivery, b: Delivery) -> bool:
    """Both go to the same place for the same reason (one thread, one DM, one channel)."""
    return (a.ticket_number, a.platform, a.target, a.binding_id, a.address, a.purpose,
            a.audience) == (b.ticket_number, b.platform, b.target, b.binding_id, b.address,
                            b.purpose, b.audience)


def merged_payload(start: Event, last: Event) -> Payload:
    """What a merged notice tells: from ``start``'s old value to ``last``'s new one.
    Raises ``KeyError`` if ``last``'s kind does not merge."""
    return MERGEABLE[last.kind](start.payload, last.payload)


def coalesce(event: Event, planned: list[Delivery], waiting: list[Waiting]) -> list[int]:
    """Fold ``waiting`` deliveries of the same field into ``planned`` (``event``'s new
    deliveries): sets ``merged_from`` on each planned delivery that takes over a waiting
    one, and returns the ids of the waiting deliveries to drop. A target thus never
    holds more than one waiting notice of a field."""
    if event.kind not in MERGEABLE:
        return []
    dropped: list[int] = []
    for delivery in planned:
        match = next((w for w in reversed(waiting) if w.delivery.id not in dropped
                      and w.start.kind is event.kind and same_target(w.delivery, delivery)),
                     None)
        if match is None or match.delivery.id is None:
            continue
        dropped.append(match.delivery.id)
        delivery.merged_from = match.start.id
    return dropped


def notice_of(event: Event, start: Event | None) -> Event:
    """The event a delivery tells: ``event`` itself, or merged with ``start`` (its
    ``merged_from`` event) as one change. Changes that together change nothing
    (low → high → low) still go out, as "from low to low": the card may show a value
    in between, and each target's notices keep telling one continuous story."""
    if start is None or event.kind not in MERGEABLE:
        return event
    return dataclasses.replace(event, payload=merged_payload(start, event))
