"""The desk: every command's rule, run through one path (DESIGN.md, "How data flows").

``Desk.run(actor, command)`` takes any ticket command of ``core.commands``; the
typed methods below (``claim``, ``resolve``…) are a thin facade over it. Each
handler here applies the pure transition (``core.tickets``) and records the
typed events (``core.events``); ``core.changes`` does the rest: request keys,
locking, the permission table, deliveries, commit, wake. Opening lives in
``core.intake``, reading in ``core.reading``.
"""

from __future__ import annotations

from typing import Any

from core import automation, policy, sla, watching
from core import commands as cmd
from core import tickets as lifecycle
from core.changes import Change, Outcome, Redirect
from core.characters import trim
from core.errors import Invalid, InvalidTransition
from core.events import (
    Assigned,
    Attachment,
    Audience,
    Claimed,
    Closed,
    Commented,
    Escalated,
    Event,
    Held,
    InfoRequested,
    Linked,
    Noted,
    PriorityChanged,
    Reopened,
    Resolved,
    Resumed,
    Unassigned,
)
from core.identity import Actor, Person
from core.inbound import Receipt
from core.intake import Intake, NewTicket, Opened
from core.policy import Action
from core.reading import Reading
from core.receiving import Receiving
from core.routing import Binding
from core.tickets import PRIORITIES, Link, LinkKind, Rating, Status, Ticket
from core.validation import COMMENT_MAX, SUBJECT_MAX, clean_priority, clean_text

__all__ = ["Desk", "NewTicket", "Opened", "Outcome"]


def _text(field: str, value: str | None, *, required: bool = True, min_length: int = 1) -> str:
    return clean_text(field, value, max_length=COMMENT_MAX, multiline=True,
                      required=required, min_length=min_length)


# ---- conversation -------------------------------------------------------------

async def comment(change: Change, command: cmd.Comment | cmd.MailComment | cmd.Reply) -> None:
    """A public comment (or an agent's reply). A requester's comment puts a ``waiting``
    ticket back to work, reopens a resolved/closed one within the reopen window and,
    past it, continues in its open follow-up or opens one (PRODUCT.md §3)."""
    ticket, actor = change.ticket, change.actor
    text = _text("text", command.text)
    attachments = getattr(command, "attachments", ())
    policy.require_may_write_in(actor, ticket, change.origin)
    agent = policy.is_agent(actor, change.config)
    requester = policy.is_requester(actor, ticket)
    # ``/ticket reply`` is the team's word even from an agent who is the requester; a
    # message typed in the thread by the requester is theirs, agent or not.
    reply = isinstance(command, cmd.Reply)
    as_requester = requester and not reply
    if reply or (agent and not requester):  # the team's public word: not on a closed ticket
        lifecycle.require_not_closed(ticket)
    if ticket.status in lifecycle.DONE and (as_requester or not agent):
        if not requester:
            raise InvalidTransition(f"#{ticket.number} is {ticket.status.value}; only its "
                                    "requester or an agent can add to it now")
        window = change.config.lifecycle.reopen_window
        if lifecycle.within_reopen_window(ticket, change.now, window):
            lifecycle.reopen(ticket)
            change.record(Commented(text, attachments))
            change.record(Reopened(ticket.status, by_reply=True))
            return
        await _continue_elsewhere(change, text)
        return
    resumed = as_requester and lifecycle.requester_replied(ticket)
    if agent and not requester and ticket.first_response_at is None:
        ticket.first_response_at = change.now
    change.record(Commented(text, attachments))
    if resumed:
        change.record(Resumed(ticket.status, by_reply=True))
    automation.declined_by_reply(change)


