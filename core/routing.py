"""Where a ticket lives and who must hear about each event (PRODUCT.md §5–6).

Pure functions: ``bindings_for`` places a new ticket on every platform the config
routes to; ``plan_deliveries`` turns one event into delivery rows following the
mirroring rules. The desk stores both in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.events import Audience, Event, EventKind, Linked
from core.identity import UserRef
from core.platforms import ThreadPlace, Traits
from core.tickets import Ticket, Visibility


class Target(StrEnum):
    BINDING = "binding"  # a ticket or team thread
    DM = "dm"  # a direct message to one user
    CHANNEL = "channel"  # a channel message (escalations, SLA notices, transcripts)
    EMAIL = "email"  # an e-mail watcher


class Purpose(StrEnum):
    """Why a delivery goes out; adapters render each its own way."""

    CARD = "card"  # a new ticket's card (and the thread under it)
    THREAD = "thread"  # an event mirrored into a ticket or team thread
    RECEIPT = "receipt"  # the requester's receipt of a new ticket (PRODUCT.md §6)
    NOTIFY = "notify"  # a public update for a requester or watcher no thread reaches
    ASSIGNED = "assigned"  # tells an agent someone gave them a ticket
    ESCALATION = "escalation"  # the escalation channel's notice
    SLA = "sla"  # an SLA warning or breach in the team channel, mentioning who must act
    TRANSCRIPT = "transcript"  # a closed ticket's transcript in [transcripts]' channel


class DeliveryState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    # A dead letter: refused for good (``core.outbound.Undeliverable``) or failed
    # ``delivery.max_attempts`` times; ``helpthread deliveries retry`` re-queues it.
    PARKED = "parked"


WATCHER_DM = "dm:"  # a watcher's own thread: ``channel`` is ``dm:<their user id>``


@dataclass(slots=True)
class Binding:
    """Where a ticket lives on one platform. ``channel`` is a channel id, ``dm`` for
    the requester's direct messages, or ``dm:<user id>`` for a watcher's own thread in
    their direct messages (``watcher_thread``); ``thread`` and ``card_message`` are the
    platform ids the first delivery returns (Slack ``thread_ts``, Discord thread id)."""

    ticket_number: int
    platform: str
    workspace: str
    audience: Audience
    channel: str
    reaches_requester: bool = False
    in_requester_dm: bool = False
    thread: str | None = None
    card_message: str | None = None
    id: int | None = None

    @property
    def watcher(self) -> UserRef | None:
        """Whose own DM thread this is (``watcher_thread``); None for any other thread."""
        if not self.channel.startswith(WATCHER_DM):
            return None
        return UserRef(self.platform, self.workspace, self.channel[len(WATCHER_DM):])

    @property
    def in_dm(self) -> bool:
        """Kept in someone's direct messages with the app (the requester's or a
        watcher's): it has no channel of its own to link to."""
        return self.in_requester_dm or self.watcher is not None


