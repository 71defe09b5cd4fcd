"""Random commands by random actors against the desk, checking PRODUCT.md's invariants.

Invariants after every step: numbers unique and sequential; only legal status
changes; every successful change is in the history and a refused one changes
nothing; no event was made by someone §1 forbids; no delivery reaches an
audience that must not see it (an internal note never reaches a ticket thread,
a requester or a watcher).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import event as label
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from core.clock import FrozenClock
from core.errors import DeskError
from core.events import Audience, EventKind
from core.identity import Actor
from core.policy import can_see, is_agent
from core.routing import Target
from core.tickets import Status
from tests.support.memory import MemoryStores
from tests.support.people import agent, desk_config, form, make_desk, person

PEOPLE: list[Actor] = [person("lena"), person("omar"), person("zed", workspace="other"),
                       agent("sam"), agent("ana")]
CONFIG = desk_config()
S = Status
LEGAL = {
    (S.OPEN, S.IN_PROGRESS), (S.OPEN, S.WAITING), (S.OPEN, S.ON_HOLD), (S.OPEN, S.RESOLVED),
    (S.OPEN, S.CLOSED), (S.IN_PROGRESS, S.OPEN), (S.IN_PROGRESS, S.WAITING),
    (S.IN_PROGRESS, S.ON_HOLD), (S.IN_PROGRESS, S.RESOLVED), (S.IN_PROGRESS, S.CLOSED),
    (S.WAITING, S.IN_PROGRESS), (S.WAITING, S.OPEN), (S.WAITING, S.ON_HOLD),
    (S.WAITING, S.RESOLVED), (S.WAITING, S.CLOSED), (S.ON_HOLD, S.IN_PROGRESS),
    (S.ON_HOLD, S.OPEN), (S.ON_HOLD, S.WAITING), (S.ON_HOLD, S.RESOLVED),
    (S.ON_HOLD, S.CLOSED), (S.RESOLVED, S.CLOSED), (S.RESOLVED, S.OPEN),
    (S.RESOLVED, S.IN_PROGRESS), (S.CLOSED, S.OPEN), (S.CLOSED, S.IN_PROGRESS),
}
AGENT_ONLY = {EventKind.CLAIMED, EventKind.ASSIGNED, EventKind.UNASSIGNED, EventKind.WAITING,
              EventKind.HELD, EventKind.RESUMED, EventKind.RESOLVED, EventKind.NOTED,
              EventKind.PRIORITY_CHANGED, EventKind.LINKED}
actors = st.sampled_from(PEOPLE)
numbers = st.integers(min_value=1, max_value=4)
texts = st.sampled_from(["ok", "Thanks, looking into it", "", "x" * 10, "line\nbreak",
                         "bad\x00char", "<!channel> @everyone"])


class DeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.stores = MemoryStores()
        self.clock = FrozenClock()
        self.desk = make_desk(self.stores, config=CONFIG, clock=self.clock)
        self.seen_statuses: dict[int, Status] = {}
        self.subjects = 0

    def teardown(self) -> None:
        self.loop.close()

    def _do(self, call: Any) -> None:
        before = copy.deepcopy(self.stores.state)
        try:
            self.loop.run_until_complete(call)
        except DeskError as err:
            label(f"refused: {type(err).__name__}")
            after = self.stores.state
            assert (after.tickets, after.events, after.deliveries, after.counter) == (
                before.tickets, before.events, before.deliveries, before.counter)
            return
        assert len(self.stores.state.events) > len(before.events), "change without history"
        label(f"done: {self.stores.state.events[-1].kind.value}")
        self._check_transitions(before.tickets)

    def _check_transitions(self, before: dict[int, Any]) -> None:
        for number, ticket in self.stores.state.tickets.items():
            old = before.get(number)
            if old is not None and old.status is not ticket.status:
                assert (old.status, ticket.status) in LEGAL, (old.status, ticket.status)

    @initialize()
    def two_tickets(self) -> None:
        self._do(self.desk.open_ticket(PEOPLE[0], form(subject="Shared one", visibility="shared")))
        self._do(self.desk.open_ticket(PEOPLE[2], form(subject="Private one")))

    @rule(actor=actors, text=texts, shared=st.booleans(), category=st.sampled_from(
        ["general", "refund", "nope"]))
    def open(self, actor: Actor, text: str, shared: bool, category: str) -> None:
        self.subjects += 1
        fields = {"receipt": "RC-1", "card_last4": "4242"} if category == "refund" else {}
        self._do(self.desk.open_ticket(actor, form(
            subject=f"Ticket {self.subjects}", description=text or "d", category=category,
            visibility="shared" if shared else "private", fields=fields)))

    @rule(actor=actors, number=numbers)
    def claim(self, actor: Actor, number: int) -> None:
        self._do(self.desk.claim(actor, number))

    @rule(actor=actors, number=numbers, text=texts)
    def comment(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.comment(actor, number, text))

    @rule(actor=actors, number=numbers, text=texts)
    def note(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.note(actor, number, text))

    @rule(actor=actors, number=numbers, text=texts)
    def reply(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.reply(actor, number, text))

    @rule(actor=actors, number=numbers, text=texts)
    def resolve(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.resolve(actor, number, text))

    @rule(actor=actors, number=numbers)
    def close(self, actor: Actor, number: int) -> None:
        self._do(self.desk.close(actor, number))

    @rule(actor=actors, number=numbers)
    def reopen(self, actor: Actor, number: int) -> None:
        self._do(self.desk.reopen(actor, number))

    @rule(actor=actors, number=numbers, text=texts)
    def wait(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.request_info(actor, number, text))

    @rule(actor=actors, number=numbers, text=texts)
    def hold(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.hold(actor, number, text))

    @rule(actor=actors, number=numbers)
    def resume(self, actor: Actor, number: int) -> None:
        self._do(self.desk.resume(actor, number))

    @rule(actor=actors, number=numbers)
    def unassign(self, actor: Actor, number: int) -> None:
        self._do(self.desk.unassign(actor, number))

    @rule(actor=actors, number=numbers, assignee=actors)
    def assign(self, actor: Actor, number: int, assignee: Actor) -> None:
        self._do(self.desk.assign(actor, number, assignee))

    @rule(actor=actors, number=numbers, priority=st.sampled_from(["low", "urgent", "soon"]))
    def priority(self, actor: Actor, number: int, priority: str) -> None:
        self._do(self.desk.set_priority(actor, number, priority))

    @rule(actor=actors, number=numbers, text=texts)
    def escalate(self, actor: Actor, number: int, text: str) -> None:
        self._do(self.desk.escalate(actor, number, text))

    @rule(hours=st.sampled_from([1, 9, 24 * 15]))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours * 3600)

    @invariant()
    def numbers_are_unique_and_sequential(self) -> None:
        numbers = sorted(self.stores.state.tickets)
        assert numbers == list(range(1, len(numbers) + 1))
        assert self.stores.state.counter == len(numbers)

    @invariant()
    def nobody_did_what_section_1_forbids(self) -> None:
        by_key = {a.ref: a for a in PEOPLE}
        for event in self.stores.state.events:
            assert event.actor is not None
            actor = by_key[event.actor.ref]
            ticket = self.stores.state.tickets[event.ticket_number]
            by_requester_reply = getattr(event.payload, "by_reply", False) \
                and actor.ref == ticket.requester.ref
            if event.kind in AGENT_ONLY and not by_requester_reply:
                assert is_agent(actor, CONFIG), (event.kind, actor.name)
            if event.kind in (EventKind.CLOSED, EventKind.REOPENED):
                assert is_agent(actor, CONFIG) or actor.ref == ticket.requester.ref
            if event.kind is EventKind.COMMENTED:
                assert can_see(actor, ticket, CONFIG)

    @invariant()
    def deliveries_reach_only_their_audience(self) -> None:
        state = self.stores.state
        events = {e.id: e for e in state.events}
        bindings = {b.id: b for b in state.bindings}
        by_key = {a.ref.key: a for a in PEOPLE}
        for d in state.deliveries:
            event = events[d.event_id]
            ticket = state.tickets[d.ticket_number]
            if d.target is Target.BINDING:
                binding = bindings[d.binding_id]
                assert d.audience is binding.audience
                if event.audience is Audience.INTERNAL:
                    assert binding.audience is Audience.INTERNAL
            elif d.target is Target.DM:
                assert event.audience is Audience.PUBLIC and d.audience is Audience.PUBLIC
                assert can_see(by_key[d.address or ""], ticket, CONFIG)
            assert event.kind is not EventKind.NOTED or d.audience is Audience.INTERNAL


TestDeskMachine = DeskMachine.TestCase
TestDeskMachine.settings = settings(max_examples=50, stateful_step_count=50, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])
