"""Issue 11 on Slack, through real Bolt and the fake Web API: SLA notices in the team
channel (fired by the scheduler on a frozen clock, then delivered by the worker), the
clocks on cards and in ``/ticket show``, close requests (the team card's "Ask to close",
the requester's "Yes, close it" / "No, I still need help") and the one-click rating with
its comment form. Buttons are pressed and forms submitted from what the app posted."""

from __future__ import annotations

import dataclasses
from typing import Any

from adapters.slack import views
from core.commands import SlaAlert
from core.identity import SYSTEM, Actor, UserRef
from core.tickets import Rating, Status
from tests.platform.slack.harness import (
    AGENT,
    ALICE,
    BILLING,
    BOB,
    ESCALATION,
    SUPPORT,
    TEAM_CHANNEL,
    Harness,
)
from tests.support.fake_slack import TEAM
from tests.support.slack_requests import button_press

AGENT_ACTOR = Actor(UserRef("slack", TEAM, AGENT), "Ada Agent")
ALICE_ACTOR = Actor(UserRef("slack", TEAM, ALICE), "Alice")
HOURS = 3600


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text")) + str(message.get("blocks"))


def notices(h: Harness, channel: str) -> list[str]:
    """The SLA notices posted in ``channel`` itself (not in a thread)."""
    return [text_of(m) for m in h.cards(channel) if "SLA" in str(m.get("text"))]


