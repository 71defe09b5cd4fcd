"""Opening tickets: the form's rules, per-user limits, duplicates (PRODUCT.md §2, §8)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import policy, sla
from core.changes import DeskBase
from core.commands import OpenTicket
from core.deflection import Deflection, deflect
from core.errors import Conflict, Invalid, Limited
from core.events import Opened as OpenedPayload
from core.identity import Actor
from core.policy import Action
from core.routing import bindings_for
from core.semantic import embedder_for
from core.store.port import QuickReads, Store
from core.tickets import Link, Ticket, Visibility
from core.validation import (
    ACCOUNT_MAX,
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    clean_category,
    clean_category_fields,
    clean_priority,
    clean_text,
    collect,
    raise_all,
)
from core.visibility import Viewer
from core.watching import clean_watchers, require_mail

HOUR = timedelta(hours=1)
log = logging.getLogger("helpthread.intake")


NewTicket = OpenTicket  # the form's older name, kept for callers


@dataclass(frozen=True, slots=True)
class Opened:
    """``duplicate`` is True when an existing ticket was returned (retry or resubmission);
    ``retried`` when it was found by the same ``request_key`` (the platform sent the same
    request again: its first answer stands, nothing new to tell)."""

    ticket: Ticket
    duplicate: bool = False
    retried: bool = False


class Intake(DeskBase):
    def validate(self, form: OpenTicket) -> dict[str, Any]:
        """The cleaned form; raises ``Invalid(field, …)`` naming the bad field —
        ``InvalidFields`` when several are bad, each named (in the form's order). The cc
        list (``cc``) is checked against the requester by ``open_ticket``."""
        category = clean_category(self.config, form.category)
        problems: list[Invalid] = []
        visibility = (form.visibility or "private").strip().lower()
        if visibility not in (Visibility.PRIVATE, Visibility.SHARED):
            problems.append(Invalid("visibility", "must be private or shared"))
        cleaned = {
            "category": category.key,
            "subject": collect(problems, clean_text, "subject", form.subject,
                               max_length=SUBJECT_MAX, multiline=False),
            "description": collect(problems, clean_text, "description", form.description,
                                   max_length=DESCRIPTION_MAX, multiline=True),
            "priority": collect(problems, clean_priority, form.priority),
            "account": collect(problems, clean_text, "account", form.account,
                               max_length=ACCOUNT_MAX, multiline=False,
                               required=False) or None,
            "fields": collect(problems, clean_category_fields, category, dict(form.fields)),
        }
        raise_all(problems)
        return {**cleaned, "visibility": Visibility(visibility)}

    async def open_ticket(
        self, actor: Actor, form: OpenTicket, *, request_key: str | None = None
    ) -> Opened:
        """Open a ticket (PRODUCT.md §2, §8). Raises ``Invalid``, ``Limited``,
        ``NotAllowed`` (``requester`` set by a non-agent). A repeated ``request_key`` or
        the same subject and description within ``desk.duplicate_window`` returns the
        existing ticket with ``duplicate=True``."""
        policy.authorize(actor, Action.OPEN, self.config)
        if form.requester is not None and form.requester.ref != actor.ref:
            policy.authorize(actor, Action.OPEN_FOR_OTHERS, self.config)
        cleaned = self.validate(form)
        acting_agent = policy.is_agent(actor, self.config)
        requester = form.requester or actor
        require_mail(requester.ref, self.routes, "for")
        deflection = await self.deflection(requester, cleaned["subject"],
                                           cleaned["description"])
        cleaned["watchers"] = clean_watchers(form.watchers, requester.ref)
        for watcher in cleaned["watchers"]:
            require_mail(watcher.ref, self.routes, "cc")
        try:
            return await self._open(actor, requester, cleaned, acting_agent, request_key,
                                    deflection)
        except Conflict:
            # A concurrent retry of the same request won the insert; return its ticket.
            return await self._open(actor, requester, cleaned, acting_agent, request_key,
                                    deflection)

    async def deflection(self, requester: Actor, subject: str,
                         description: str) -> Deflection:
        """What may already answer a ticket ``requester`` opens (``core.deflection``),
        read before the opening transaction, outside the write lock. Suggestions never
        stop a ticket: should finding them fail, it opens without (logged)."""
        viewer = Viewer(requester.ref, policy.is_agent(requester, self.config))
        try:
            embedder = embedder_for(self.config)
            async with self.stores.reading() as store:
                return await deflect(store, self.config, viewer, subject, description,
                                     embedder)
        except Exception:
            log.exception("deflection failed; the ticket opens without suggestions")
            return Deflection()

    async def _open(self, actor: Actor, requester: Actor, cleaned: dict[str, Any],
                    acting_agent: bool, request_key: str | None,
                    deflection: Deflection | None = None) -> Opened:
        now = self.clock.now()
        async with self.stores.transaction() as store:
            # The per-requester lock first: a concurrent retry of the same request then
            # finds the first one's event here, never a Conflict after taking a number.
            load = await store.requester_load(
                requester.ref, now - HOUR, cleaned["subject"], cleaned["description"],
                now - self.config.desk.duplicate_window,
            )
            if request_key and (prior := await store.event_by_request_key(request_key)):
                return Opened(await self._load(store, prior.ticket_number), duplicate=True,
                              retried=True)
            if load.duplicate_of is not None:
                return Opened(await self._load(store, load.duplicate_of), duplicate=True)
            if not acting_agent:
                self._check_limits(load.open_count, load.opened_since)
            ticket, first_timer = await self._create(store, actor, requester, cleaned,
                                                     request_key, deflection=deflection)
        self._committed(first_timer)
        return Opened(ticket)

    async def check_may_open(self, actor: Actor) -> None:
        """Raises what opening a ticket for oneself would raise now — ``NotAllowed``,
        ``Limited`` (PRODUCT.md §8) — and changes nothing: the form is pre-checked with
        this before it opens, so nobody fills in a form only to be refused. Agents are
        not limited (as in ``open_ticket``)."""
        policy.authorize(actor, Action.OPEN, self.config)
        if policy.is_agent(actor, self.config):
            return
        async with self.stores.quick_read() as store:  # one statement, before the form
            await self._check_requester_limits(store, actor, self.clock.now())

    async def _check_requester_limits(self, store: QuickReads, requester: Actor,
                                      now: datetime) -> None:
        """Raises ``Limited`` when ``requester`` may open no ticket now (PRODUCT.md §8)."""
        load = await store.requester_load(requester.ref, now - HOUR, "", "",
                                          now - self.config.desk.duplicate_window)
        self._check_limits(load.open_count, load.opened_since)

    def _check_limits(self, open_count: int, opened_last_hour: int) -> None:
        desk = self.config.desk
        if open_count >= desk.max_open_per_user:
            raise Limited(f"you already have {_tickets(open_count, 'open ')} (the limit is "
                          f"{desk.max_open_per_user}); close or finish one first")
        if opened_last_hour >= desk.max_new_per_hour:
            raise Limited(f"you opened {_tickets(opened_last_hour)} in the last hour (the "
                          f"limit is {desk.max_new_per_hour}); try again later")

    async def _create(self, store: Store, actor: Actor, requester: Actor,
                      cleaned: dict[str, Any], request_key: str | None,
                      links: list[Link] | None = None, *,
                      deflection: Deflection | None = None) -> tuple[Ticket, datetime | None]:
        """Inserts the ticket, its bindings, its opening event (with ``deflection``'s
        suggestions) and deliveries, its embedding and its timers; returns it and its
        first timer's due time (UTC)."""
        now = self.clock.now()
        ticket = Ticket(
            number=0,  # taken by ``add_new_ticket``
            requester=requester.person,
            opened_at=now,
            source=actor.ref.platform,
            locale=requester.locale,
            last_activity_at=now,
            public_activity_at=now,
            links=list(links or []),
            **cleaned,
        )
        sla.start(ticket, self.config, now)
        # Every check is done: from here only inserts and the commit follow, so a number
        # taken is a number used. Who opened it has seen it (the read mark).
        ticket.number = await store.add_new_ticket(ticket, actor.ref)
        bindings = bindings_for(ticket, self.routes)
        await store.add_bindings(bindings)
        found = deflection or Deflection()
        payload = OpenedPayload(on_behalf=requester.ref != actor.ref, helpful=found.helpful,
                                faq=found.faq, similar=found.similar)
        if found.vector is not None and found.model is not None:
            await store.add_embedding(ticket.number, found.model, found.vector)
        await self._record(store, ticket, payload, actor, now, request_key=request_key,
                           bindings=bindings)
        return ticket, await self._plan_timers(store, ticket, new_ticket=True)


def _tickets(count: int, kind: str = "") -> str:
    return f"{count} {kind}ticket{'' if count == 1 else 's'}"