async def _continue_elsewhere(change: Change, text: str) -> None:
    """A requester's message on a ticket closed past its reopen window: it belongs in
    the follow-up that continues this ticket — the open one if there is, else a new one
    (within the per-user limits). The old thread says once where it continues."""
    old = change.ticket
    follow_ups = [link.number for link in old.links if link.kind is LinkKind.FOLLOWED_UP_BY]
    if follow_ups:
        raise Redirect(follow_ups[-1])
    desk = change.desk
    assert isinstance(desk, Intake)
    await desk._check_requester_limits(change.store, change.actor, change.now)
    prefix = f"Follow-up to #{old.number}: "
    subject = prefix + old.subject
    if len(subject) > SUBJECT_MAX:  # our own wording, not user input: shorten visibly
        subject = subject[: SUBJECT_MAX - 1] + "…"
    cleaned = {
        "category": old.category, "subject": subject, "description": text,
        "priority": old.priority, "account": old.account,
        "visibility": old.visibility, "fields": dict(old.fields),
        "watchers": list(old.watchers),  # who followed the conversation follows it on
    }
    follow_up, change.timer_set = await desk._create(
        change.store, change.actor, change.actor, cleaned, None,
        links=[Link(LinkKind.FOLLOW_UP_OF, old.number)])
    old.links.append(Link(LinkKind.FOLLOWED_UP_BY, follow_up.number))
    change.follow_up = follow_up
    change.record(Linked(LinkKind.FOLLOWED_UP_BY, follow_up.number, by_reply=True))


async def note(change: Change, command: cmd.Note) -> None:
    change.record(Noted(_text("text", command.text), command.attachments), Audience.INTERNAL)


# ---- status, assignment, priority, escalation ---------------------------------

async def claim(change: Change, command: cmd.Claim) -> None:
    """Two claims at once: one wins, the other is told who has it."""
    lifecycle.claim(change.ticket, change.actor.person)
    change.record(Claimed(change.ticket.status))


async def assign(change: Change, command: cmd.Assign) -> None:
    if not policy.is_agent(command.assignee, change.config):
        raise Invalid("assignee", f"{command.assignee.name} is not an agent")
    lifecycle.assign(change.ticket, command.assignee.person)
    change.record(Assigned(command.assignee.name, change.ticket.status))


async def unassign(change: Change, command: cmd.Unassign) -> None:
    previous = lifecycle.unassign(change.ticket)
    change.record(Unassigned(previous.name, change.ticket.status))


async def request_info(change: Change, command: cmd.RequestInfo) -> None:
    question = _text("question", command.question)
    lifecycle.request_info(change.ticket, change.actor.person)
    change.ticket.first_response_at = change.ticket.first_response_at or change.now
    change.record(InfoRequested(question, change.ticket.status))


async def hold(change: Change, command: cmd.Hold) -> None:
    reason = _text("reason", command.reason)
    lifecycle.hold(change.ticket, change.actor.person)
    change.record(Held(reason, change.ticket.status))


async def resume(change: Change, command: cmd.Resume) -> None:
    lifecycle.resume(change.ticket)
    change.record(Resumed(change.ticket.status))


async def resolve(change: Change, command: cmd.Resolve) -> None:
    text = _text("resolution", command.note)
    lifecycle.resolve(change.ticket, change.actor.person, text, change.now)
    change.ticket.first_response_at = change.ticket.first_response_at or change.now
    change.record(Resolved(change.ticket.resolution or text))


async def close(change: Change, command: cmd.Close) -> None:
    reason = _text("reason", command.reason, required=False) or None
    lifecycle.close(change.ticket, change.now)
    change.record(Closed(reason, by_system=change.actor.system))


async def reopen(change: Change, command: cmd.Reopen) -> None:
    lifecycle.reopen(change.ticket)
    change.record(Reopened(change.ticket.status))


async def set_priority(change: Change, command: cmd.SetPriority) -> None:
    """SLA targets not yet met move with the priority (PRODUCT.md §7)."""
    ticket = change.ticket
    new = _priority(command.priority)
    old = lifecycle.set_priority(ticket, new)
    sla.forget_deadlines(ticket)  # the clocks count on; ``sla.settle`` sets the new dues
    change.record(PriorityChanged(old, new))


