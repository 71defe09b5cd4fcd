"""Issue 11 on Discord, through real discord.py in SimCord: SLA notices in the team
channel pinging exactly who must act, the SLA clocks on the cards, close requests
(the team card's "Ask to close", the requester's Yes / No) and the one-click rating
with its comment form; the new ``/ticket`` commands."""

from __future__ import annotations

from typing import Any

import discord

from core.capabilities import reader_roles
from core.commands import SlaAlert
from core.events import Audience, EventKind
from core.identity import SYSTEM
from core.outbound import DeliveryJob
from core.routing import Delivery, Purpose, Target
from core.tickets import Rating
from core.views import ticket_view
from tests.platform.discord.conftest import World, fill, open_ticket, told
from tests.platform.discord.test_cards import last_interaction, redeliver
from tests.platform.discord.test_lifecycle import card_fields, labels


def posted_with(w: World, path_end: str) -> list[dict[str, Any]]:
    """The JSON bodies of the bot's message POSTs to ``…/<path_end>``."""
    return [r.json for r in w.env.http_requests
            if r.method == "POST" and r.path.endswith(path_end) and isinstance(r.json, dict)]


def team_notices(w: World, number: int) -> list[discord.Message]:
    """The team channel's messages about ``number`` that are not its card (notices)."""
    return [m for m in w.team.history()
            if m.type is discord.MessageType.default and f"#{number}" in m.content]


async def breach(w: World, number: int, target: str = "first_response") -> None:
    await w.runtime.desk.run(SYSTEM, SlaAlert(number, target, True))
    await w.deliver()


async def kinds(w: World, number: int) -> list[str]:
    return [e.kind.value for e in await w.history(number)]


# ---- SLA notices -------------------------------------------------------------------------


async def test_an_unassigned_breach_pings_the_agent_role_and_nobody_else(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice, subject="@everyone <@&1> help", description="@here")
    await w.deliver()
    await breach(w, n)
    [notice] = team_notices(w, n)
    assert notice.content.startswith(f"<@&{w.agents.id}> \U0001f534 SLA breached: #{n} "
                                     "missed its first response target (due <t:")
    link = f"https://discord.com/channels/{w.guild.id}/{w.team_thread(n).id}"
    assert notice.content.endswith(f"Team thread: {link}")
    assert [r.id for r in notice.role_mentions] == [w.agents.id]
    assert notice.mentions == [] and not notice.mention_everyone
    [sent] = [body for body in posted_with(w, f"/channels/{w.team.id}/messages")
              if body.get("content")]
    assert sent["allowed_mentions"] == {"parse": [], "roles": [w.agents.id]}
    assert notice.embeds[0].url == link  # the team card under it, linked to the thread
    # the team thread says it too; the requester's thread never hears of it
    said = [m.embeds[0].description for m in w.team_thread(n).history() if m.embeds]
    assert any(s.startswith(f"\U0001f534 SLA breached: #{n}") for s in said)
    assert not any("SLA" in (m.embeds[0].description or "")
                   for m in w.ticket_thread(n).history() if m.embeds)
    # the breach is marked on the team card only
    await w.deliver()
    assert card_fields(w.team_card(n))["First response SLA"].startswith(
        "\U0001f534 breached, was due <t:")
    assert card_fields(w.ticket_card(n))["First response SLA"].startswith("due <t:")


