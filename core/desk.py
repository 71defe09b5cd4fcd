"""The desk: one async method per use case (DESIGN.md, "How data flows").

Each mutation runs in one transaction: load (locked), authorise the actor
(``core.policy``), apply the transition (``core.tickets``), append the event,
plan and store its deliveries (``core.routing``), commit — then wake the
delivery worker. Errors are the typed ones of ``core.errors``. Opening lives in
``core.intake``, reading in ``core.reading``, the shared change path in
``core.changes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import policy
from core import tickets as lifecycle
from core.errors import Conflict, Invalid, InvalidTransition
from core.events import Audience, Event, EventKind
from core.identity import Actor, Person
from core.intake import Intake, NewTicket, Opened
from core.reading import Reading
from core.routing import Binding
from core.store.port import Store
from core.tickets import PRIORITIES, Link, LinkKind, Ticket
from core.validation import COMMENT_MAX, SUBJECT_MAX, clean_priority, clean_text

__all__ = ["Commented", "Desk", "NewTicket", "Opened"]


@dataclass(frozen=True, slots=True)
class Commented:
    """A comment's outcome; ``follow_up`` is the new ticket when the old one was past
    its reopen window (PRODUCT.md §3)."""

    ticket: Ticket
    event: Event
    follow_up: Ticket | None = None


class Desk(Intake, Reading):
    """The ticket core. ``routes`` are the platforms running now (where new tickets get
    threads); ``on_commit`` is called after every commit that queued deliveries."""

    # ---- conversation --------------------------------------------------------

    async def comment(
        self,
        actor: Actor,
        number: int,
        text: str,
        *,
        origin: Binding | None = None,
        attachments: list[dict[str, Any]] | None = None,
        request_key: str | None = None,
    ) -> Commented:
        """A public comment by anyone who may see the ticket (or an agent's reply).

        A requester's comment puts a ``waiting`` ticket back to work, reopens a
        resolved/closed one within ``lifecycle.reopen_window`` and, past it, opens a
        follow-up ticket linked to the old one (PRODUCT.md §3)."""
        body = clean_text("text", text, max_length=COMMENT_MAX, multiline=True)
        try:
            return await self._comment(actor, number, body, origin, attachments, request_key)
        except Conflict:
            return await self._comment(actor, number, body, origin, attachments, request_key)

    async def _comment(self, actor: Actor, number: int, body: str, origin: Binding | None,
                       attachments: list[dict[str, Any]] | None,
                       request_key: str | None) -> Commented:
        now = self.clock.now()
        async with self.stores.transaction() as store:
            if request_key and (prior := await store.event_by_request_key(request_key)):
                return Commented(await self._load(store, prior.ticket_number), prior)
            ticket = await self._load(store, number, lock=True)
            policy.require_visible(actor, ticket, self.config)
            policy.require_may_write_in(actor, ticket, origin)
            agent = policy.is_agent(actor, self.config)
            requester = policy.is_requester(actor, ticket)
            data: dict[str, Any] = {"text": body}
            if attachments:
                data["attachments"] = attachments
            follow_up: Ticket | None = None
            reopened = False
            if ticket.status in lifecycle.DONE and not agent:
                if not requester:
                    raise InvalidTransition(f"#{number} is {ticket.status.value}; only its "
                                            "requester or an agent can add to it now")
                window = self.config.lifecycle.reopen_window
                if lifecycle.within_reopen_window(ticket, now, window):
                    lifecycle.reopen(ticket)
                    reopened = True
                else:
                    follow_up = await self._follow_up(store, actor, ticket, body, request_key)
            if follow_up is not None:
                event = Event(number, EventKind.LINKED, actor.person, now, actor.ref.platform,
                              data={"link": LinkKind.FOLLOWED_UP_BY.value,
                                    "number": follow_up.number, "by_reply": True})
                ticket.links.append(Link(LinkKind.FOLLOWED_UP_BY, follow_up.number))
                await store.update_ticket(ticket)
                await self._record(store, ticket, event)
            else:
                resumed = requester and lifecycle.requester_replied(ticket)
                if agent and not requester and ticket.first_response_at is None:
                    ticket.first_response_at = now
                ticket.last_activity_at = now
                await store.update_ticket(ticket)
                event = Event(number, EventKind.COMMENTED, actor.person, now,
                              actor.ref.platform, data=data, request_key=request_key,
                              origin_binding_id=origin.id if origin else None)
                await self._record(store, ticket, event)
                if reopened or resumed:
                    kind = EventKind.REOPENED if reopened else EventKind.RESUMED
                    await self._record(store, ticket, Event(
                        number, kind, actor.person, now, actor.ref.platform,
                        data={"by_reply": True, "to": ticket.status.value}))
        self._on_commit()
        return Commented(ticket, event, follow_up)

    async def _follow_up(self, store: Store, actor: Actor, old: Ticket, body: str,
                         request_key: str | None) -> Ticket:
        prefix = f"Follow-up to #{old.number}: "
        subject = prefix + old.subject
        if len(subject) > SUBJECT_MAX:  # our own wording, not user input: shorten visibly
            subject = subject[: SUBJECT_MAX - 1] + "…"
        cleaned = {
            "category": old.category, "subject": subject, "description": body,
            "priority": old.priority, "account": old.account,
            "visibility": old.visibility, "fields": dict(old.fields),
        }
        return await self._create(store, actor, actor, cleaned, request_key,
                                  links=[Link(LinkKind.FOLLOW_UP_OF, old.number)])

    async def reply(self, actor: Actor, number: int, text: str, *,
                    request_key: str | None = None) -> Commented:
        """An agent's public reply (``/ticket reply``, the card's Reply form)."""
        policy.require_agent(actor, self.config, "reply from the team side")
        return await self.comment(actor, number, text, request_key=request_key)

    async def note(self, actor: Actor, number: int, text: str, *, origin: Binding | None = None,
                   attachments: list[dict[str, Any]] | None = None,
                   request_key: str | None = None) -> Event:
        """An internal note: team threads only, never the requester (PRODUCT.md §5)."""
        policy.require_agent(actor, self.config, "write internal notes")
        body = clean_text("text", text, max_length=COMMENT_MAX, multiline=True)
        data: dict[str, Any] = {"text": body}
        if attachments:
            data["attachments"] = attachments

        def apply(ticket: Ticket) -> dict[str, Any]:
            return data

        _, event = await self._change(actor, number, EventKind.NOTED, apply,
                                      audience=Audience.INTERNAL, origin=origin,
                                      request_key=request_key, agent_only="write notes")
        return event

    async def post_in_thread(self, actor: Actor, binding: Binding, text: str, *,
                             attachments: list[dict[str, Any]] | None = None,
                             request_key: str | None = None) -> Event:
        """A message typed in a thread: a public comment in a ticket thread, an internal
        note in a team thread (PRODUCT.md §5)."""
        if binding.audience is Audience.INTERNAL:
            return await self.note(actor, binding.ticket_number, text, origin=binding,
                                   attachments=attachments, request_key=request_key)
        result = await self.comment(actor, binding.ticket_number, text, origin=binding,
                                    attachments=attachments, request_key=request_key)
        return result.event

    # ---- status, assignment, priority, escalation ----------------------------

    async def claim(self, actor: Actor, number: int) -> Ticket:
        """Take it. Two claims at once: one wins, the other is told who has it."""
        def apply(ticket: Ticket) -> dict[str, Any]:
            lifecycle.claim(ticket, actor.person)
            return {"to": ticket.status.value}
        return await self._changed(actor, number, EventKind.CLAIMED, apply, "claim tickets")

    async def assign(self, actor: Actor, number: int, agent: Actor) -> Ticket:
        """Give it to ``agent``, who must be an agent (as their platform vouches).
        Raises ``NotAllowed`` for a non-agent ``actor`` before looking at ``agent``."""
        policy.require_agent(actor, self.config, "assign tickets")
        if not policy.is_agent(agent, self.config):
            raise Invalid("assignee", f"{agent.name} is not an agent")
        def apply(ticket: Ticket) -> dict[str, Any]:
            lifecycle.assign(ticket, agent.person)
            return {"assignee": agent.name, "to": ticket.status.value}
        return await self._changed(actor, number, EventKind.ASSIGNED, apply, "assign tickets")

    async def unassign(self, actor: Actor, number: int) -> Ticket:
        def apply(ticket: Ticket) -> dict[str, Any]:
            previous = lifecycle.unassign(ticket)
            return {"previous": previous.name, "to": ticket.status.value}
        return await self._changed(actor, number, EventKind.UNASSIGNED, apply,
                                   "unassign tickets")

    async def request_info(self, actor: Actor, number: int, question: str) -> Ticket:
        """Ask the requester ``question`` (public); the ticket waits on them."""
        text = clean_text("question", question, max_length=COMMENT_MAX, multiline=True)
        def apply(ticket: Ticket) -> dict[str, Any]:
            lifecycle.request_info(ticket, actor.person)
            ticket.first_response_at = ticket.first_response_at or self.clock.now()
            return {"text": text, "to": ticket.status.value}
        return await self._changed(actor, number, EventKind.WAITING, apply,
                                   "ask for information")

    async def hold(self, actor: Actor, number: int, reason: str) -> Ticket:
        """Park it on a third party; the reason is for agents only."""
        text = clean_text("reason", reason, max_length=COMMENT_MAX, multiline=True)
        def apply(ticket: Ticket) -> dict[str, Any]:
            lifecycle.hold(ticket, actor.person)
            return {"to": ticket.status.value, "internal": {"reason": text}}
        return await self._changed(actor, number, EventKind.HELD, apply, "put tickets on hold")

    async def resume(self, actor: Actor, number: int) -> Ticket:
        def apply(ticket: Ticket) -> dict[str, Any]:
            lifecycle.resume(ticket)
            return {"to": ticket.status.value}
        return await self._changed(actor, number, EventKind.RESUMED, apply, "resume tickets")

    async def resolve(self, actor: Actor, number: int, note: str, *,
                      request_key: str | None = None) -> Ticket:
        """Resolve with a resolution note (≥ 6 characters, PRODUCT.md §3), told to the
        requester. The same ``request_key`` again (a form sent twice) returns the ticket
        as that request left it, changing nothing."""
        text = clean_text("resolution", note, max_length=COMMENT_MAX, multiline=True,
                          min_length=1)
        def apply(ticket: Ticket) -> dict[str, Any]:
            now = self.clock.now()
            lifecycle.resolve(ticket, actor.person, text, now)
            ticket.first_response_at = ticket.first_response_at or now
            return {"text": text, "to": ticket.status.value}
        return await self._changed(actor, number, EventKind.RESOLVED, apply, "resolve tickets",
                                   request_key=request_key)

    async def close(self, actor: Actor, number: int, reason: str | None = None) -> Ticket:
        """Close: any agent, or the requester their own (PRODUCT.md §3)."""
        text = clean_text("reason", reason, max_length=COMMENT_MAX, multiline=True,
                          required=False)
        def apply(ticket: Ticket) -> dict[str, Any]:
            policy.require_agent_or_requester(actor, ticket, self.config, "close it")
            lifecycle.close(ticket, self.clock.now())
            return {"to": ticket.status.value, **({"text": text} if text else {})}
        return await self._changed(actor, number, EventKind.CLOSED, apply, None)

    async def reopen(self, actor: Actor, number: int) -> Ticket:
        """Reopen: agents any time, the requester within ``lifecycle.reopen_window``."""
        def apply(ticket: Ticket) -> dict[str, Any]:
            policy.require_agent_or_requester(actor, ticket, self.config, "reopen it")
            window = self.config.lifecycle.reopen_window
            if not policy.is_agent(actor, self.config) and ticket.status in lifecycle.DONE \
                    and not lifecycle.within_reopen_window(ticket, self.clock.now(), window):
                raise InvalidTransition(
                    f"#{number} ended more than {window.days} days ago and can no longer be "
                    "reopened; reply to it to open a follow-up ticket")
            lifecycle.reopen(ticket)
            return {"to": ticket.status.value}
        return await self._changed(actor, number, EventKind.REOPENED, apply, None)

    async def set_priority(self, actor: Actor, number: int, priority: str) -> Ticket:
        """Change priority; SLA targets not yet met move with it (PRODUCT.md §7).
        Raises ``Invalid("priority")`` unless ``priority`` names one (no default here:
        an empty level must not quietly mean normal)."""
        if not priority or not priority.strip():
            raise Invalid("priority", f"say which: {', '.join(PRIORITIES)}")
        new = clean_priority(priority)
        def apply(ticket: Ticket) -> dict[str, Any]:
            old = lifecycle.set_priority(ticket, new)
            sla = self.config.sla[new]
            if ticket.first_response_at is None:
                ticket.first_response_due = ticket.opened_at + sla.first_response
            ticket.resolution_due = ticket.opened_at + sla.resolution
            return {"from": old, "to": new}
        return await self._changed(actor, number, EventKind.PRIORITY_CHANGED, apply,
                                   "change priority")

    async def escalate(self, actor: Actor, number: int, reason: str, *,
                       request_key: str | None = None) -> Ticket:
        """Raise the escalation level: agents any time; the requester once the
        first-response target is breached (PRODUCT.md §7). ``request_key`` as for
        ``resolve``: a form sent twice escalates once."""
        text = clean_text("reason", reason, max_length=COMMENT_MAX, multiline=True)
        def apply(ticket: Ticket) -> dict[str, Any]:
            policy.require_may_escalate(actor, ticket, self.config, self.clock.now())
            level = lifecycle.escalate(ticket)
            return {"level": level, "internal": {"reason": text}}
        return await self._changed(actor, number, EventKind.ESCALATED, apply, None,
                                   request_key=request_key)

    async def link(self, actor: Actor, number: int, kind: LinkKind, other: int) -> Ticket:
        """Link to another ticket (related / duplicate-of); agents only."""
        if kind not in (LinkKind.RELATED, LinkKind.DUPLICATE_OF):
            raise Invalid("link", "must be related or duplicate_of")
        if other == number:
            raise Invalid("link", "a ticket cannot be linked to itself")
        async with self.stores.transaction() as store:
            await self._load(store, other)
        def apply(ticket: Ticket) -> dict[str, Any]:
            if Link(kind, other) in ticket.links:
                raise InvalidTransition(f"#{number} is already linked to #{other}")
            ticket.links.append(Link(kind, other))
            return {"link": kind.value, "number": other}
        return await self._changed(actor, number, EventKind.LINKED, apply, "link tickets",
                                   audience=Audience.INTERNAL)

    async def add_watcher(self, actor: Actor, number: int, watcher: Person) -> Ticket:
        """Add a watcher (cc): agents, or the requester on their own ticket."""
        def apply(ticket: Ticket) -> dict[str, Any]:
            policy.require_agent_or_requester(actor, ticket, self.config, "add watchers")
            if policy.is_watcher(watcher.ref, ticket) or watcher.ref == ticket.requester.ref:
                raise InvalidTransition(f"{watcher.name} already follows #{number}")
            ticket.watchers.append(watcher)
            return {"watcher": watcher.name}
        return await self._changed(actor, number, EventKind.WATCHER_ADDED, apply, None)