@dataclass(slots=True)
class Delivery:
    """One event to one target. ``address`` is the user id (DM), channel id or e-mail.

    ``attempts`` counts attempts started (the count goes up before the platform is
    called); ``maybe_sent`` is true once an attempt began that was not recorded as done
    nor refused outright, so the platform may already show it. ``merged_from`` is the
    earliest event of a merged notice (``core.coalesce``): the notice tells the change
    from that event's old value to this event's new one."""

    ticket_number: int
    event_id: int
    platform: str
    target: Target
    audience: Audience
    created_at: datetime
    binding_id: int | None = None
    address: str | None = None
    purpose: Purpose = Purpose.THREAD
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    maybe_sent: bool = False
    merged_from: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PlatformRoute:
    """Where one platform places a new ticket's threads. Each plug-in builds it from its
    config section, whether or not this process runs the platform, so every process
    places a ticket the same way.

    ``team_channels`` maps category key → team channel (``default_team_channel`` else);
    ``transcripts_channel`` gets each closed ticket's transcript (``[transcripts]``);
    ``team_thread``, ``ticket_thread``, ``private_in_dm``,
    ``thread_reaches_requester``, ``thread_admits_watchers`` and ``watcher_dm_thread``
    are the platform's ``core.platforms.Traits``.
    """

    platform: str
    workspace: str
    support_channel: str
    default_team_channel: str
    team_channels: dict[str, str] = field(default_factory=dict)
    escalation_channel: str | None = None
    transcripts_channel: str | None = None
    private_in_dm: bool = False
    thread_reaches_requester: bool = True
    team_thread: bool = True
    ticket_thread: ThreadPlace = ThreadPlace.CHANNEL
    thread_admits_watchers: bool = False
    watcher_dm_thread: bool = False

    @classmethod
    def of(cls, platform: str, workspace: str, traits: Traits, *, support_channel: str = "",
           default_team_channel: str = "", team_channels: dict[str, str] | None = None,
           escalation_channel: str | None = None) -> PlatformRoute:
        """The route of a platform with ``traits``."""
        return cls(platform=platform, workspace=workspace, support_channel=support_channel,
                   default_team_channel=default_team_channel,
                   team_channels=dict(team_channels or {}),
                   escalation_channel=escalation_channel, private_in_dm=traits.private_in_dm,
                   thread_reaches_requester=traits.thread_reaches_requester,
                   team_thread=traits.team_thread, ticket_thread=traits.ticket_thread,
                   thread_admits_watchers=traits.thread_admits_watchers,
                   watcher_dm_thread=traits.watcher_dm_thread)

    def channels(self, transcripts: str | None = None) -> dict[str, str]:
        """Every channel this route names, by what it is for (``support``, ``team``,
        ``escalation``, ``<category> team`` where a category has its own, and
        ``transcripts``: this route's, else ``transcripts``), for checking that they
        exist (``helpthread doctor``)."""
        named = {"support": self.support_channel, "team": self.default_team_channel,
                 "escalation": self.escalation_channel or "",
                 **{f"{key} team": channel for key, channel in self.team_channels.items()},
                 "transcripts": self.transcripts_channel or transcripts or ""}
        return {what: channel for what, channel in named.items() if channel}


def bindings_for(ticket: Ticket, routes: list[PlatformRoute]) -> list[Binding]:
    """A team thread on every platform that keeps one; a ticket thread on the
    requester's own platform when it keeps one."""
    result: list[Binding] = []
    for route in routes:
        if ticket.requester.ref.platform == route.platform \
                and route.ticket_thread is not ThreadPlace.NONE:
            in_dm = route.ticket_thread is ThreadPlace.DM or (
                route.private_in_dm and ticket.visibility is Visibility.PRIVATE)
            result.append(
                Binding(
                    ticket_number=ticket.number,
                    platform=route.platform,
                    workspace=ticket.requester.ref.workspace,
                    audience=Audience.PUBLIC,
                    channel="dm" if in_dm else route.support_channel,
                    reaches_requester=in_dm or route.thread_reaches_requester,
                    in_requester_dm=in_dm,
                )
            )
        if not route.team_thread:
            continue
        result.append(
            Binding(
                ticket_number=ticket.number,
                platform=route.platform,
                workspace=route.workspace,
                audience=Audience.INTERNAL,
                channel=route.team_channels.get(ticket.category, route.default_team_channel),
            )
        )
    for watcher in ticket.watchers:
        thread = watcher_thread(ticket, watcher.ref, result, routes)
        if thread is not None:
            result.append(thread)
    return result


def watcher_thread(ticket: Ticket, watcher: UserRef, bindings: list[Binding],
                   routes: list[PlatformRoute]) -> Binding | None:
    """The thread ``watcher`` gets in their own DM with the app on becoming a watcher,
    when their platform keeps one (``Traits.watcher_dm_thread``) and no public thread
    of ``ticket`` on their platform and workspace is open to them — its ticket thread
    is the requester's DM (a private Slack ticket) or it has none there. None when they
    need none, or have one already (kept from an earlier watch: it wakes again)."""
    if not any(r.platform == watcher.platform and r.watcher_dm_thread for r in routes):
        return None
    mine = [b for b in bindings if b.platform == watcher.platform
            and b.workspace == watcher.workspace and b.audience is Audience.PUBLIC]
    if any(b.watcher == watcher or not b.in_dm for b in mine):
        return None
    return Binding(ticket_number=ticket.number, platform=watcher.platform,
                   workspace=watcher.workspace, audience=Audience.PUBLIC,
                   channel=WATCHER_DM + watcher.user_id)


