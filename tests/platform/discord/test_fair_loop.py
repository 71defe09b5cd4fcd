"""Issue 14, point 4, on the wire-level fake: a burst of deliveries in flight never holds
up the answer to an interaction. The real bot and delivery worker run on one loop, as
in ``helpthread run``; Discord takes 50 ms per channel write, so ~200 deliveries are
still going when a card's Claim is pressed."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from adapters.discord import answers
from adapters.discord.platform import DiscordPlatform, build_discord
from adapters.discord.plugin import DiscordSettings
from bot.runtime import Runtime, build
from bot.settings import Settings
from core.desk import NewTicket
from core.identity import Actor, UserRef
from tests.platform.discord.interactions_wire import AGENT_ROLE, InteractionFake, button, select

GUILD = 500_000_000_000_000_005
AGENT = 600_000_000_000_000_100


@pytest.fixture
async def wired(sqlite_url: str) -> AsyncIterator[tuple[InteractionFake, Runtime,
                                                         DiscordPlatform]]:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fake = InteractionFake(GUILD)
    await fake.start()
    settings = Settings(database_url=sqlite_url, port=0, discord=DiscordSettings(
        guild_id=GUILD, support_channel_id=fake.text_channel("support"),
        team_channel_id=fake.text_channel("team"), agent_role_id=AGENT_ROLE))
    runtime = await build(settings, settings.desk_config())
    platform = await build_discord(runtime.desk, settings.discord, token="t",
                                   api_url=fake.api_url, gateway_url=fake.gateway_url)
    runtime.worker.serve(platform.outbound)
    try:
        await platform.start()
        await asyncio.wait_for(platform.bot.wait_until_ready(), 30)  # a guard
        yield fake, runtime, platform
    finally:
        await platform.stop()
        await runtime.close()
        await fake.stop()
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway



async def open_tickets(runtime: Runtime, count: int, subject: str, *, first_user: int) -> None:
    """``count`` tickets "<subject> <i>", each by its own member from ``first_user`` on."""
    for i in range(count):
        requester = Actor(UserRef("discord", str(GUILD), str(first_user + i)), f"r{i}")
        await runtime.desk.open_ticket(requester, NewTicket(
            category="general", subject=f"{subject} {i}", description="d"))

async def test_a_claim_is_answered_while_deliveries_are_still_in_flight(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    fake, runtime, _ = wired
    # three deliveries each: two cards and a receipt
    await open_tickets(runtime, 67, "Burst", first_user=700)
    fake.write_delay = 0.05
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.worker.run(stop))
    try:
        await asyncio.wait_for(fake.wrote.wait(), 30)  # the burst has begun
        claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
        await fake.dispatch(claim)
        seen = fake.answered[claim["id"]]
        await asyncio.wait_for(seen.answered.wait(), 30)  # a guard, not a measurement
        pending = await runtime.worker.outbox.pending(["discord"])
        assert seen.kind == 6  # a deferred update, at once
        assert pending > 100, "answered while the burst was still being delivered"
        await asyncio.wait_for(seen.resulted.wait(), 30)  # then its result follows
        # the claim itself is stored
        assert (await runtime.desk.show(Actor(UserRef("discord", str(GUILD), str(AGENT)),
                                              "Agent", frozenset({str(AGENT_ROLE)})),
                                        1)).ticket.assignee is not None
    finally:
        stop.set()
        await worker


async def _dispatched(fake: InteractionFake, platform: DiscordPlatform,
                      payload: dict[str, Any]) -> None:
    """Send ``payload`` and return once the bot has read it (its callbacks not run yet)."""
    read = asyncio.ensure_future(platform.bot.wait_for("interaction", timeout=10))
    await fake.dispatch(payload)
    await read


async def test_deliveries_wait_while_an_interaction_waits_for_its_answer(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    fake, runtime, platform = wired
    await open_tickets(runtime, 5, "Waiting", first_user=700)
    claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
    fake.hold[claim["id"]] = 0.3  # its answer is on its way for 0.3 s
    await _dispatched(fake, platform, claim)
    assert platform.bot.answers.unanswered == 1
    before = fake.writes
    fake.wrote.clear()
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.worker.run(stop))
    try:
        seen = fake.answered[claim["id"]]
        await asyncio.wait_for(seen.answered.wait(), 10)
        await asyncio.sleep(0.2)  # the answer is still on its way back to the bot
        assert fake.writes == before, "a delivery went out before the answer"
        await asyncio.wait_for(seen.resulted.wait(), 10)  # the answer back: work resumes
        await asyncio.wait_for(fake.wrote.wait(), 10)
        assert fake.writes > before
    finally:
        stop.set()
        await worker


async def test_a_delivery_under_way_waits_between_its_requests(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    fake, runtime, platform = wired
    await open_tickets(runtime, 1, "Card", first_user=700)  # its card: a message, a thread
    fake.write_delay = 0.2
    fake.wrote.clear()
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.worker.run(stop))
    try:
        await asyncio.wait_for(fake.wrote.wait(), 10)  # the card's message is on its way
        claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
        fake.hold[claim["id"]] = 0.5  # its answer reaches the bot 0.5 s after it was sent
        await _dispatched(fake, platform, claim)
        seen = fake.answered[claim["id"]]
        await asyncio.wait_for(seen.answered.wait(), 10)
        # the message is made by now (0.2 s); its thread would be asked for at once
        await asyncio.sleep(0.4)
        assert fake.writes == 1, "the delivery's next request went before the answer"
        await asyncio.wait_for(seen.resulted.wait(), 10)  # the answer back: it goes on
        fake.wrote.clear()
        await asyncio.wait_for(fake.wrote.wait(), 10)
        assert fake.writes > 1
    finally:
        stop.set()
        await worker


async def test_answers_go_out_on_connections_no_delivery_holds(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    """While deliveries hold every connection of discord.py's pool (each until Discord
    responds), an answer needs no new connection: answers have a pool of their own
    (``answers.AnswerConnections``), kept open from one interaction to the next."""
    fake, runtime, _ = wired
    await open_tickets(runtime, 20, "Held", first_user=700)
    while await runtime.worker.run_once():  # their cards and threads, made
        pass

    async def claim(number: int) -> None:
        pressed = button(GUILD, fake.channels_by_name("team"), AGENT, f"ticket:claim:{number}")
        await fake.dispatch(pressed)
        seen = fake.answered[pressed["id"]]
        await asyncio.wait_for(seen.resulted.wait(), 10)  # a guard, not a measure
        assert seen.kind == 6

    await claim(1)  # before the burst: its answers open their connection
    warm = set(fake.ports["answers"])
    for number in range(2, 21):  # a message for each ticket's own thread: 19 at once
        requester = Actor(UserRef("discord", str(GUILD), str(700 + number - 1)), "r")
        await runtime.desk.comment(requester, number, "Any news?")
    fake.write_delay = 0.5
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.worker.run(stop))
    try:
        await asyncio.wait_for(fake.wrote.wait(), 10)
        for _ in range(250):  # until ten queues' first requests are on their way (a
            if len(fake.ports["channel writes"]) >= 10:  # busy machine takes longer
                break  # than the 0.1 s once waited here)
            await asyncio.sleep(0.02)
        await claim(2)
        assert len(fake.ports["channel writes"]) >= 10, "too few deliveries in flight"
        assert fake.ports["answers"] == warm, "an answer opened a new connection"
        assert not fake.ports["answers"] & fake.ports["channel writes"]
    finally:
        stop.set()
        await worker


async def test_desk_work_waits_for_other_answers_but_not_for_ever(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    fake, runtime, platform = wired
    await open_tickets(runtime, 2, "Two", first_user=800)
    team = fake.channels_by_name("team")
    slow = button(GUILD, team, AGENT, "ticket:claim:1")
    quick = button(GUILD, team, AGENT, "ticket:claim:2")
    fake.hold[slow["id"]] = 0.3  # its answer reaches the bot 0.3 s after it was sent
    await _dispatched(fake, platform, slow)
    await fake.dispatch(quick)
    first, second = fake.answered[slow["id"]], fake.answered[quick["id"]]
    await asyncio.wait_for(second.resulted.wait(), 10)
    assert first.first is not None and second.first is not None \
        and second.result is not None
    # the quick claim was deferred at once, but its work waited for the slow answer
    assert second.first < first.first + 0.3
    assert second.result >= first.first + 0.3

    # an answer that takes longer than the bound holds the work no longer than that
    stuck = select(GUILD, team, AGENT, "ticket:priority:1", "high")
    later = select(GUILD, team, AGENT, "ticket:priority:2", "high")
    fake.hold[stuck["id"]] = 2.0
    await _dispatched(fake, platform, stuck)
    await fake.dispatch(later)
    waiting = fake.answered[later["id"]]
    await asyncio.wait_for(waiting.resulted.wait(), 10)
    assert waiting.first is not None and waiting.result is not None
    held = fake.answered[stuck["id"]]
    assert held.first is not None
    assert answers.MOST_SECONDS - 0.05 <= waiting.result - waiting.first < 1.5
    assert waiting.result < held.first + 2.0


async def test_the_collector_waits_for_answers_but_not_for_ever(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    fake, runtime, platform = wired
    await open_tickets(runtime, 3, "Collected", first_user=900)
    team = fake.channels_by_name("team")
    assert gc.isenabled()
    claim = button(GUILD, team, AGENT, "ticket:claim:1")
    fake.hold[claim["id"]] = 0.2  # its answer is on its way for 0.2 s
    await _dispatched(fake, platform, claim)
    assert not gc.isenabled(), "no automatic collection while an answer is on its way"
    await asyncio.wait_for(fake.answered[claim["id"]].resulted.wait(), 10)
    await asyncio.sleep(answers.QUIET_SECONDS + 0.05)  # no interaction since: released
    assert gc.isenabled()

    # an answer slower than the hold's bounds: past the first, the hold waits for a
    # moment none waits (none comes: this one is stuck); past the last, the collector
    # runs again, and is not held again until every interaction is answered
    stuck = select(GUILD, team, AGENT, "ticket:priority:2", "high")
    fake.hold[stuck["id"]] = 1.5
    await _dispatched(fake, platform, stuck)
    assert not gc.isenabled()
    await asyncio.sleep(answers.HOLD_MOST_SECONDS + 0.1)
    assert not gc.isenabled() and platform.bot.answers.unanswered == 1
    await asyncio.sleep(answers.HOLD_LAST_SECONDS - answers.HOLD_MOST_SECONDS)
    assert gc.isenabled() and platform.bot.answers.unanswered == 1
    later = button(GUILD, team, AGENT, "ticket:claim:3")
    await _dispatched(fake, platform, later)
    assert gc.isenabled()
    await asyncio.wait_for(fake.answered[stuck["id"]].resulted.wait(), 10)
    await asyncio.wait_for(fake.answered[later["id"]].resulted.wait(), 10)
    assert platform.bot.answers.unanswered == 0

    # nor held past HOLD_LAST_YOUNG times the young generation's threshold of objects
    threshold = gc.get_threshold()
    slow = button(GUILD, team, AGENT, "ticket:close:1")
    fake.hold[slow["id"]] = 0.4
    await _dispatched(fake, platform, slow)
    assert not gc.isenabled()
    try:
        gc.set_threshold(1, *threshold[1:])
        made = [[] for _ in range(answers.HOLD_LAST_YOUNG + 1)]  # past HOLD_LAST_YOUNG × 1
        await _dispatched(fake, platform, button(GUILD, team, AGENT, "ticket:claim:2"))
        del made
        assert gc.isenabled()
    finally:
        gc.set_threshold(*threshold)
    await asyncio.wait_for(fake.answered[slow["id"]].resulted.wait(), 10)


class _Pending:
    """What ``AnswersFirst`` reads of a discord.py interaction: its id and whether its
    first answer was sent (``response.is_done()``)."""

    def __init__(self, interaction_id: int) -> None:
        self.id = interaction_id
        self.done = False
        self.response = self

    def is_done(self) -> bool:
        return self.done


async def test_the_hold_lasts_through_a_burst_and_ends_once_it_is_quiet() -> None:
    waiting = answers.AnswersFirst()
    first, second = _Pending(1), _Pending(2)
    try:
        waiting.arrived(first)  # type: ignore[arg-type]
        assert not gc.isenabled()
        first.done = True
        waiting.answered()
        # every interaction answered, but a burst's next one may be a moment away: a
        # collection now would fall inside the burst
        assert not gc.isenabled() and waiting.unanswered == 0
        waiting.arrived(second)  # type: ignore[arg-type]
        second.done = True
        waiting.answered()
        await asyncio.sleep(answers.QUIET_SECONDS + 0.05)
        assert gc.isenabled(), "no interaction for QUIET_SECONDS: the collector runs"
    finally:
        waiting.close()
    assert gc.isenabled()


async def test_a_hold_past_its_first_bound_ends_at_the_first_moment_none_waits() -> None:
    """A steady stream one at a time never goes quiet: past ``HOLD_MOST_SECONDS`` the
    hold ends between two interactions (where the collection delays only the next one's
    reading), not at once with one waiting, nor only at the last bound."""
    waiting = answers.AnswersFirst()
    stream = [_Pending(n) for n in range(1, 100)]
    began = time.monotonic()
    try:
        for pending in stream:
            waiting.arrived(pending)  # type: ignore[arg-type]
            assert not gc.isenabled(), "held while the stream goes on, gaps under QUIET"
            await asyncio.sleep(0.02)  # its answer is on its way
            assert not gc.isenabled(), "one waits: never collected under it"
            pending.done = True
            waiting.answered()
            if time.monotonic() - began > answers.HOLD_MOST_SECONDS:
                break
            assert not gc.isenabled(), "within the first bound: held through the gap"
        else:
            raise AssertionError("the stream outlasted the test")
        assert gc.isenabled(), "the first moment none waits past the bound: it ended"
        assert time.monotonic() - began < answers.HOLD_LAST_SECONDS
        after = _Pending(1000)
        waiting.arrived(after)  # type: ignore[arg-type]
        assert not gc.isenabled(), "the next burst is held afresh"
        after.done = True
        waiting.answered()
    finally:
        waiting.close()
    assert gc.isenabled()


async def test_an_interaction_read_while_the_bot_closes_takes_no_hold() -> None:
    waiting = answers.AnswersFirst()
    waiting.arrived(_Pending(1))  # type: ignore[arg-type]
    assert not gc.isenabled()
    waiting.close()
    assert gc.isenabled()
    waiting.arrived(_Pending(2))  # type: ignore[arg-type]
    assert gc.isenabled(), "no timer would end a hold taken now"


def test_the_hold_leaves_a_collector_someone_else_disabled_as_it_was() -> None:
    hold = answers.CollectorHold()
    gc.disable()
    try:
        hold.hold("a")
        hold.release("a")
        assert not gc.isenabled()
    finally:
        gc.enable()
    hold.hold("a")
    hold.hold("b")
    hold.release("a")
    assert not gc.isenabled(), "held while any holder waits"
    hold.release("b")
    assert gc.isenabled()


async def test_a_bot_that_stops_leaves_the_collector_running(
        wired: tuple[InteractionFake, Runtime, DiscordPlatform]) -> None:
    fake, runtime, platform = wired
    requester = Actor(UserRef("discord", str(GUILD), "950"), "r")
    await runtime.desk.open_ticket(requester, NewTicket(
        category="general", subject="Stopping", description="d"))
    claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
    fake.hold[claim["id"]] = 2.0
    await _dispatched(fake, platform, claim)
    assert not gc.isenabled()
    await platform.stop()  # before the answer is back and before the hold's bound
    assert gc.isenabled()


async def test_work_that_gave_way_goes_on_in_order_one_piece_per_pass_of_the_loop() -> None:
    """Let go all at once, a hundred pieces of waiting work ran back to back before the
    loop read the gateway again; one per pass, a frame that arrives is read between."""
    waiting = answers.AnswersFirst()
    passes = 0

    def tick() -> None:  # runs once in every pass of the loop
        nonlocal passes
        passes += 1
        ticker[0] = asyncio.get_running_loop().call_soon(tick)

    ticker = [asyncio.get_running_loop().call_soon(tick)]
    went: list[tuple[int, int]] = []

    async def work(n: int) -> None:
        await waiting.give_way()
        went.append((n, passes))

    interaction = _Pending(1)
    try:
        waiting.arrived(interaction)  # type: ignore[arg-type]
        pieces = [asyncio.create_task(work(n)) for n in range(50)]
        await asyncio.sleep(0.1)
        assert went == [], "no work while an interaction waits for its first answer"
        interaction.done = True
        waiting.answered()
        await asyncio.wait_for(asyncio.gather(*pieces), 10)
        assert [n for n, _ in went] == list(range(50))  # in the order they came
        at = [p for _, p in went]
        assert all(b > a for a, b in itertools.pairwise(at)), \
            "each piece in a pass of its own"
        assert at[-1] - at[0] < 150  # and without waiting between them
    finally:
        ticker[0].cancel()
        waiting.close()



def test_the_collection_held_back_is_made_when_the_hold_ends() -> None:
    """At the quiet moment the hold ends, not at the next allocation — which was often
    the next interaction's gateway frame being parsed."""
    hold, holder = answers.CollectorHold(), object()
    young = gc.get_threshold()[0]
    hold.hold(holder)
    try:
        kept = [[] for _ in range(3 * young)]  # past the young threshold, while held
        assert not gc.isenabled() and gc.get_count()[0] > young
    finally:
        hold.release(holder)
    # (get_count reads the counts before it allocates its answer)
    assert gc.get_count()[0] < young, "collected as the hold ended"
    assert gc.isenabled() and len(kept) == 3 * young