def _priority(value: str) -> str:
    """An empty level must not quietly mean normal: ``Invalid("priority")``."""
    if not value or not trim(value):
        raise Invalid("priority", f"say which: {', '.join(PRIORITIES)}")
    return clean_priority(value)


async def escalate(change: Change, command: cmd.Escalate) -> None:
    reason = _text("reason", command.reason)
    level = lifecycle.escalate(change.ticket)
    if not policy.is_agent(change.actor, change.config):  # the requester, after a breach
        change.ticket.sla.requester_escalations += 1
    change.record(Escalated(level, reason))


async def link(change: Change, command: cmd.Link) -> None:
    """Related, or a duplicate: a duplicate is closed pointing at the other ticket
    (PRODUCT.md §4), which must not itself be a duplicate of this one. Linking again
    with the other kind changes the link's kind (related → duplicate_of closes it);
    a follow-up link is the conversation's own and stays."""
    ticket, other = change.ticket, command.other
    if command.kind not in (LinkKind.RELATED, LinkKind.DUPLICATE_OF):
        raise Invalid("link", "must be related or duplicate_of")
    if other == ticket.number:
        raise Invalid("link", "a ticket cannot be linked to itself")
    target = await change.desk._load(change.store, other)
    for existing in (x for x in ticket.links if x.number == other):
        if existing.kind not in (LinkKind.RELATED, LinkKind.DUPLICATE_OF) \
                or existing.kind is command.kind:
            raise InvalidTransition(f"#{ticket.number} is already linked to #{other} "
                                    f"({existing.kind.words})")
    ticket.links = [x for x in ticket.links if x.number != other]  # its kind changes
    duplicate = command.kind is LinkKind.DUPLICATE_OF
    if duplicate and Link(LinkKind.DUPLICATE_OF, ticket.number) in target.links:
        raise InvalidTransition(f"#{other} is a duplicate of #{ticket.number}; a ticket "
                                "cannot be a duplicate of its own duplicate")
    if duplicate and any(x.kind is LinkKind.DUPLICATE_OF for x in ticket.links):
        raise InvalidTransition(f"#{ticket.number} is already a duplicate of another ticket")
    ticket.links.append(Link(command.kind, other))
    change.record(Linked(command.kind, other), Audience.INTERNAL)
    if duplicate and ticket.status is not Status.CLOSED:
        lifecycle.close(ticket, change.now)
        change.record(Closed(f"a duplicate of #{other}", by_system=change.actor.system))


HANDLERS: dict[type[Any], tuple[Action, Any]] = {
    cmd.Comment: (Action.COMMENT, comment),
    cmd.MailComment: (Action.COMMENT_BY_MAIL, comment),
    cmd.Reply: (Action.REPLY, comment),
    cmd.Note: (Action.NOTE, note),
    cmd.Claim: (Action.CLAIM, claim),
    cmd.Assign: (Action.ASSIGN, assign),
    cmd.Unassign: (Action.UNASSIGN, unassign),
    cmd.RequestInfo: (Action.REQUEST_INFO, request_info),
    cmd.Hold: (Action.HOLD, hold),
    cmd.Resume: (Action.RESUME, resume),
    cmd.Resolve: (Action.RESOLVE, resolve),
    cmd.Close: (Action.CLOSE, close),
    cmd.Reopen: (Action.REOPEN, reopen),
    cmd.SetPriority: (Action.SET_PRIORITY, set_priority),
    cmd.Escalate: (Action.ESCALATE, escalate),
    cmd.Link: (Action.LINK, link),
    **watching.HANDLERS,
    **automation.HANDLERS,
}


