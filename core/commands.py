"""Commands: what someone asks the desk to do (DESIGN.md, "Core vocabulary").

Each mutation is one small frozen dataclass naming its ticket and arguments as
typed (texts are cleaned when the desk runs it, so a stored command is checked
again then). ``Desk.execute(actor, command, request_key=…)`` runs every one of
them through the same path. Commands are serialisable (``to_json`` /
``from_json``) so the scheduler can store them as timers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import codec
from core.events import Attachment, AutoClosed
from core.identity import Actor, Person
from core.tickets import LinkKind


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """The form (PRODUCT.md §2). ``category`` by key or name; ``fields`` the category's
    own; ``requester`` set only when an agent opens it on someone's behalf."""

    category: str
    subject: str
    description: str
    priority: str | None = None
    account: str | None = None
    visibility: str = "private"
    fields: Mapping[str, str] = field(default_factory=dict)
    requester: Actor | None = None
    watchers: tuple[Person, ...] = ()  # cc: chat users or e-mail watchers


@dataclass(frozen=True, slots=True)
class Comment:
    """A public comment by anyone who may see the ticket. ``in_thread`` is the binding
    id of the thread it was typed in (not echoed back there)."""

    number: int
    text: str
    attachments: tuple[Attachment, ...] = ()
    in_thread: int | None = None


@dataclass(frozen=True, slots=True)
class MailComment:
    """A public comment that arrived by e-mail (PRODUCT.md §6). The actor is the sender's
    e-mail identity; only the ticket's requester or a watcher may write one — never an
    org member by a shared address domain, never anyone by a ticket number alone. It
    reopens or continues a closed ticket as a requester's comment does (§3)."""

    number: int
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """An agent's public reply from the team side (``/ticket reply``, the Reply form)."""

    number: int
    text: str


@dataclass(frozen=True, slots=True)
class Note:
    """An internal note: team threads only (PRODUCT.md §5)."""

    number: int
    text: str
    attachments: tuple[Attachment, ...] = ()
    in_thread: int | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    number: int


@dataclass(frozen=True, slots=True)
class Assign:
    """Give the ticket to ``assignee``, who must be an agent as their platform vouches."""

    number: int
    assignee: Actor


@dataclass(frozen=True, slots=True)
class Unassign:
    number: int


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """``/ticket wait``: ask the requester ``question``; the ticket waits on them."""

    number: int
    question: str


@dataclass(frozen=True, slots=True)
class Hold:
    number: int
    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    number: int


@dataclass(frozen=True, slots=True)
class Resolve:
    number: int
    note: str


@dataclass(frozen=True, slots=True)
class Close:
    number: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reopen:
    number: int


@dataclass(frozen=True, slots=True)
class SetPriority:
    number: int
    priority: str


@dataclass(frozen=True, slots=True)
class Escalate:
    number: int
    reason: str


@dataclass(frozen=True, slots=True)
class Link:
    number: int
    kind: LinkKind
    other: int


@dataclass(frozen=True, slots=True)
class AddWatcher:
    """``/ticket cc N @user|address``: the requester or an agent adds a watcher (a chat
    user, or ``core.watching.email_watcher(address)``)."""

    number: int
    watcher: Person


@dataclass(frozen=True, slots=True)
class RemoveWatcher:
    """``/ticket uncc N @user|address``: the requester or an agent removes a watcher."""

    number: int
    watcher: Person


@dataclass(frozen=True, slots=True)
class Watch:
    """``/ticket watch N``: whoever may see the ticket follows it themselves."""

    number: int


@dataclass(frozen=True, slots=True)
class Unwatch:
    """``/ticket unwatch N``: a watcher stops following it."""

    number: int


@dataclass(frozen=True, slots=True)
class SetVisibility:
    """``/ticket share N`` (``shared``) / ``unshare N`` (``private``), checked when it
    runs (``core.tickets.Visibility``)."""

    number: int
    visibility: str


@dataclass(frozen=True, slots=True)
class AskClose:
    """``/ticket ask-close``: an agent asks the requester to confirm closing (PRODUCT.md §7)."""

    number: int
    message: str | None = None


@dataclass(frozen=True, slots=True)
class KeepOpen:
    """``/ticket keep-open``: the requester declines a close request."""

    number: int


@dataclass(frozen=True, slots=True)
class Rate:
    """``/ticket rate``: the requester's satisfaction with a resolution, one per
    resolution (a second changes it), with an optional comment."""

    number: int
    rating: str  # "good" or "bad" (core.tickets.Rating), checked when it runs
    comment: str | None = None


# ---- the desk's own: run by the scheduler as ``System`` (core.timers) -------------

@dataclass(frozen=True, slots=True)
class SlaAlert:
    """An SLA warning (80%) or, with ``breach``, a breach notice of ``target``
    (``first_response`` or ``resolution``)."""

    number: int
    target: str
    breach: bool


@dataclass(frozen=True, slots=True)
class RemindRequester:
    """A ``waiting`` ticket's reminder: it closes at ``closes_at`` (UTC) without a reply."""

    number: int
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class AutoClose:
    """Close by the desk itself (expiry, auto-close, an unanswered close request)."""

    number: int
    why: AutoClosed


TicketCommand = (Comment | MailComment | Reply | Note | Claim | Assign | Unassign
                 | RequestInfo | Hold | Resume | Resolve | Close | Reopen | SetPriority
                 | Escalate | Link | AddWatcher | RemoveWatcher | Watch | Unwatch
                 | SetVisibility | AskClose | KeepOpen | Rate | SlaAlert | RemindRequester
                 | AutoClose)
Command = OpenTicket | TicketCommand

NAMES: dict[type[Any], str] = {
    OpenTicket: "open", Comment: "comment", MailComment: "mail-comment", Reply: "reply",
    Note: "note", Claim: "claim",
    Assign: "assign", Unassign: "unassign", RequestInfo: "wait", Hold: "hold",
    Resume: "resume", Resolve: "resolve", Close: "close", Reopen: "reopen",
    SetPriority: "priority", Escalate: "escalate", Link: "link", AddWatcher: "cc",
    RemoveWatcher: "uncc", Watch: "watch", Unwatch: "unwatch", SetVisibility: "share",
    AskClose: "ask-close", KeepOpen: "keep-open", Rate: "rate", SlaAlert: "sla-alert",
    RemindRequester: "remind", AutoClose: "auto-close",
}
BY_NAME: dict[str, type[Any]] = {name: cls for cls, name in NAMES.items()}


def to_json(command: Command) -> dict[str, Any]:
    """``{"command": "claim", "number": 3}``: plain JSON values only."""
    return {"command": NAMES[type(command)], **codec.encode(command)}


def from_json(data: Mapping[str, Any]) -> Command:
    """The command ``to_json`` wrote. Raises ``TypeError`` / ``KeyError`` for data this
    version does not know."""
    values = dict(data)
    cls = BY_NAME[values.pop("command")]
    command: Command = codec.decode(cls, values)
    return command
