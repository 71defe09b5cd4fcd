"""Rows and domain objects, both ways: what ``SqlStore`` and the SQL outbox write for a
ticket, binding, event or delivery, and what they read back (SQLAlchemy Core rows)."""

from __future__ import annotations

from typing import Any

from core import codec
from core.events import Audience, Event, EventKind, payload_from_json, payload_to_json
from core.identity import Person, UserRef
from core.routing import Binding, Delivery, DeliveryState, Purpose, Target
from core.tickets import Link, LinkKind, Rating, SlaClock, Status, Ticket, Visibility


def _person(key: str | None, name: str | None) -> Person | None:
    return Person(UserRef.parse(key), name or "") if key else None


def ticket_values(t: Ticket) -> dict[str, Any]:
    """The ``tickets`` row for ``t``."""
    return {
        "number": t.number, "subject": t.subject, "description": t.description,
        "category": t.category, "priority": t.priority, "status": t.status.value,
        "visibility": t.visibility.value, "requester_key": t.requester.ref.key,
        "requester_org": t.requester.ref.org, "requester_name": t.requester.name,
        "assignee_key": t.assignee.ref.key if t.assignee else None,
        "assignee_name": t.assignee.name if t.assignee else None,
        "account": t.account, "fields": dict(t.fields),
        "watchers": [[w.ref.key, w.name] for w in t.watchers],
        "watcher_keys": "|" + "".join(w.ref.key + "|" for w in t.watchers),
        "links": [[link.kind.value, link.number] for link in t.links],
        "source": t.source, "locale": t.locale, "escalation_level": t.escalation_level,
        "opened_at": t.opened_at, "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at, "closed_at": t.closed_at,
        "last_activity_at": t.last_activity_at,
        "public_activity_at": t.public_activity_at, "first_response_due": t.first_response_due,
        "resolution_due": t.resolution_due, "resolution": t.resolution,
        "sla": codec.encode(t.sla), "close_requested_at": t.close_requested_at,
        "rating": t.rating.value if t.rating else None, "rating_comment": t.rating_comment,
    }


def ticket_from(row: Any) -> Ticket:
    requester = _person(row.requester_key, row.requester_name)
    assert requester is not None
    return Ticket(
        number=row.number, subject=row.subject, description=row.description,
        category=row.category, priority=row.priority, status=Status(row.status),
        visibility=Visibility(row.visibility), requester=requester,
        assignee=_person(row.assignee_key, row.assignee_name), account=row.account,
        fields=dict(row.fields or {}),
        watchers=[Person(UserRef.parse(k), n) for k, n in row.watchers or []],
        links=[Link(LinkKind(k), n) for k, n in row.links or []],
        source=row.source, locale=row.locale, escalation_level=row.escalation_level,
        opened_at=row.opened_at, first_response_at=row.first_response_at,
        resolved_at=row.resolved_at, closed_at=row.closed_at,
        last_activity_at=row.last_activity_at,
        public_activity_at=row.public_activity_at, first_response_due=row.first_response_due,
        resolution_due=row.resolution_due, resolution=row.resolution,
        sla=codec.decode(SlaClock, row.sla or {}), close_requested_at=row.close_requested_at,
        rating=Rating(row.rating) if row.rating else None, rating_comment=row.rating_comment,
    )


def binding_from(row: Any, prefix: str = "") -> Binding:
    """The binding in ``row``; ``prefix`` names its columns when joined to another table."""
    v = row._mapping
    return Binding(
        ticket_number=v[prefix + "ticket_number"], platform=v[prefix + "platform"],
        workspace=v[prefix + "workspace"], audience=Audience(v[prefix + "audience"]),
        channel=v[prefix + "channel"], reaches_requester=v[prefix + "reaches_requester"],
        in_requester_dm=v[prefix + "in_requester_dm"], thread=v[prefix + "thread"],
        card_message=v[prefix + "card_message"], id=v[prefix + "id"],
    )


def event_values(e: Event) -> dict[str, Any]:
    return {
        "ticket_number": e.ticket_number, "kind": e.kind.value,
        "actor_key": e.actor.ref.key if e.actor else None,
        "actor_name": e.actor.name if e.actor else None, "at": e.at, "platform": e.platform,
        "audience": e.audience.value, "data": payload_to_json(e.payload), "body": e.text,
        "request_key": e.request_key, "origin_binding_id": e.origin_binding_id,
    }


def event_from(row: Any) -> Event:
    return Event(
        ticket_number=row.ticket_number,
        payload=payload_from_json(EventKind(row.kind), dict(row.data or {})),
        actor=_person(row.actor_key, row.actor_name), at=row.at, platform=row.platform,
        audience=Audience(row.audience),
        request_key=row.request_key, origin_binding_id=row.origin_binding_id, id=row.id,
    )


def delivery_values(d: Delivery) -> dict[str, Any]:
    return {
        "ticket_number": d.ticket_number, "event_id": d.event_id, "platform": d.platform,
        "target": d.target.value, "audience": d.audience.value, "binding_id": d.binding_id,
        "address": d.address, "purpose": d.purpose, "state": d.state.value,
        "attempts": d.attempts, "next_attempt_at": d.next_attempt_at, "leased_until": None,
        "leased_by": None, "maybe_sent": d.maybe_sent, "merged_from": d.merged_from,
        "last_error": d.last_error, "created_at": d.created_at, "delivered_at": None,
    }


def delivery_from(row: Any) -> Delivery:
    return Delivery(
        ticket_number=row.ticket_number, event_id=row.event_id, platform=row.platform,
        target=Target(row.target), audience=Audience(row.audience), created_at=row.created_at,
        binding_id=row.binding_id, address=row.address, purpose=Purpose(row.purpose),
        state=DeliveryState(row.state), attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, last_error=row.last_error,
        maybe_sent=bool(row.maybe_sent), merged_from=row.merged_from, id=row.id,
    )


class Prefixed:
    """A joined row's columns named ``prefix`` + name, read by their plain names."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._values = row._mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._values[self._prefix + name]
