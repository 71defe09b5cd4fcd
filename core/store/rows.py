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
    v = row._mapping  # by key: a Row's attribute lookup costs several times more
    requester = _person(v["requester_key"], v["requester_name"])
    assert requester is not None
    return Ticket(
        number=v["number"], subject=v["subject"], description=v["description"],
        category=v["category"], priority=v["priority"], status=Status(v["status"]),
        visibility=Visibility(v["visibility"]), requester=requester,
        assignee=_person(v["assignee_key"], v["assignee_name"]), account=v["account"],
        fields=dict(v["fields"] or {}),
        watchers=[Person(UserRef.parse(k), n) for k, n in v["watchers"] or []],
        links=[Link(LinkKind(k), n) for k, n in v["links"] or []],
        source=v["source"], locale=v["locale"], escalation_level=v["escalation_level"],
        opened_at=v["opened_at"], first_response_at=v["first_response_at"],
        resolved_at=v["resolved_at"], closed_at=v["closed_at"],
        last_activity_at=v["last_activity_at"],
        public_activity_at=v["public_activity_at"], first_response_due=v["first_response_due"],
        resolution_due=v["resolution_due"], resolution=v["resolution"],
        sla=codec.decode(SlaClock, v["sla"] or {}), close_requested_at=v["close_requested_at"],
        rating=Rating(v["rating"]) if v["rating"] else None, rating_comment=v["rating_comment"],
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
    v = row._mapping  # by key: a Row's attribute lookup costs several times more
    return Event(
        ticket_number=v["ticket_number"],
        payload=payload_from_json(EventKind(v["kind"]), dict(v["data"] or {})),
        actor=_person(v["actor_key"], v["actor_name"]), at=v["at"], platform=v["platform"],
        audience=Audience(v["audience"]),
        request_key=v["request_key"], origin_binding_id=v["origin_binding_id"], id=v["id"],
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
    v = row._mapping  # by key: a Row's attribute lookup costs several times more
    return Delivery(
        ticket_number=v["ticket_number"], event_id=v["event_id"], platform=v["platform"],
        target=Target(v["target"]), audience=Audience(v["audience"]), created_at=v["created_at"],
        binding_id=v["binding_id"], address=v["address"], purpose=Purpose(v["purpose"]),
        state=DeliveryState(v["state"]), attempts=v["attempts"],
        next_attempt_at=v["next_attempt_at"], last_error=v["last_error"],
        maybe_sent=bool(v["maybe_sent"]), merged_from=v["merged_from"], id=v["id"],
    )


class Prefixed:
    """A joined row's columns named ``prefix`` + name, read by their plain names."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._values = row._mapping
        self._prefix = prefix

    @property
    def _mapping(self) -> Prefixed:  # read by key like a Row's mapping
        return self

    def __getitem__(self, name: str) -> Any:
        return self._values[self._prefix + name]

    def __getattr__(self, name: str) -> Any:
        return self._values[self._prefix + name]