def with_buttons(messages: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    return [m for m in messages if f"'text': '{label}'" in str(m.get("blocks"))]


async def shown(h: Harness, actor: Actor = AGENT_ACTOR) -> Any:
    return (await h.runtime.desk.show(actor, 1)).ticket


# ---- SLA notices -----------------------------------------------------------------


async def test_a_breach_found_by_the_scheduler_calls_the_agent_groups_in_the_team_channel(
        h: Harness) -> None:
    await h.open_ticket(ALICE)  # normal priority: first response within 8 hours
    [team_card] = h.cards(TEAM_CHANNEL)
    h.clock.advance(8 * HOURS + 60)  # the warning's and the breach's times both passed
    assert await h.runtime.scheduler.run_once() >= 1
    await h.settle()

    [notice] = notices(h, TEAM_CHANNEL)
    assert "SLA breached" in notice and "#1" in notice and "first response" in notice
    assert "<!date^" in notice, "when it was due, in each reader's own time zone"
    assert "<!subteam^S0AGENTS>" in notice, "unassigned: the agents' group is called"
    assert "S0MANAGERS" not in notice, "an SLA notice is not an escalation"
    assert f"https://test.slack.com/archives/{TEAM_CHANNEL}/p{team_card['ts'].replace('.', '')}" \
        in notice, "it links to the team thread"
    assert not any("SLA warning" in n for n in notices(h, TEAM_CHANNEL)), \
        "after downtime the warning is skipped for the breach: no flood"
    assert any("SLA breached" in p["text"] for p in h.thread(team_card)), "the thread too"
    for elsewhere in (h.fake.posts(SUPPORT), h.dms(ALICE), h.fake.posts(ESCALATION)):
        assert not any("SLA breached" in text_of(m) for m in elsewhere), \
            "never to the requester"
    assert ":red_circle:" in str(h.current(team_card)["blocks"]) and \
        "breached" in str(h.current(team_card)["blocks"]), "the team card marks the breach"


async def test_a_warning_calls_the_assignee_and_a_category_goes_to_its_own_channel(
        h: Harness) -> None:
    await h.open_ticket(ALICE, category="refund", **{"Receipt number": "R-7"})
    [team_card] = h.cards(BILLING)
    await h.press(AGENT, team_card, "Claim")
    h.clock.advance(7 * HOURS)  # 80% of 8 hours has passed, not 100%
    await h.runtime.scheduler.run_once()
    await h.settle()

    [notice] = notices(h, BILLING)
    assert "SLA warning" in notice and "first response" in notice and "<!date^" in notice
    assert f"<@{AGENT}>" in notice, "the assignee is called by name"
    assert "subteam" not in notice, "not the whole group when someone has it"
    assert notices(h, TEAM_CHANNEL) == [], "the refund category's team channel only"


async def test_a_notice_run_as_the_system_command_keeps_user_text_harmless(h: Harness) -> None:
    await h.open_ticket(ALICE, subject="<!channel> everything is down")
    await h.runtime.desk.run(SYSTEM, SlaAlert(1, "resolution", True))
    await h.settle()
    [notice] = notices(h, TEAM_CHANNEL)
    assert "resolution" in notice and "<!subteam^S0AGENTS>" in notice
    assert "<!channel>" not in notice and "&lt;!channel&gt;" in notice


# ---- clocks on cards and in /ticket show ---------------------------------------------


async def test_cards_and_show_tell_the_clocks_a_pause_and_when_it_closes(h: Harness) -> None:
    await h.open_ticket(ALICE)
    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    assert "First response: due <!date^" in str(team_card["blocks"])
    assert "Resolution: due <!date^" in str(ticket_card["blocks"])

    await h.command(AGENT, "hold 1 Waiting for the identity provider")
    team = str(h.current(team_card)["blocks"])
    assert "First response: paused (8 hours left)" in team
    assert "paused" in str(h.current(ticket_card)["blocks"]), "the requester's card too"
    await h.command(AGENT, "show 1")
    assert "SLA · :double_vertical_bar: First response: paused" in h.told()[-1]

    await h.command(AGENT, "resume 1")
    await h.command(AGENT, "resolve 1 Reset the password for you.")
    closing = str(h.current(team_card)["blocks"])
    assert "Closes in 3 days (<!date^" in closing, "resolved tickets close by themselves"
    await h.command(ALICE, "show 1")
    assert "Closes in 3 days" in h.told()[-1]


# ---- close requests -----------------------------------------------------------------


async def test_ask_to_close_from_the_card_then_the_requester_says_no_then_yes(
        h: Harness) -> None:
    await h.open_ticket(ALICE)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.press(AGENT, team_card, "Claim")
    await h.press(AGENT, h.current(team_card), "Ask to close")
    status, body = await h.submit(AGENT, {"A word to the requester": "Works again for you?"})
    assert status == 200 and body == {}
    assert (await shown(h)).close_requested
    assert "Waiting for the requester to confirm closing" in \
        str(h.current(team_card)["blocks"])
    assert "Ask to close" not in str(h.current(team_card)["blocks"]), "asked already"

    [asked] = with_buttons(h.dms(ALICE), "Yes, close it")  # a shared ticket: a DM notice
    assert "Works again for you?" in text_of(asked)
    assert "No, I still need help" in str(asked["blocks"])

    await h.press(BOB, asked, "Yes, close it")  # not the requester
    assert ":no_entry:" in h.told()[-1]
    assert (await shown(h)).status is Status.IN_PROGRESS

    await h.press(ALICE, asked, "No, I still need help")
    assert "stays open" in h.told()[-1]
    ticket = await shown(h)
    assert ticket.status is Status.IN_PROGRESS and not ticket.close_requested
    assert any("still needs help" in p["text"] for p in h.thread(team_card))

    await h.command(AGENT, "ask-close 1 Shall we close it now?")
    assert "asked to confirm closing" in h.told()[-1]
    [_, again] = with_buttons(h.dms(ALICE), "Yes, close it")
    press = button_press(again, ALICE, "Yes, close it", h.fake.response_url(), again["channel"])
    for _ in range(2):  # Slack resends the same payload (same trigger_id): one close
        await h.slack.interact(press)
        await h.settle()
    assert (await shown(h)).status is Status.CLOSED
    history = [e.kind.value for e in (await h.runtime.desk.show(AGENT_ACTOR, 1)).events]
    assert history.count("closed") == 1
    assert sum("is closed" in t for t in h.told()) == 1, "told once, not per redelivery"


async def test_a_private_tickets_close_request_has_its_buttons_in_the_dm_thread(
        h: Harness) -> None:
    await h.open_ticket(ALICE, shared=False)
    [dm_card] = h.cards("D0ALICE")
    await h.command(AGENT, "ask-close 1")
    [asked] = with_buttons(h.thread(dm_card), "No, I still need help")
    await h.press(ALICE, asked, "Yes, close it")
    assert (await shown(h)).status is Status.CLOSED


async def test_keep_open_typed_as_a_command(h: Harness) -> None:
    await h.open_ticket(ALICE)
    await h.command(AGENT, "ask-close 1")
    await h.command(ALICE, "keep-open 1")
    assert "stays open" in h.told()[-1]
    assert not (await shown(h)).close_requested
    await h.command(ALICE, "help")
    assert "/ticket ask-close 42" in h.told()[-1] and "/ticket rate 42" in h.told()[-1]


# ---- rating --------------------------------------------------------------------------


async def test_rating_buttons_a_click_records_it_the_form_adds_a_comment(h: Harness) -> None:
    await h.open_ticket(ALICE)
    [team_card] = h.cards(TEAM_CHANNEL)
    assert with_buttons(h.dms(ALICE), "Good") == [], "no rating before a resolution"
    await h.command(AGENT, "resolve 1 Reset the password for you.")
    [resolved] = with_buttons(h.dms(ALICE), "Good")
    assert "Reset the password" in text_of(resolved) and "'text': 'Bad'" in str(resolved)
    assert not with_buttons(h.fake.posts(SUPPORT), "Good"), "not in the channel thread"

    opened_before = len(h.fake.views())
    await h.press(ALICE, resolved, "Good")
    assert (await shown(h)).rating is Rating.GOOD, "one click records it"
    assert len(h.fake.views()) == opened_before + 1, "and opens the comment form"
    status, body = await h.submit(ALICE, {"Anything to add?": "Quick & <b>kind</b>"})
    assert status == 200 and body == {}
    ticket = await shown(h)
    assert ticket.rating is Rating.GOOD and ticket.rating_comment == "Quick & <b>kind</b>"
    team = str(h.current(team_card)["blocks"])
    assert "Rated *good* by the requester" in team and "Quick &amp; &lt;b&gt;kind" in team
    await h.command(AGENT, "show 1")
    assert "Rated *good*" in h.told()[-1]
    await h.command(ALICE, "show 1")
    assert "Rated" not in h.told()[-1], "the rating is the team's to see"

    await h.press(ALICE, resolved, "Bad")  # a second click changes it
    ticket = await shown(h)
    assert ticket.rating is Rating.BAD and ticket.rating_comment is None  # was for "good"
    history = [e for e in (await h.runtime.desk.show(AGENT_ACTOR, 1)).events
               if e.kind.value == "rated"]
    assert [e.payload.rating for e in history] == [Rating.GOOD, Rating.GOOD, Rating.BAD]


async def test_someone_elses_rating_click_is_refused_and_a_redelivery_counts_once(
        h: Harness) -> None:
    await h.open_ticket(ALICE)
    await h.command(AGENT, "resolve 1 Reset the password for you.")
    [resolved] = with_buttons(h.dms(ALICE), "Good")
    opened_before = len(h.fake.views())
    await h.press(BOB, resolved, "Bad")
    assert ":no_entry:" in h.told()[-1]
    await h.press(AGENT, resolved, "Bad")
    assert ":no_entry:" in h.told()[-1], "not even an agent rates for the requester"
    assert (await shown(h)).rating is None
    assert len(h.fake.views()) == opened_before, "no form for a refused click"

    press = button_press(resolved, ALICE, "Good", h.fake.response_url(), resolved["channel"])
    for _ in range(2):
        await h.slack.interact(press)
        await h.settle()
    rated = [e for e in (await h.runtime.desk.show(AGENT_ACTOR, 1)).events
             if e.kind.value == "rated"]
    assert len(rated) == 1
    assert len(h.fake.views()) == opened_before + 1, "one form for one click"

    told_before = len(h.told())
    await h.press(ALICE, resolved, "Good")  # the same rating again: the form opens anyway
    assert len(h.fake.views()) == opened_before + 2
    assert h.told()[told_before:] == [], "nothing to refuse: the rating stands"


async def test_a_private_ticket_is_rated_from_its_dm_thread_and_by_command(
        h: Harness) -> None:
    await h.open_ticket(ALICE, shared=False)
    [dm_card] = h.cards("D0ALICE")
    await h.command(AGENT, "resolve 1 Reset the password for you.")
    [resolved] = with_buttons(h.thread(dm_card), "Good")
    await h.press(ALICE, resolved, "Bad")
    assert (await shown(h)).rating is Rating.BAD
    await h.command(ALICE, "rate 1 good Sorted after all")
    assert "you rated #1 good" in h.told()[-1]
    ticket = await shown(h)
    assert ticket.rating is Rating.GOOD and ticket.rating_comment == "Sorted after all"


async def test_the_receipt_says_when_the_team_is_back(h: Harness) -> None:
    """Core fills ``back_text`` outside business hours ([business_hours]); the receipt
    and the private ticket's DM card carry it (rendered from the ticket as opened)."""
    await h.open_ticket(ALICE)
    [receipt] = h.dms(ALICE)
    assert "back" not in text_of(receipt), "around the clock: nothing to add"
    view = dataclasses.replace(await shown(h, ALICE_ACTOR),
                               back_text="We're back Monday at 09:00 (Europe/Berlin)")
    _, blocks = views.receipt(view, None)
    assert "We're back Monday at 09:00 (Europe/Berlin)" in str(blocks)
    _, card = views.card(view, team=False, receipt=True)
    assert "We're back Monday" in str(card)
