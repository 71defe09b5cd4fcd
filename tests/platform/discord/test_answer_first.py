"""Issue 14: every interaction is answered at once — a deferral, or the final answer
when no work is needed — and exactly one result follows (read from the HTTP calls the
bot made to SimCord's Discord, in order)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
import simcord

from adapters.discord.render import FAILED
from tests.platform.discord.conftest import World, fill, open_ticket, told

# Discord's interaction callback types (docs: "Interaction Response Type")
CALLBACKS = {4: "message", 5: "thinking", 6: "deferred update", 7: "update", 9: "modal"}


def answers(w: World, since: int) -> list[str]:
    """How the bot answered since transcript entry ``since``: each interaction callback
    by its type, and "result" for each message sent with an interaction's token after
    it (a follow-up, which completes a "thinking" answer, or an edit of the original)."""
    out = []
    for kind, name, payload in w.env.backend.transcript[since:]:
        if kind != "HTTP":
            continue
        _, path = name.split(" ", 1)
        if path.startswith("/interactions/") and path.endswith("/callback"):
            out.append(CALLBACKS[(payload or {})["type"]])
        elif path.startswith("/webhooks/"):
            out.append("result")
    return out


Step = Callable[[World, int], Awaitable[simcord.InteractionResult]]


async def _claim_button(w: World, n: int) -> simcord.InteractionResult:
    return await w.bob.click(w.team_card(n), label="Claim")


async def _reply_button(w: World, n: int) -> simcord.InteractionResult:
    return await w.bob.click(w.team_card(n), label="Reply")


async def _priority_select(w: World, n: int) -> simcord.InteractionResult:
    return await w.bob.select(w.team_card(n), ["urgent"])


async def _close_button(w: World, n: int) -> simcord.InteractionResult:
    return await w.alice.click(w.ticket_card(n), label="Close")


async def _claim_command(w: World, n: int) -> simcord.InteractionResult:
    return await w.bob.slash(w.team_thread(n), "ticket claim")


async def _list_command(w: World, n: int) -> simcord.InteractionResult:
    return await w.alice.slash(w.support, "ticket list")


async def _help_command(w: World, n: int) -> simcord.InteractionResult:
    return await w.alice.slash(w.support, "ticket help")


async def _new_command(w: World, n: int) -> simcord.InteractionResult:
    return await w.alice.slash(w.support, "ticket new", category="general")


async def _refused_claim(w: World, n: int) -> simcord.InteractionResult:
    olga = w.guild.add_member(w.env.create_user("olga"), roles=[w.onlookers])
    return await olga.click(w.team_card(n), label="Claim")  # she sees the team, no agent


@pytest.mark.parametrize(("step", "expected"), [
    (_claim_button, ["deferred update", "result"]),
    (_priority_select, ["deferred update", "result"]),
    (_close_button, ["deferred update", "result"]),
    (_refused_claim, ["deferred update", "result"]),  # the refusal follows the deferral
    (_claim_command, ["thinking", "result"]),
    (_list_command, ["thinking", "result"]),
    (_help_command, ["message"]),  # no work: answered directly
    (_new_command, ["modal"]),     # a modal must be the first answer
    (_reply_button, ["modal"]),
])
async def test_each_interaction_is_deferred_or_answered_then_one_result(
        world: World, step: Step, expected: list[str]) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    since = len(w.env.backend.transcript)
    result = await step(w, n)
    assert answers(w, since) == expected
    if expected[-1] == "result":
        assert told(result).ephemeral


@pytest.mark.parametrize(("button", "field", "text"), [
    ("Reply", "text", "Try clearing the cache."),
    ("Resolve", "resolution", "Password reset sent"),
    ("Escalate", "text", "VIP customer"),
])
async def test_a_form_submission_is_deferred_then_one_result(
        world: World, button: str, field: str, text: str) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    shown = await w.bob.click(w.team_card(n), label=button)
    since = len(w.env.backend.transcript)
    done = await w.bob.submit_modal(shown, fill(shown, **{field: text}))
    assert answers(w, since) == ["thinking", "result"]
    assert told(done).content.startswith(("Reply posted", "Done:"))


async def test_the_panel_and_the_ticket_form(world: World) -> None:
    w = world
    await w.bob.slash(w.support, "ticket panel")
    since = len(w.env.backend.transcript)
    menu = await w.alice.click(w.support.history()[-1], label="Open a ticket")
    assert answers(w, since) == ["thinking", "result"]  # the limits are read first
    since = len(w.env.backend.transcript)
    shown = await w.alice.select(menu.response, ["general"])
    assert answers(w, since) == ["modal"]
    since = len(w.env.backend.transcript)
    bad = await w.alice.submit_modal(shown, fill(shown, subject="Bell \x07", description="x"))
    assert answers(w, since) == ["thinking", "result"]
    assert told(bad).content.startswith("**Subject** (subject):")  # the field, named
    again = await w.alice.click(told(bad), label="Edit and submit again")
    since = len(w.env.backend.transcript)
    good = await w.alice.submit_modal(again, fill(again, subject="Printer", description="x"))
    assert answers(w, since) == ["thinking", "result"]
    assert told(good).content.startswith("Opened #1: Printer")


async def test_a_failure_after_the_deferral_is_answered_once_and_logged(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "helpthread.discord")
    w = world
    # Discord fails the panel's post: the work fails after "thinking" was shown
    w.env.inject_error("POST", f"/channels/{w.support.id}/messages")
    since = len(w.env.backend.transcript)
    result = await w.bob.slash(w.support, "ticket panel")
    assert answers(w, since) == ["thinking", "result"]
    assert told(result).content == FAILED
    [record] = [r for r in caplog.records if r.getMessage().startswith(
        "discord.interaction_failed")]
    assert record.exc_info is not None
    assert str(result._interaction.id) in record.getMessage()
    [seen] = w.expect_errors()  # it also reached the command tree, where SimCord saw it
    assert "Internal Server Error" in str(seen)


async def test_a_card_control_failing_after_its_deferral_is_answered_once(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "helpthread.discord")
    w = world
    await w.bob.slash(w.support, "ticket panel")
    # the result of the panel button cannot be sent the first time
    w.env.inject_error("POST", "/webhooks/*")
    since = len(w.env.backend.transcript)
    result = await w.alice.click(w.support.history()[-1], label="Open a ticket")
    assert answers(w, since) == ["thinking", "result", "result"]  # failed, then FAILED
    assert told(result).content == FAILED
    assert any(r.getMessage().startswith("discord.interaction_failed") for r in caplog.records)


async def test_a_redelivered_control_is_answered_once_and_changes_nothing_twice(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.bob.select(w.team_card(n), ["urgent"])
    await w.bob.select(w.team_card(n), ["low"])
    payload = next(p for kind, name, p in reversed(w.env.backend.transcript)
                   if name == "INTERACTION_CREATE")
    since = len(w.env.backend.transcript)
    w.env.backend.emit("INTERACTION_CREATE", payload)  # the gateway replays "low"
    await w.env.settle()
    assert "result" not in answers(w, since)
    priorities = [e for e in await w.history(n) if e.kind == "priority_changed"]
    assert len(priorities) == 2