# What a requester is told where no thread reaches them (PRODUCT.md §6): every public
# reply, status change, the agent handling it, the resolution, and whether their
# organisation sees it. Priority changes, escalations, links and watchers are the
# team's business.
REQUESTER_NEWS = frozenset({
    EventKind.COMMENTED, EventKind.CLAIMED, EventKind.ASSIGNED, EventKind.UNASSIGNED,
    EventKind.WAITING, EventKind.HELD, EventKind.RESUMED, EventKind.RESOLVED,
    EventKind.CLOSED, EventKind.REOPENED, EventKind.REMINDED, EventKind.CLOSE_REQUESTED,
    EventKind.VISIBILITY_CHANGED,
})
SLA_NOTICES = frozenset({EventKind.SLA_WARNING, EventKind.SLA_BREACHED})
# What reaches an address by e-mail (issue 13): the requester's news, a new ticket a
# watcher is copied on, a watcher added. Priority changes, escalations and links stay
# the team's business — each would be one more message in someone's inbox.
EMAIL_PLATFORM = "email"  # ``UserRef.email``'s platform
EMAIL_NEWS = REQUESTER_NEWS | {EventKind.OPENED, EventKind.WATCHER_ADDED}


def _team_channel_notices(event: Event, ticket: Ticket, bindings: list[Binding],
                          now: datetime) -> list[Delivery]:
    assert event.id is not None
    return [
        Delivery(ticket_number=ticket.number, event_id=event.id, platform=b.platform,
                 target=Target.CHANNEL, audience=Audience.INTERNAL, created_at=now,
                 address=b.channel, purpose=Purpose.SLA)
        for b in bindings if b.audience is Audience.INTERNAL
    ]


def _mailed(event: Event, ref: UserRef, routes: list[PlatformRoute]) -> bool:
    """Whether an address hears of ``event``: e-mail is configured (it has a route)
    and the event is e-mail news. Without ``[email]`` nothing is queued for addresses,
    so no notice waits forever for a platform nobody runs."""
    return event.kind in EMAIL_NEWS and any(r.platform == ref.platform for r in routes)


def _dm(event: Event, ref: UserRef, purpose: Purpose, now: datetime) -> Delivery:
    assert event.id is not None
    target = Target.EMAIL if ref.platform == EMAIL_PLATFORM else Target.DM
    return Delivery(
        ticket_number=event.ticket_number,
        event_id=event.id,
        platform=ref.platform,
        target=target,
        audience=Audience.PUBLIC,
        created_at=now,
        address=ref.key,
        purpose=purpose,
    )


def _thread_reaches_watcher(watcher: UserRef, bindings: list[Binding],
                            routes: list[PlatformRoute]) -> bool:
    """A ticket thread on the watcher's own platform and workspace that adds watchers
    (``Traits.thread_admits_watchers``: Discord's private thread) tells them of each
    public event; a thread in the requester's DMs never does."""
    admits = {r.platform for r in routes if r.thread_admits_watchers}
    return any(b.audience is Audience.PUBLIC and b.platform in admits
               and not b.in_requester_dm and b.platform == watcher.platform
               and b.workspace == watcher.workspace for b in bindings)


def _news_to_its_origin(event: Event) -> bool:
    """An event that says where a message typed in a thread went instead — a follow-up
    it opened (README "Requester replies") — is news to that thread too; anything else
    first recorded from a thread is what was typed there, never echoed back."""
    return isinstance(event.payload, Linked) and event.payload.by_reply