async def test_an_assigned_warning_pings_the_assignee_only(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.bob.click(w.team_card(n), label="Claim")
    await w.deliver()
    await w.runtime.desk.run(SYSTEM, SlaAlert(n, "resolution", False))
    await w.deliver()
    [notice] = team_notices(w, n)
    assert notice.content.startswith(f"<@{w.bob.id}> \u23f3 SLA warning: #{n}'s resolution "
                                     "is due <t:")
    assert [m.id for m in notice.mentions] == [w.bob.id]
    assert notice.role_mentions == [] and not notice.mention_everyone
    [sent] = [body for body in posted_with(w, f"/channels/{w.team.id}/messages")
              if body.get("content")]
    assert sent["allowed_mentions"] == {"parse": [], "users": [w.bob.id]}


async def test_an_escalation_pings_the_escalation_role_with_a_link(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.runtime.desk.escalate(w.as_core_actor(w.bob, w.agents), n, "VIP <@&1> @here")
    await w.deliver()
    notice = w.escalation.history()[-1]
    assert notice.content.startswith(f"<@&{w.managers.id}> bob escalated #{n} (level 1)")
    assert notice.content.endswith(
        f"https://discord.com/channels/{w.guild.id}/{w.team_thread(n).id}")
    assert [r.id for r in notice.role_mentions] == [w.managers.id]
    assert notice.mentions == [] and not notice.mention_everyone
    [sent] = posted_with(w, f"/channels/{w.escalation.id}/messages")
    assert sent["allowed_mentions"] == {"parse": [], "roles": [w.managers.id]}


# ---- clocks on the cards ---------------------------------------------------------------


async def test_cards_and_show_tell_the_clocks_paused_and_when_it_closes(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    team = card_fields(w.team_card(n))
    assert team["First response SLA"].startswith("due <t:")
    assert team["Resolution SLA"].startswith("due <t:")
    agent = w.as_core_actor(w.bob, w.agents)
    await w.runtime.desk.hold(agent, n, "Waiting for the identity provider")
    await w.deliver()
    held = card_fields(w.team_card(n))
    assert held["First response SLA"].startswith("paused, ")
    assert held["Resolution SLA"].startswith("paused, ") and held["Resolution SLA"].endswith(
        " left")
    shown = await w.bob.slash(w.team_thread(n), "ticket show")
    fields = {f.name: f.value for f in told(shown).embeds[0].fields}
    assert fields["Resolution SLA"] == held["Resolution SLA"]
    listed = await w.bob.slash(w.team, "ticket list", scope="open")
    assert f"**#{n}**" in told(listed).content and "SLA paused" in told(listed).content

    await w.runtime.desk.resume(agent, n)
    await w.runtime.desk.resolve(agent, n, "Password reset link sent")
    await w.deliver()
    closes = card_fields(w.ticket_card(n))["Closes by itself"]
    assert closes.startswith("<t:") and closes.endswith(":R>)")  # "in 3 days", read locally
    assert "First response SLA" not in card_fields(w.ticket_card(n))  # done: no clocks


async def test_the_receipt_says_when_the_team_is_back(world: World) -> None:
    from dataclasses import replace

    from adapters.discord import render

    w = world
    n = await open_ticket(w, w.alice)
    view = (await w.runtime.desk.show(w.as_core_actor(w.alice), n)).ticket
    assert view.back_text == ""  # around the clock: nothing to say
    assert "back" not in (render.receipt_embed(view, None).description or "")
    closed = replace(view, back_text="We're back Monday at 09:00 (Europe/Berlin)")
    assert "\nWe're back Monday at 09:00 (Europe/Berlin)\n" in (
        render.receipt_embed(closed, None).description or "")


# ---- close requests ------------------------------------------------------------------------


async def test_ask_to_close_from_the_card_then_the_requester_says_no(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.bob.click(w.team_card(n), label="Claim")  # bob joins her thread
    await w.deliver()
    assert "Ask to close" in labels(w.team_card(n))
    shown = await w.bob.click(w.team_card(n), label="Ask to close")
    done = await w.bob.submit_modal(shown, fill(shown, text="Looks fixed on our side"))
    assert told(done).content == f"Done: the requester of #{n} is asked to confirm closing it."
    await w.deliver()
    asked = w.ticket_thread(n).history()[-1]
    assert asked.embeds[0].description.startswith(
        f"Bob asks whether #{n} can be closed: Looks fixed on our side\n"
        "Without an answer it closes <t:")
    assert labels(asked) == ["Yes, close it", "No, I still need help"]
    assert card_fields(w.team_card(n))["Close request"] == "waiting for the requester's answer"
    assert "Ask to close" not in labels(w.team_card(n))  # asked once

    # "No" is the requester's answer only ("Yes" is Close: agents may close anyway)
    agent = await w.bob.click(asked, label="No, I still need help")
    assert told(agent).ephemeral
    assert told(agent).content == f"Refused: only the requester of #{n} can keep it open"
    no = await w.alice.click(asked, label="No, I still need help")
    assert told(no).ephemeral
    assert told(no).content == f"Understood: #{n} stays open; the team will get back to you."
    again = last_interaction(w)
    await redeliver(w, again)
    await w.deliver()
    assert await kinds(w, n) == ["opened", "claimed", "close_requested", "close_declined"]
    assert "Close request" not in card_fields(w.team_card(n))


async def test_ask_to_close_without_a_message_then_the_requester_says_yes(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    shown = await w.bob.click(w.team_card(n), label="Ask to close")
    done = await w.bob.submit_modal(shown, fill(shown, text=""))
    assert told(done).content.startswith("Done: ")
    await w.deliver()
    asked = w.ticket_thread(n).history()[-1]
    assert asked.embeds[0].description.startswith(f"Bob asks whether #{n} can be closed.\n")
    assert card_fields(w.ticket_card(n))["Close request"].startswith("Can we close it?")
    yes = await w.alice.click(asked, label="Yes, close it")
    assert told(yes).content == f"Done: #{n} is closed. Thank you!"
    await w.deliver()
    assert card_fields(w.team_card(n))["Status"] == "Closed"
    assert await kinds(w, n) == ["opened", "close_requested", "closed"]


# ---- satisfaction --------------------------------------------------------------------------


async def resolved(w: World) -> tuple[int, discord.Message]:
    """A ticket of alice's, claimed (bob joins her thread) and resolved by bob; the
    resolution as alice's thread shows it."""
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.bob.click(w.team_card(n), label="Claim")
    await w.deliver()
    await w.runtime.desk.resolve(w.as_core_actor(w.bob, w.agents), n, "Password reset sent")
    await w.deliver()
    message = w.ticket_thread(n).history()[-1]
    assert message.embeds[0].description == f"bob resolved #{n}:\nPassword reset sent"
    return n, message


async def test_a_click_rates_then_the_form_adds_a_comment_and_a_second_click_changes_it(
        world: World) -> None:
    w = world
    n, message = await resolved(w)
    assert labels(message) == ["Good", "Bad"]
    assert card_fields(message)["How did we do?"].startswith("One click to rate")
    agent = w.as_core_actor(w.bob, w.agents)

    shown = await w.alice.click(message, label="Good")
    assert shown.modal is not None and shown.modal["title"] == f"Thanks! #{n} is rated good"
    ticket = (await w.runtime.desk.show(agent, n)).ticket
    assert ticket.rating is Rating.GOOD and ticket.rating_comment is None  # on the click
    done = await w.alice.submit_modal(shown, fill(shown, comment="Quick and kind"))
    assert told(done).ephemeral
    assert told(done).content == f"Thanks: your rating of #{n} and your comment are recorded."
    ticket = (await w.runtime.desk.show(agent, n)).ticket
    assert (ticket.rating, ticket.rating_comment) == (Rating.GOOD, "Quick and kind")
    await w.deliver()
    assert card_fields(w.team_card(n))["Rating"] == "\U0001f44d good: Quick and kind"
    assert "Rating" not in card_fields(w.ticket_card(n))  # agents only

    changed = await w.alice.click(message, label="Bad")
    assert changed.modal is not None
    left_empty = await w.alice.submit_modal(changed, fill(changed, comment=""))
    assert told(left_empty).content == f"Thanks: your rating of #{n} (bad) is kept."
    ticket = (await w.runtime.desk.show(agent, n)).ticket
    assert (ticket.rating, ticket.rating_comment) == (Rating.BAD, None)  # was for "good"
    # the same rating clicked again still offers the comment form, changing nothing
    same = await w.alice.click(message, label="Bad")
    assert same.modal is not None
    assert await kinds(w, n) == ["opened", "claimed", "resolved", "rated", "rated", "rated"]


async def test_only_the_requester_rates_and_a_redelivered_click_rates_once(
        world: World) -> None:
    w = world
    n, message = await resolved(w)
    refused = await w.bob.click(message, label="Good")  # in her thread, not her ticket
    assert refused.modal is None
    assert told(refused).ephemeral and told(refused).content.startswith("Refused: ")
    await w.alice.click(message, label="Good")
    await redeliver(w, last_interaction(w))
    await w.alice.click(message, label="Bad")
    assert await kinds(w, n) == ["opened", "claimed", "resolved", "rated", "rated"]
    ticket = (await w.runtime.desk.show(w.as_core_actor(w.bob, w.agents), n)).ticket
    assert ticket.rating is Rating.BAD


async def test_a_reopened_ticket_cannot_be_rated_from_the_old_message(world: World) -> None:
    w = world
    n, message = await resolved(w)
    await w.runtime.desk.reopen(w.as_core_actor(w.bob, w.agents), n)
    await w.deliver()
    late = await w.alice.click(message, label="Good")
    assert late.modal is None and told(late).content.startswith("Refused: ")
    assert "rated" not in await kinds(w, n)


# ---- the new /ticket commands ----------------------------------------------------------------


async def test_ask_close_keep_open_and_rate_commands(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    refused = await w.alice.slash(w.ticket_thread(n), "ticket ask-close")
    assert told(refused).content.startswith("Refused: only agents")
    asked = await w.bob.slash(w.team, "ticket ask-close", number=n, message="All good now?")
    assert told(asked).content == f"Done: the requester of #{n} is asked to confirm closing it."
    kept = await w.alice.slash(w.ticket_thread(n), "ticket keep-open")  # the thread's ticket
    assert told(kept).content == f"Understood: #{n} stays open; the team will get back to you."
    again = await w.alice.slash(w.ticket_thread(n), "ticket keep-open", number=n)
    assert told(again).content.startswith("Refused: nobody asked to close")

    early = await w.alice.slash(w.support, "ticket rate", rating="good", number=n)
    assert told(early).content.startswith("Refused: ")
    await w.runtime.desk.resolve(w.as_core_actor(w.bob, w.agents), n, "Password reset sent")
    rated = await w.alice.slash(w.support, "ticket rate", rating="bad", number=n,
                                comment="Took a week")
    assert told(rated).content == f"Thanks: your rating of #{n} (bad) is recorded."
    ticket = (await w.runtime.desk.show(w.as_core_actor(w.bob, w.agents), n)).ticket
    assert (ticket.rating, ticket.rating_comment) == (Rating.BAD, "Took a week")
    assert await kinds(w, n) == ["opened", "close_requested", "close_declined", "resolved",
                                 "rated"]


async def test_a_close_request_by_dm_is_answered_there_by_the_requester_only(
        world: World) -> None:
    """Where no thread reaches a requester, core sends them the request by DM
    (``Purpose.NOTIFY``); that delivery, driven through the outbound port, carries the
    buttons for the requester only (core offers them to her alone), and a press in the
    DM acts as them."""
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.runtime.desk.ask_close(w.as_core_actor(w.bob, w.agents), n, "Fixed?")
    await w.deliver()
    async with w.runtime.desk.stores.transaction() as store:
        ticket = await store.get_ticket(n)
    assert ticket is not None
    now = w.runtime.desk.clock.now()
    event = (await w.history(n))[-1].visible_to(Audience.PUBLIC)
    assert event.kind is EventKind.CLOSE_REQUESTED and event.id is not None
    for member in (w.alice, w.dave):  # the requester; a watcher, say
        reader = w.as_core_actor(member).ref
        view = ticket_view(ticket, w.config, internal=False, now=now,  # as the worker does
                           viewer=reader_roles(ticket, w.config, internal=False, reader=reader))
        delivery = Delivery(ticket_number=n, event_id=event.id, platform="discord",
                            target=Target.DM, audience=Audience.PUBLIC, created_at=now,
                            address=w.as_core_actor(member).ref.key, purpose=Purpose.NOTIFY)
        with w.env.time_context():
            await w.platform.outbound.deliver(DeliveryJob(delivery, event, view, None))
        await w.env.settle()
    assert labels(w.dave.user.dm_channel.history()[-1]) == []
    notice = w.alice.user.dm_channel.history()[-1]
    assert labels(notice) == ["Yes, close it", "No, I still need help"]
    no = await w.alice.user.click(notice, label="No, I still need help")
    assert told(no).content == f"Understood: #{n} stays open; the team will get back to you."
    assert await kinds(w, n) == ["opened", "close_requested", "close_declined"]
