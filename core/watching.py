"""Watchers and sharing (PRODUCT.md §1, §2, §4): who follows a ticket, and whether the
requester's organisation sees it.

``/ticket watch N`` / ``unwatch N``: whoever may see a ticket follows it themselves.
``/ticket cc N @user|address`` / ``uncc``: the requester or an agent adds or removes a
watcher — a chat user, or an e-mail address (stored as a ``Person`` on platform
``email``, ``UserRef.email``). ``/ticket share N`` / ``unshare N``: the requester or an
agent makes the ticket visible to the requester's organisation, or private again. A
watcher sees the ticket, may comment and hears of every public update
(``core.routing``; on Slack a watcher of a private ticket gets their own thread in
their DM with the app, ``core.routing.watcher_thread``, which goes quiet once they stop
watching and wakes if they watch again); an org member sees a shared ticket (``core.visibility``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from email_validator import EmailNotValidError, validate_email

from core import commands as cmd
from core import policy
from core import tickets as lifecycle
from core.changes import Change
from core.errors import Invalid, InvalidTransition
from core.events import VisibilityChanged, WatcherAdded, WatcherRemoved
from core.identity import NAME_MAX, Person, UserRef
from core.policy import Action
from core.routing import PlatformRoute, watcher_thread
from core.tickets import Ticket, Visibility
from core.validation import shown

EMAIL = "email"  # the platform name e-mail watchers are stored under
WATCHERS_MAX = 50  # per ticket: a cc list, not a mailing list
ADDRESS_MAX = NAME_MAX  # the stores' key columns hold ``email::<address>``


def email_address(text: str, field: str = "cc") -> str:
    """``text`` as a normalised e-mail address (``email-validator``, syntax only: no DNS
    lookup). Raises ``Invalid(field, …)`` naming the address and what is wrong with it."""
    raw = text.strip()
    if not raw:
        raise Invalid(field, "name an e-mail address, like name@example.com")
    if len(raw) > ADDRESS_MAX:
        raise Invalid(field, f"{shown(raw)} is too long for an e-mail address")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as err:
        raise Invalid(field, f"{shown(raw)} is not a valid e-mail address: {err}") from err
    return checked.normalized.lower()


def email_watcher(text: str, field: str = "cc") -> Person:
    """An e-mail watcher for ``text`` (``email_address``); raises ``Invalid(field, …)``."""
    address = email_address(text, field)
    return Person(UserRef.email(address), address)


def looks_like_email(text: str) -> bool:
    """A word meant as an address rather than a user: it has an ``@`` past its start."""
    return "@" in text.strip()[1:]


def clean_watcher(watcher: Person, ticket_requester: UserRef | None = None,
                  field: str = "cc") -> Person:
    """``watcher`` checked as the desk keeps it: an e-mail watcher's address is valid
    (and normalised); the requester is not their own watcher. Raises ``Invalid``."""
    if watcher.ref.platform == EMAIL:
        watcher = email_watcher(watcher.ref.user_id, field)
    if ticket_requester is not None and watcher.ref == ticket_requester:
        raise Invalid(field, f"{watcher.name} is the requester; they follow it already")
    return watcher


def require_mail(ref: UserRef, routes: Iterable[PlatformRoute], field: str) -> None:
    """An e-mail identity hears of its ticket by mail alone: while the desk has no
    ``[email]`` (no e-mail route, ``bot.registry.routes``) it is refused by name —
    ``Invalid(field, …)`` — instead of opening a ticket or adding a watcher nobody can
    reach. Chat identities pass."""
    if ref.platform != EMAIL or any(r.platform == EMAIL for r in routes):
        return
    raise Invalid(field, f"{ref.user_id} is an e-mail address, and e-mail is not set up "
                  "on this desk: add [email] (smtp_host, from_address) to the config "
                  "first, or name a chat user")


def clean_watchers(watchers: tuple[Person, ...], requester: UserRef,
                   field: str = "cc") -> list[Person]:
    """A form's cc list: each ``clean_watcher``, the same person once, at most
    ``WATCHERS_MAX``. Raises ``Invalid(field, …)``."""
    kept: dict[UserRef, Person] = {}
    for watcher in watchers:
        checked = clean_watcher(watcher, requester, field)
        kept.setdefault(checked.ref, checked)
    if len(kept) > WATCHERS_MAX:
        raise Invalid(field, f"names {len(kept)} watchers; the limit is {WATCHERS_MAX}")
    return list(kept.values())


def _follows(ref: UserRef, ticket: Ticket) -> bool:
    return policy.is_watcher(ref, ticket)


async def _add(change: Change, watcher: Person, *, own: bool) -> None:
    ticket = change.ticket
    if watcher.ref == ticket.requester.ref:
        who = "you are" if own else f"{watcher.name} is"
        follow = "follow" if own else "follows"
        raise InvalidTransition(f"{who} the requester of #{ticket.number} and {follow} it "
                                "already")
    if _follows(watcher.ref, ticket):
        who = "you" if own else watcher.name
        raise InvalidTransition(f"{who} already follow{'' if own else 's'} #{ticket.number}")
    if len(ticket.watchers) >= WATCHERS_MAX:
        raise Invalid("cc", f"#{ticket.number} has {WATCHERS_MAX} watchers, the limit")
    ticket.watchers.append(watcher)
    thread = watcher_thread(ticket, watcher.ref, change.bindings, change.desk.routes)
    if thread is not None:  # their own DM thread (a private Slack ticket), stored now
        await change.store.add_bindings([thread])
        change.bindings.append(thread)
    change.record(WatcherAdded(watcher.name, watcher.ref.key, own=own))


def _remove(change: Change, watcher: Person, *, own: bool) -> None:
    ticket, ref = change.ticket, watcher.ref
    gone = next((w for w in ticket.watchers if w.ref == ref), None)
    if gone is None:
        raise InvalidTransition(f"you do not watch #{ticket.number}" if own else
                                f"{watcher.name} is not a watcher of #{ticket.number}")
    ticket.watchers = [w for w in ticket.watchers if w.ref != ref]
    change.record(WatcherRemoved(gone.name, gone.ref.key, own=own))


async def add_watcher(change: Change, command: cmd.AddWatcher) -> None:
    """``cc``: the requester or an agent adds a chat user or an e-mail address (with
    ``[email]`` set up: ``require_mail``)."""
    lifecycle.require_not_closed(change.ticket)
    watcher = clean_watcher(command.watcher)
    require_mail(watcher.ref, change.desk.routes, "cc")
    await _add(change, watcher, own=False)


async def remove_watcher(change: Change, command: cmd.RemoveWatcher) -> None:
    """``uncc``: the requester or an agent removes a watcher (not on a closed ticket)."""
    lifecycle.require_not_closed(change.ticket)
    watcher = command.watcher
    if watcher.ref.platform == EMAIL:
        watcher = email_watcher(watcher.ref.user_id)
    _remove(change, watcher, own=False)


async def watch(change: Change, command: cmd.Watch) -> None:
    await _add(change, change.actor.person, own=True)


async def unwatch(change: Change, command: cmd.Unwatch) -> None:
    _remove(change, change.actor.person, own=True)


def clean_visibility(value: str) -> Visibility:
    """``shared``/``private`` (any case); raises ``Invalid("visibility", …)``."""
    word = value.strip().lower()
    if word not in (Visibility.PRIVATE, Visibility.SHARED):
        raise Invalid("visibility", "must be private or shared")
    return Visibility(word)


async def set_visibility(change: Change, command: cmd.SetVisibility) -> None:
    """``share`` / ``unshare``: shared tickets are seen by the requester's organisation."""
    ticket, to = change.ticket, clean_visibility(command.visibility)
    lifecycle.require_not_closed(ticket)
    if ticket.visibility is to:
        raise InvalidTransition(f"#{ticket.number} is already "
                                + ("shared with its requester's organisation"
                                   if to is Visibility.SHARED else "private"))
    ticket.visibility = to
    change.record(VisibilityChanged(to))


def watch_refusal(action: Action, ticket: Ticket, who: Person) -> InvalidTransition | None:
    """Whether ``who`` can ``watch``/``unwatch``/``share``/``unshare`` ``ticket`` now, as
    the handlers above would decide (cards and pre-checks ask this)."""
    if action is Action.WATCH and (who.ref == ticket.requester.ref
                                   or _follows(who.ref, ticket)):
        return InvalidTransition(f"you already follow #{ticket.number}")
    if action is Action.UNWATCH and not _follows(who.ref, ticket):
        return InvalidTransition(f"you do not watch #{ticket.number}")
    return None


HANDLERS: dict[type[Any], tuple[Action, Any]] = {
    cmd.AddWatcher: (Action.ADD_WATCHER, add_watcher),
    cmd.RemoveWatcher: (Action.REMOVE_WATCHER, remove_watcher),
    cmd.Watch: (Action.WATCH, watch),
    cmd.Unwatch: (Action.UNWATCH, unwatch),
    cmd.SetVisibility: (Action.SET_VISIBILITY, set_visibility),
}
