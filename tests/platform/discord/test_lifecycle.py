"""Card controls: claim, resolve, reopen, priority, escalate — cards updated in place."""

from __future__ import annotations

from tests.platform.discord.conftest import World, fill, open_ticket, told


def card_fields(message) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.name: f.value for f in message.embeds[0].fields}


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [getattr(c, "label", None) or "select" for row in message.components
            for c in row.children]


async def test_claim_adds_the_agent_to_the_ticket_thread_and_updates_both_cards(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    thread = w.ticket_thread(n)
    with_name = thread.name
    done = await w.bob.click(w.team_card(n), label="Claim")
    assert told(done).ephemeral and told(done).content == f"You have #{n}; it is in progress."
    await w.deliver()
    assert thread.history(viewer=w.bob)  # bob was added to the private thread
    assert card_fields(w.team_card(n))["Assignee"] == "Bob"
    assert card_fields(w.ticket_card(n))["Status"] == "In progress"
    assert "Claim" not in labels(w.team_card(n))
    assert thread.name == with_name  # status lives on the card, never in the thread name
    said = [m.embeds[0].description for m in thread.history() if m.embeds]
    assert f"Bob claimed #{n}; it is now in progress." in said


async def test_claim_by_a_member_without_the_agent_role_is_refused(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    # someone without the agent role can read the team channel (a misconfiguration):
    # the controls still refuse them
    olga = w.guild.add_member(w.env.create_user("olga"), roles=[w.onlookers])
    refused = await olga.click(w.team_card(n), label="Claim")
    assert told(refused).ephemeral
    assert told(refused).content == "Refused: only agents can claim tickets"
    for label in ("Resolve", "Reply"):
        attempt = await olga.click(w.team_card(n), label=label)
        assert attempt.modal is None and told(attempt).ephemeral
        assert told(attempt).content.startswith("Refused: only agents can")
    await w.deliver()
    assert card_fields(w.team_card(n))["Assignee"] == "nobody yet"
    assert [e.kind.value for e in await w.history(n)] == ["opened"]


async def test_resolve_needs_a_real_note_then_the_requester_reopens(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    shown = await w.bob.click(w.team_card(n), label="Resolve")
    short = await w.bob.submit_modal(shown, fill(shown, resolution="ok"))
    assert short.ephemeral
    assert short.response.content == "Refused: a resolution note needs at least 6 characters"
    await w.deliver()
    assert card_fields(w.team_card(n))["Status"] == "Open"

    shown = await w.bob.click(w.team_card(n), label="Resolve")
    done = await w.bob.submit_modal(shown, fill(shown, resolution="Password reset sent"))
    assert told(done).content == f"Done: #{n} is resolved."
    await w.deliver()
    card = w.ticket_card(n)
    assert card_fields(card)["Status"] == "Resolved"
    assert card_fields(card)["Resolution"] == "Password reset sent"
    assert labels(card) == ["Close", "Reopen"]  # what core allows the requester now
    assert labels(w.team_card(n)) == ["Reply", "Close", "Reopen"]
    said = w.ticket_thread(n).history()[-1].embeds[0].description
    assert said == f"Bob resolved #{n}:\nPassword reset sent"  # the requester is told

    again = await w.alice.click(card, label="Reopen")
    assert told(again).content == f"Done: #{n} is in progress."
    await w.deliver()
    assert card_fields(w.ticket_card(n))["Status"] == "In progress"
    assert labels(w.ticket_card(n)) == ["Close"]


async def test_requester_closes_from_the_ticket_card(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    done = await w.alice.click(w.ticket_card(n), label="Close")
    assert told(done).content == f"Done: #{n} is closed."
    await w.deliver()
    assert card_fields(w.team_card(n))["Status"] == "Closed"


async def test_priority_select_and_escalation(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    changed = await w.bob.select(w.team_card(n), ["urgent"])
    assert told(changed).content == f"Done: #{n} is now urgent priority."
    shown = await w.bob.click(w.team_card(n), label="Escalate")
    done = await w.bob.submit_modal(shown, fill(shown, text="VIP customer @everyone"))
    assert told(done).content == f"Done: #{n} is escalated (level 1)."
    await w.deliver()
    assert card_fields(w.team_card(n))["Priority"] == "urgent"
    notice = w.escalation.history()[-1]
    assert notice.content.startswith(f"<@&{w.managers.id}> Bob escalated #{n} (level 1)")
    assert [r.id for r in notice.role_mentions] == [w.managers.id]
    assert not notice.mention_everyone


async def test_requester_cannot_use_agent_commands(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    for command, options in (("ticket claim", {}), ("ticket resolve", {"note": "done now"}),
                             ("ticket note", {"text": "psst"}), ("ticket queue", {})):
        result = await w.alice.slash(w.ticket_thread(n), command, **options)
        assert result.ephemeral and result.response.content.startswith("Refused: only agents")
    assert [e.kind.value for e in await w.history(n)] == ["opened"]
    panel = await w.alice.slash(w.support, "ticket panel")
    assert panel.response.content == "Refused: only agents can post a ticket panel"
