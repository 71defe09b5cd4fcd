"""Issue 14, points 1 and 2, on the wire-level fake: deferrals sent from the gateway frame
(``adapters/discord/early.py``) — which interactions get one, that exactly one first
answer and one result follow, that a redelivery changes nothing twice, and that an
interaction discord.py cannot build is still answered."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from adapters.discord.platform import DiscordPlatform
from adapters.discord.render import FAILED
from bot.runtime import Runtime
from core.events import Claimed, Commented
from core.identity import Actor, UserRef
from tests.platform.discord.interactions_wire import (
    AGENT_ROLE,
    InteractionFake,
    button,
    command,
    modal_submit,
    select,
)
from tests.platform.discord.test_fair_loop import AGENT, GUILD, open_tickets, wired

__all__ = ["wired"]  # the fixture, shared with test_fair_loop

Wired = tuple[InteractionFake, Runtime, DiscordPlatform]
DEFERRED_MESSAGE, DEFERRED_UPDATE, MODAL = 5, 6, 9
AGENT_ACTOR = Actor(UserRef("discord", str(GUILD), str(AGENT)), "Agent",
                    frozenset({str(AGENT_ROLE)}))


async def _answered(fake: InteractionFake, payload: dict[str, Any], *,
                    result: bool = True) -> None:
    await fake.dispatch(payload)
    seen = fake.answered[payload["id"]]
    await asyncio.wait_for(seen.answered.wait(), 10)  # guards, not measures
    if result:
        await asyncio.wait_for(seen.resulted.wait(), 10)


def _early(platform: DiscordPlatform, payload: dict[str, Any]) -> str | None:
    return platform.bot.early.deferral_of(payload)


async def test_card_controls_and_forms_are_deferred_from_the_frame_and_answered_once(
        wired: Wired) -> None:
    fake, runtime, platform = wired
    await open_tickets(runtime, 2, "Early", first_user=700)
    team = fake.channels_by_name("team")

    claim = button(GUILD, team, AGENT, "ticket:claim:1")
    assert _early(platform, claim) == "update"
    await _answered(fake, claim)
    assert fake.callbacks[claim["id"]] == [DEFERRED_UPDATE]
    assert len(fake.results[claim["id"]]) == 1  # "… is yours" as a follow-up

    priority = select(GUILD, team, AGENT, "ticket:priority:1", "high")
    assert _early(platform, priority) == "update"
    await _answered(fake, priority)
    assert fake.callbacks[priority["id"]] == [DEFERRED_UPDATE]
    assert (await runtime.desk.show(AGENT_ACTOR, 1)).ticket.priority == "high"

    # the Resolve button answers with its form (no deferral), the form's submission
    # is deferred from its frame: the form is waiting in this process
    resolve = button(GUILD, team, AGENT, "ticket:resolve:2")
    assert _early(platform, resolve) is None
    await _answered(fake, resolve, result=False)
    assert fake.callbacks[resolve["id"]] == [MODAL]
    submit = modal_submit(GUILD, team, AGENT, f"ticket:form:resolve:2:{AGENT}",
                          {"text": "Restarted the router."})
    assert _early(platform, submit) == "thinking"
    await _answered(fake, submit)
    assert fake.callbacks[submit["id"]] == [DEFERRED_MESSAGE]
    assert len(fake.results[submit["id"]]) == 1
    assert (await runtime.desk.show(AGENT_ACTOR, 2)).ticket.status == "resolved"


async def test_what_answers_otherwise_is_left_to_its_callback(wired: Wired) -> None:
    fake, _, platform = wired
    team = fake.channels_by_name("team")
    # a command (``/ticket new`` answers with a form), a form this process never showed
    # (shown before a restart: discord.py drops its submission), a custom_id not ours
    new = command(GUILD, team, AGENT + 1, "new", agent=False, category="general")
    unknown = modal_submit(GUILD, team, AGENT, f"ticket:form:resolve:1:{AGENT}", {"text": "x"})
    stranger = button(GUILD, team, AGENT, "someone-elses:button")
    assert [_early(platform, p) for p in (new, unknown, stranger)] == [None, None, None]
    await _answered(fake, new, result=False)
    assert fake.callbacks[new["id"]] == [MODAL]


async def test_a_refusal_follows_a_deferral_sent_from_the_frame(wired: Wired) -> None:
    fake, runtime, _ = wired
    await open_tickets(runtime, 1, "Refused", first_user=700)
    # a member without the agent role presses Claim: deferred, then refused by core
    claim = button(GUILD, fake.channels_by_name("team"), AGENT + 7, "ticket:claim:1",
                   agent=False)
    await _answered(fake, claim)
    assert fake.callbacks[claim["id"]] == [DEFERRED_UPDATE]
    [refusal] = fake.results[claim["id"]]
    assert refusal["flags"] == 64 and "agent" in refusal["content"].lower()
    assert (await runtime.desk.show(AGENT_ACTOR, 1)).ticket.assignee is None


async def test_a_redelivered_claim_changes_nothing_twice(wired: Wired) -> None:
    fake, runtime, _ = wired
    await open_tickets(runtime, 1, "Twice", first_user=700)
    claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
    await _answered(fake, claim)
    await fake.dispatch(claim)  # Discord sends the same interaction again
    for _ in range(100):  # until the second deferral was refused
        if len(fake.callbacks[claim["id"]]) == 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # time for a second result, were one coming
    assert fake.callbacks[claim["id"]] == [DEFERRED_UPDATE, DEFERRED_UPDATE]
    assert len(fake.results[claim["id"]]) == 1
    events = (await runtime.desk.show(AGENT_ACTOR, 1)).events
    assert sum(isinstance(e.payload, Claimed) for e in events) == 1


async def test_an_interaction_discord_py_cannot_build_is_told_it_did_not_work(
        wired: Wired, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "helpthread.discord")
    fake, runtime, platform = wired
    await open_tickets(runtime, 1, "Broken", first_user=700)
    claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
    claim["member"]["roles"] = "not a list"  # discord.py's parser raises on it
    await _answered(fake, claim)
    assert fake.callbacks[claim["id"]] == [DEFERRED_UPDATE]
    assert [r["content"] for r in fake.results[claim["id"]]] == [FAILED]
    assert any(r.getMessage().startswith("discord.interaction_unparsed")
               for r in caplog.records)
    assert (await runtime.desk.show(AGENT_ACTOR, 1)).ticket.assignee is None
    # the gateway goes on: the next press is read and answered
    again = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
    await _answered(fake, again)
    assert platform.bot.is_ready()


async def test_events_read_after_a_deferred_interaction_keep_the_gateway_order(
        wired: Wired) -> None:
    """The interaction's parse waits behind its deferral; a message read right after it
    waits behind the interaction's parse, not in front of it."""
    fake, runtime, platform = wired
    await open_tickets(runtime, 1, "Order", first_user=700)
    seen: list[str] = []
    for event in ("interaction", "message"):  # resolved as the bot dispatches each
        waiter = asyncio.ensure_future(platform.bot.wait_for(event, timeout=10))
        waiter.add_done_callback(lambda _, event=event: seen.append(event))
    team = fake.channels_by_name("team")
    claim = button(GUILD, team, AGENT, "ticket:claim:1")
    said = {**fake._message(str(team), {"content": "hello"}),
            "author": fake._user(AGENT + 3, "someone"), "guild_id": str(GUILD)}
    await fake.dispatch(claim)
    await fake.dispatch_event("MESSAGE_CREATE", said)
    await asyncio.wait_for(fake.answered[claim["id"]].resulted.wait(), 10)
    for _ in range(100):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.02)
    assert fake.callbacks[claim["id"]] == [DEFERRED_UPDATE]
    assert seen == ["interaction", "message"]


