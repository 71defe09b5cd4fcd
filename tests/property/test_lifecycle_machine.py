"""Random commands by random actors — people and the desk itself (``System``) — through
the one command path (``Desk.run``), checking PRODUCT.md's invariants.

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

from core import commands as cmd
from core.clock import FrozenClock
from core.errors import DeskError
from core.events import Audience, EventKind
from core.identity import SYSTEM, Actor
from core.policy import can_see, is_agent
from core.routing import Target
from core.tickets import LinkKind, Status
from tests.support.memory import MemoryStores
from tests.support.people import agent, desk_config, form, make_desk, person

PEOPLE: list[Actor] = [person("lena"), person("omar"), person("zed", workspace="other"),
                       agent("sam"), agent("ana")]
ACTORS: list[Actor] = [*PEOPLE, SYSTEM]
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
actors = st.sampled_from(ACTORS)
numbers = st.integers(min_value=1, max_value=4)
texts = st.sampled_from(["ok", "Thanks, looking into it", "", "x" * 10, "line\nbreak",
                         "bad\x00char", "<!channel> @everyone"])
commands = st.one_of(
    st.builds(cmd.Comment, numbers, texts), st.builds(cmd.Reply, numbers, texts),
    st.builds(cmd.Note, numbers, texts), st.builds(cmd.Claim, numbers),
    st.builds(cmd.Assign, numbers, st.sampled_from(PEOPLE)), st.builds(cmd.Unassign, numbers),
    st.builds(cmd.RequestInfo, numbers, texts), st.builds(cmd.Hold, numbers, texts),
    st.builds(cmd.Resume, numbers), st.builds(cmd.Resolve, numbers, texts),
    st.builds(cmd.Close, numbers, st.one_of(st.none(), texts)), st.builds(cmd.Reopen, numbers),
    st.builds(cmd.SetPriority, numbers, st.sampled_from(["low", "urgent", "soon", ""])),
    st.builds(cmd.Escalate, numbers, texts),
    st.builds(cmd.Link, numbers, st.sampled_from(list(LinkKind)), numbers),
    st.builds(cmd.AddWatcher, numbers, st.sampled_from([p.person for p in PEOPLE])),
    st.builds(cmd.RemoveWatcher, numbers, st.sampled_from([p.person for p in PEOPLE])),
    st.builds(cmd.Watch, numbers), st.builds(cmd.Unwatch, numbers),
    st.builds(cmd.SetVisibility, numbers, st.sampled_from(["shared", "private", "public"])),
)
SYSTEM_MAY = {EventKind.CLOSED, EventKind.NOTED, EventKind.RESUMED, EventKind.ESCALATED}


class DeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.stores = MemoryStores()
        self.clock = FrozenClock()
        self.desk = make_desk(self.stores, config=CONFIG, clock=self.clock)
        self.seen_statuses: dict[int, Status] = {}
        self.keys: dict[str, int] = {}
        self.subjects = 0
        self.deliveries_checked = 0  # deliveries are checked against the state they met

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

    @rule(actor=actors, command=commands, key=st.sampled_from([None, "k1", "k2", "k3"]))
    def run_command(self, actor: Actor, command: cmd.TicketCommand, key: str | None) -> None:
        """Every command by every kind of actor (System included), through the one path;
        a request key seen before answers with its first outcome and changes nothing."""
        if key is not None and key in self.keys:
            before = copy.deepcopy(self.stores.state)
            outcome = self.loop.run_until_complete(
                self.desk.run(actor, command, request_key=key))
            assert outcome.replayed and outcome.event.id == self.keys[key]
            assert self.stores.state.events == before.events
            return
        self._do(self.desk.run(actor, command, request_key=key))
        stored = [e.id for e in self.stores.state.events if key and e.request_key == key]
        if stored:
            self.keys[str(key)] = stored[0] or 0

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
            if event.actor is None:  # the desk itself: only what its row of the table allows
                assert event.kind in SYSTEM_MAY, event.kind
                continue
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
            cc = event.kind in (EventKind.WATCHER_ADDED, EventKind.WATCHER_REMOVED) \
                and not getattr(event.payload, "own", False)
            if cc or event.kind is EventKind.VISIBILITY_CHANGED:  # issue 13: cc, share
                assert is_agent(actor, CONFIG) or actor.ref == ticket.requester.ref

    @invariant()
    def deliveries_reach_only_their_audience(self) -> None:
        """Each delivery as it was planned: a DM only to someone who may see the ticket
        then (a watcher removed, a ticket unshared later do not make it wrong)."""
        state = self.stores.state
        events = {e.id: e for e in state.events}
        bindings = {b.id: b for b in state.bindings}
        by_key = {a.ref.key: a for a in PEOPLE}
        new, self.deliveries_checked = (state.deliveries[self.deliveries_checked:],
                                        len(state.deliveries))
        for d in new:
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