def plan_deliveries(
    event: Event,
    ticket: Ticket,
    bindings: list[Binding],
    routes: list[PlatformRoute],
    now: datetime,
) -> list[Delivery]:
    """Every delivery ``event`` needs, in a stable order (PRODUCT.md §5–6).

    - an internal event reaches team threads only, never the requester or watchers;
      nor by e-mail, ever;
    - a public event reaches every thread except the one it was typed in (there, only
      the notice of the follow-up a message opened: ``_news_to_its_origin``; a watcher's
      own DM thread only while they watch: unwatched, it hears nothing); by DM where
      no thread reaches them, watchers hear of every one — the requester's own
      comments included — the requester only of what ``REQUESTER_NEWS`` lists (a
      watcher removed is no longer told anything: every DM goes to someone who may see
      the ticket then); by e-mail (an identity that is an address, with ``[email]``
      configured) only of what ``EMAIL_NEWS`` lists;
    - a new ticket sends the requester a receipt; an escalation reaches the
      escalation channels; a close sends its transcript to the transcripts channels;
      an assignment by someone else tells the assignee;
    - an SLA warning or breach reaches the team thread and, as its own message, the
      team channel the thread hangs in (PRODUCT.md §7).
    """
    assert event.id is not None
    out: list[Delivery] = []
    watching = {w.ref for w in ticket.watchers}
    for binding in bindings:
        if binding.id == event.origin_binding_id and not _news_to_its_origin(event):
            continue
        if binding.watcher is not None and binding.watcher not in watching:
            continue  # retired: its watcher was removed
        if event.audience is Audience.INTERNAL and binding.audience is Audience.PUBLIC:
            continue
        out.append(
            Delivery(
                ticket_number=ticket.number,
                event_id=event.id,
                platform=binding.platform,
                target=Target.BINDING,
                audience=binding.audience,
                created_at=now,
                binding_id=binding.id,
                purpose=Purpose.CARD if event.kind is EventKind.OPENED else Purpose.THREAD,
            )
        )
    if event.kind in SLA_NOTICES:
        out.extend(_team_channel_notices(event, ticket, bindings, now))
    if event.audience is Audience.INTERNAL:
        return out

    actor_ref = event.actor.ref if event.actor else None
    requester = ticket.requester.ref
    requester_in_thread = any(
        b.audience is Audience.PUBLIC and b.reaches_requester and b.platform == requester.platform
        for b in bindings
    )
    def reaches(ref: UserRef) -> bool:
        return ref.platform != EMAIL_PLATFORM or _mailed(event, ref, routes)

    if event.kind is EventKind.OPENED:
        receipt_in_dm_thread = any(b.in_requester_dm for b in bindings)
        if not receipt_in_dm_thread and reaches(requester):
            out.append(_dm(event, requester, Purpose.RECEIPT, now))
    elif requester != actor_ref and not requester_in_thread \
            and event.kind in REQUESTER_NEWS and reaches(requester):
        out.append(_dm(event, requester, Purpose.NOTIFY, now))
    own_threads = {b.watcher for b in bindings}
    for watcher in ticket.watchers:
        if watcher.ref not in (actor_ref, requester) and reaches(watcher.ref) \
                and watcher.ref not in own_threads \
                and not _thread_reaches_watcher(watcher.ref, bindings, routes):
            out.append(_dm(event, watcher.ref, Purpose.NOTIFY, now))

    assignee = ticket.assignee.ref if ticket.assignee else None
    if event.kind is EventKind.ASSIGNED and assignee and assignee != actor_ref:
        out.append(_dm(event, assignee, Purpose.ASSIGNED, now))
    channels = {EventKind.ESCALATED: (Purpose.ESCALATION, "escalation_channel"),
                EventKind.CLOSED: (Purpose.TRANSCRIPT, "transcripts_channel")}
    if event.kind in channels:
        purpose, key = channels[event.kind]
        for route in routes:
            channel: str | None = getattr(route, key)
            if channel:
                out.append(
                    Delivery(
                        ticket_number=ticket.number,
                        event_id=event.id,
                        platform=route.platform,
                        target=Target.CHANNEL,
                        audience=Audience.INTERNAL,
                        created_at=now,
                        address=channel,
                        purpose=purpose,
                    )
                )
    return out