async def test_a_press_on_a_card_without_that_control_is_not_deferred(wired: Wired) -> None:
    """discord.py runs a control's callback only when the message it came from carries
    it (a card edited since it was shown may not): a deferral would be left thinking."""
    fake, runtime, platform = wired
    await open_tickets(runtime, 1, "Stale", first_user=700)
    team = fake.channels_by_name("team")
    stale = button(GUILD, team, AGENT, "ticket:claim:1")
    stale["message"]["components"][0]["components"][0]["custom_id"] = "ticket:reopen:1"
    bare = button(GUILD, team, AGENT, "ticket:claim:1")
    del bare["message"]
    assert [_early(platform, p) for p in (stale, bare)] == [None, None]
    await fake.dispatch(stale)
    await asyncio.sleep(0.3)  # nothing is sent for it (Discord says it failed)
    assert stale["id"] not in fake.callbacks
    assert (await runtime.desk.show(AGENT_ACTOR, 1)).ticket.assignee is None


async def test_two_agents_replying_to_one_ticket_each_get_their_own_form(
        wired: Wired) -> None:
    fake, runtime, _ = wired
    await open_tickets(runtime, 1, "Both", first_user=700)
    team = fake.channels_by_name("team")
    first, second = AGENT, AGENT + 50
    for agent in (first, second):  # both open the reply form, then both submit
        await _answered(fake, button(GUILD, team, agent, "ticket:reply:1"), result=False)
    for agent, text in ((first, "From the first agent."), (second, "From the second.")):
        await _answered(fake, modal_submit(GUILD, team, agent, f"ticket:form:reply:1:{agent}",
                                           {"text": text}))
    said = [e.payload.text for e in (await runtime.desk.show(AGENT_ACTOR, 1)).events
            if isinstance(e.payload, Commented)]
    assert said == ["From the first agent.", "From the second."]


async def test_a_gateway_event_discord_py_cannot_parse_does_not_end_the_session(
        wired: Wired, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "helpthread.discord")
    fake, runtime, _ = wired
    await open_tickets(runtime, 1, "Going on", first_user=700)
    await fake.dispatch_event("MESSAGE_CREATE", {"id": "1", "channel_id": "2"})  # no author
    claim = button(GUILD, fake.channels_by_name("team"), AGENT, "ticket:claim:1")
    await _answered(fake, claim)
    assert any(r.getMessage().startswith("discord.event_unparsed") for r in caplog.records)
