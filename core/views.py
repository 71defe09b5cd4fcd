"""What adapters may show: ticket snapshots with sensitive fields removed (PRODUCT.md §2).

Sensitive category fields are stored but never echoed into a thread, card or
notification; only ``/ticket show`` for an agent carries them (``TicketDetails``
with ``sensitive`` filled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import sla
from core.capabilities import ANY_AGENT, audience_roles, available
from core.config import DeskConfig
from core.events import Event
from core.identity import Person
from core.policy import Action, Role
from core.routing import Binding
from core.tickets import Link, LinkKind, Rating, Status, Ticket, Visibility
from core.timers import CLOSING, plan

PUBLIC_LINKS = frozenset({LinkKind.FOLLOW_UP_OF, LinkKind.FOLLOWED_UP_BY})


@dataclass(frozen=True, slots=True)
class FieldView:
    key: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class ClockView:
    """One SLA target as a card shows it: ``due`` (UTC) while its clock runs; ``paused``
    in waiting/on hold (``left``: business time still to go); ``met`` once answered or
    resolved; ``breached`` when it was missed in this cycle."""

    target: str  # first_response | resolution
    due: datetime | None
    paused: bool
    met: bool
    breached: bool
    left: timedelta
    limit: timedelta = timedelta(0)  # the target itself
    warned: bool = False  # 80% of it was used in this cycle


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as cards, threads and notifications show it: no sensitive fields."""

    number: int
    subject: str
    description: str
    category: str
    category_name: str
    priority: str
    status: Status
    visibility: Visibility
    requester: Person
    assignee: Person | None
    account: str | None
    fields: tuple[FieldView, ...]
    source: str
    escalation_level: int
    opened_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    resolution: str | None
    links: tuple[Link, ...]
    watchers: tuple[Person, ...]
    actions: frozenset[Action] = frozenset()  # what this view's viewer may do now
    clocks: tuple[ClockView, ...] = ()  # first response, resolution (PRODUCT.md §7)
    closes_at: datetime | None = None  # when the desk closes it by itself (UTC)
    close_requested: bool = False  # an agent asked the requester to confirm closing
    rating: Rating | None = None  # agents only (never the requester's org)
    rating_comment: str | None = None  # agents only
    back_text: str = ""  # opened outside business hours: when the team is back

    @property
    def sla_due(self) -> datetime | None:
        """The next SLA target this ticket must meet (None once resolved/closed, and while
        paused)."""
        if self.status in (Status.RESOLVED, Status.CLOSED):
            return None
        return self.first_response_due or self.resolution_due

    @property
    def paused(self) -> bool:
        """Its SLA clocks stand still (waiting, on hold)."""
        return self.status in sla.PAUSED

    @property
    def breached(self) -> tuple[str, ...]:
        """The targets missed in this cycle (``first_response``, ``resolution``)."""
        return tuple(clock.target for clock in self.clocks if clock.breached)


def clock_views(ticket: Ticket, config: DeskConfig,
                now: datetime | None = None) -> tuple[ClockView, ...]:
    """Both SLA clocks of ``ticket`` as they stand (counted up to ``now``, UTC)."""
    views = []
    for target in sla.Target:
        reading = sla.read(ticket, config, target, now=now)
        views.append(ClockView(target.value, reading.due,
                               ticket.status in sla.PAUSED and not reading.met,
                               reading.met, sla.breached(ticket, target), reading.left,
                               reading.limit, target.value in ticket.sla.warned))
    return tuple(views)


def closes_at(ticket: Ticket, config: DeskConfig) -> datetime | None:
    """When the desk will close ``ticket`` by itself, if it will (UTC)."""
    return min((spec.due_at for spec in plan(ticket, config) if spec.kind in CLOSING),
               default=None)


def ticket_view(ticket: Ticket, config: DeskConfig, *, internal: bool,
                now: datetime | None = None, viewer: frozenset[Role] | None = None,
                who: Person = ANY_AGENT) -> TicketView:
    """The ticket as ``internal`` (agents: team threads) or public readers may see it:
    never sensitive fields; for the public, only follow-up links (related/duplicate
    links are agents' bookkeeping). With ``now`` (UTC), ``actions`` holds what
    ``viewer``'s roles allow now (default: a card's audience, ``audience_roles``)."""
    category = config.category(ticket.category)
    specs = {f.key: f for f in category.fields} if category else {}
    shown = tuple(
        FieldView(key, specs[key].label if key in specs else key, value)
        for key, value in ticket.fields.items()
        if not (key in specs and specs[key].sensitive)
    )
    return TicketView(
        number=ticket.number,
        subject=ticket.subject,
        description=ticket.description,
        category=ticket.category,
        category_name=category.name if category else ticket.category,
        priority=ticket.priority,
        status=ticket.status,
        visibility=ticket.visibility,
        requester=ticket.requester,
        assignee=ticket.assignee,
        account=ticket.account,
        fields=shown,
        source=ticket.source,
        escalation_level=ticket.escalation_level,
        opened_at=ticket.opened_at,
        first_response_due=None if ticket.first_response_at else ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        resolution=ticket.resolution,
        links=tuple(link for link in ticket.links if internal or link.kind in PUBLIC_LINKS),
        watchers=tuple(ticket.watchers),
        actions=frozenset() if now is None else available(
            viewer if viewer is not None else audience_roles(internal), ticket, config, now,
            who),
        clocks=clock_views(ticket, config, now),
        closes_at=closes_at(ticket, config),
        close_requested=ticket.close_requested_at is not None,
        rating=ticket.rating if internal else None,
        rating_comment=ticket.rating_comment if internal else None,
        # Only while the desk is closed: "We're back …" as of now (or of the opening).
        back_text=config.calendar().back_text(now or ticket.opened_at),
    )


def sensitive_fields(ticket: Ticket, config: DeskConfig) -> tuple[FieldView, ...]:
    category = config.category(ticket.category)
    if category is None:
        return ()
    return tuple(
        FieldView(spec.key, spec.label, ticket.fields[spec.key])
        for spec in category.fields
        if spec.sensitive and spec.key in ticket.fields
    )


@dataclass(frozen=True, slots=True)
class TicketDetails:
    """``/ticket show``: the view, the history the viewer may read, where it lives,
    and — for agents only — the sensitive fields."""

    ticket: TicketView
    events: tuple[Event, ...]
    bindings: tuple[Binding, ...]
    sensitive: tuple[FieldView, ...] = field(default=())
    sees_internal: bool = False


@dataclass(frozen=True, slots=True)
class Listed:
    """One line of ``/ticket list``/``search``/``queue``; a search hit carries a short
    plain-text ``snippet`` around the match (adapters escape it), when there is one."""

    ticket: TicketView
    unread: bool
    last_activity_at: datetime | None
    snippet: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of ``/ticket list`` or ``/ticket queue``: its ``items`` (at most
    ``core.reading.PAGE_SIZE``), its ``number`` (from 1), and whether a next page has
    something (``more``)."""

    items: tuple[Listed, ...]
    number: int
    more: bool


def continued_in(number: int, status: Status, follow_up: int) -> str:
    """What the requester is told when their message on ticket ``number`` — ``status``
    now, resolved or closed past its reopen window — went to follow-up ``follow_up``."""
    return (f"#{number} is {status.value.replace('_', ' ')}; your message is in "
            f"follow-up #{follow_up}.")