class Desk(Intake, Reading, Receiving):
    """The ticket core. ``routes`` say where new tickets get threads; ``on_commit`` is
    called after every commit that queued deliveries. Every method below is
    ``run(actor, <command>, request_key=…)``; each raises ``NotFound``, ``NotAllowed``,
    ``InvalidTransition`` or ``Invalid`` (``core.errors``)."""

    handlers = HANDLERS

    async def comment(self, actor: Actor, number: int, text: str, *,
                      origin: Binding | None = None,
                      attachments: tuple[Attachment, ...] | list[Attachment] = (),
                      request_key: str | None = None) -> Outcome:
        """A public comment by anyone who may see the ticket (PRODUCT.md §3, §5)."""
        command = cmd.Comment(number, text, tuple(attachments),
                              origin.id if origin else None)
        return await self.run(actor, command, request_key=request_key)

    async def comment_by_mail(self, actor: Actor, number: int, text: str, *,
                              attachments: tuple[Attachment, ...] = (),
                              request_key: str | None = None) -> Outcome:
        """A reply by e-mail from ``actor`` (an ``email`` identity: the sender): the
        ticket's requester or a watcher only, else ``NotFound`` / ``NotAllowed``; a closed
        ticket reopens or continues in a follow-up as for any requester's comment
        (PRODUCT.md §3, §6). The same ``request_key`` (the mail's ``Message-ID``) again
        returns the first outcome, ``replayed``."""
        command = cmd.MailComment(number, text, tuple(attachments))
        return await self.run(actor, command, request_key=request_key)

    async def reply(self, actor: Actor, number: int, text: str, *,
                    request_key: str | None = None) -> Outcome:
        """An agent's public reply (``/ticket reply``, the card's Reply form)."""
        return await self.run(actor, cmd.Reply(number, text), request_key=request_key)

    async def note(self, actor: Actor, number: int, text: str, *, origin: Binding | None = None,
                   attachments: tuple[Attachment, ...] | list[Attachment] = (),
                   request_key: str | None = None) -> Event:
        """An internal note: team threads only, never the requester (PRODUCT.md §5)."""
        command = cmd.Note(number, text, tuple(attachments), origin.id if origin else None)
        return (await self.run(actor, command, request_key=request_key)).event

    async def post_in_thread(self, actor: Actor, binding: Binding, text: str, *,
                             attachments: tuple[Attachment, ...] | list[Attachment] = (),
                             request_key: str | None = None,
                             receipt: Receipt | None = None) -> Outcome:
        """A message typed in a thread: a public comment in a ticket thread, an internal
        note in a team thread (PRODUCT.md §5). ``receipt``: what identifies the message
        on its platform (``core.inbound``); the same message again is stored once
        (``Outcome.replayed``)."""
        number, origin = binding.ticket_number, binding.id
        command: cmd.TicketCommand = (
            cmd.Note(number, text, tuple(attachments), origin)
            if binding.audience is Audience.INTERNAL
            else cmd.Comment(number, text, tuple(attachments), origin))
        return await self.run(actor, command, request_key=request_key, receipt=receipt)

    async def _ticket(self, actor: Actor, command: cmd.TicketCommand,
                      request_key: str | None) -> Ticket:
        return (await self.run(actor, command, request_key=request_key)).ticket

    async def claim(self, actor: Actor, number: int, *,
                    request_key: str | None = None) -> Ticket:
        return await self._ticket(actor, cmd.Claim(number), request_key)

    async def assign(self, actor: Actor, number: int, agent: Actor, *,
                     request_key: str | None = None) -> Ticket:
        """Give it to ``agent``, who must be an agent (as their platform vouches)."""
        return await self._ticket(actor, cmd.Assign(number, agent), request_key)

    async def unassign(self, actor: Actor, number: int, *,
                       request_key: str | None = None) -> Ticket:
        return await self._ticket(actor, cmd.Unassign(number), request_key)

    async def request_info(self, actor: Actor, number: int, question: str, *,
                           request_key: str | None = None) -> Ticket:
        """Ask the requester ``question`` (public); the ticket waits on them."""
        return await self._ticket(actor, cmd.RequestInfo(number, question), request_key)

    async def hold(self, actor: Actor, number: int, reason: str, *,
                   request_key: str | None = None) -> Ticket:
        """Park it on a third party; the reason is for agents only."""
        return await self._ticket(actor, cmd.Hold(number, reason), request_key)

    async def resume(self, actor: Actor, number: int, *,
                     request_key: str | None = None) -> Ticket:
        return await self._ticket(actor, cmd.Resume(number), request_key)

    async def resolve(self, actor: Actor, number: int, note: str, *,
                      request_key: str | None = None) -> Ticket:
        """Resolve with a resolution note (≥ 6 characters, PRODUCT.md §3)."""
        return await self._ticket(actor, cmd.Resolve(number, note), request_key)

    async def close(self, actor: Actor, number: int, reason: str | None = None, *,
                    request_key: str | None = None) -> Ticket:
        """Close: any agent, or the requester their own (PRODUCT.md §3)."""
        return await self._ticket(actor, cmd.Close(number, reason), request_key)

    async def reopen(self, actor: Actor, number: int, *,
                     request_key: str | None = None) -> Ticket:
        """Reopen: agents any time, the requester within ``lifecycle.reopen_window``."""
        return await self._ticket(actor, cmd.Reopen(number), request_key)

    async def set_priority(self, actor: Actor, number: int, priority: str, *,
                           request_key: str | None = None) -> Ticket:
        return await self._ticket(actor, cmd.SetPriority(number, priority), request_key)

    async def escalate(self, actor: Actor, number: int, reason: str, *,
                       request_key: str | None = None) -> Ticket:
        """Agents any time; the requester once the first-response target is breached."""
        return await self._ticket(actor, cmd.Escalate(number, reason), request_key)

    async def link(self, actor: Actor, number: int, kind: LinkKind, other: int, *,
                   request_key: str | None = None) -> Ticket:
        return await self._ticket(actor, cmd.Link(number, kind, other), request_key)

    async def ask_close(self, actor: Actor, number: int, message: str | None = None, *,
                        request_key: str | None = None) -> Ticket:
        """Ask the requester to confirm closing (agents; PRODUCT.md §7)."""
        return await self._ticket(actor, cmd.AskClose(number, message), request_key)

    async def keep_open(self, actor: Actor, number: int, *,
                        request_key: str | None = None) -> Ticket:
        """The requester declines a close request."""
        return await self._ticket(actor, cmd.KeepOpen(number), request_key)

    async def rate(self, actor: Actor, number: int, rating: Rating | str,
                   comment: str | None = None, *, request_key: str | None = None) -> Ticket:
        """The requester's rating of a resolution (``good``/``bad``); raises
        ``Invalid("rating")`` for another word."""
        return await self._ticket(actor, cmd.Rate(number, str(rating), comment), request_key)

    async def add_watcher(self, actor: Actor, number: int, watcher: Person, *,
                          request_key: str | None = None) -> Ticket:
        """``cc``: the requester or an agent adds ``watcher`` (a chat user, or
        ``core.watching.email_watcher``); raises ``Invalid("cc")`` for a bad address."""
        return await self._ticket(actor, cmd.AddWatcher(number, watcher), request_key)

    async def remove_watcher(self, actor: Actor, number: int, watcher: Person, *,
                             request_key: str | None = None) -> Ticket:
        """``uncc``: the requester or an agent removes ``watcher``."""
        return await self._ticket(actor, cmd.RemoveWatcher(number, watcher), request_key)

    async def watch(self, actor: Actor, number: int, *,
                    request_key: str | None = None) -> Ticket:
        """``actor`` follows ticket ``number`` (anyone who may see it)."""
        return await self._ticket(actor, cmd.Watch(number), request_key)

    async def unwatch(self, actor: Actor, number: int, *,
                      request_key: str | None = None) -> Ticket:
        return await self._ticket(actor, cmd.Unwatch(number), request_key)

    async def set_visibility(self, actor: Actor, number: int, visibility: str, *,
                             request_key: str | None = None) -> Ticket:
        """``share`` (``shared``) / ``unshare`` (``private``): the requester or an agent."""
        return await self._ticket(actor, cmd.SetVisibility(number, visibility), request_key)
