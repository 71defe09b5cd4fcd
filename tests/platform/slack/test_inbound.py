"""Issue 10, points 1–3 and 8 on Slack: a thread message, a form, a press and a command
are stored before Slack is answered; a message is stored once whatever envelope it
comes in, caught up after downtime, stored while
Slack's API refuses connections (names filled in later); agents are agents only in
their own workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.identity import Actor, UserRef
from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.platform.slack.harness import AGENT, ALICE, BOB, SUPPORT, TEAM_CHANNEL, Harness
from tests.support.fake_slack import TEAM
from tests.support.slack_requests import (
    button_press,
    by_label,
    command_body,
    event_body,
    view_submission,
)


def _agent() -> Actor:
    return Actor(UserRef("slack", TEAM, AGENT), "Ada Agent")


async def _opened(h: Harness, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    await h.open_ticket(**kwargs)
    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    return ticket_card, team_card


async def _comments(h: Harness, number: int = 1) -> list[tuple[str, str]]:
    events = (await h.runtime.desk.show(_agent(), number)).events
    return [(e.actor.name if e.actor else "", e.text or "") for e in events
            if e.kind.value in ("commented", "noted")]


async def test_the_same_message_under_two_envelopes_is_one_comment(h: Harness):
    ticket_card, team_card = await _opened(h)
    message = h.fake.write(ALICE, SUPPORT, ticket_card["ts"], "charged twice")
    for envelope in ("Ev0FIRST", "Ev0SECOND"):  # a new event_id, the same channel and ts
        status, _ = await h.slack.event(event_body(message, envelope))
        assert status == 200
    await h.settle()
    assert await _comments(h) == [("Alice", "charged twice")]
    assert [m["text"] for m in h.thread(team_card)] == ["charged twice"]


async def test_a_message_is_stored_before_slack_is_answered(h: Harness):
    """When Bolt's 200 arrives, the comment is in the database: nothing is left to a
    task that a crash would lose."""
    ticket_card, _ = await _opened(h)
    message = h.fake.write(ALICE, SUPPORT, ticket_card["ts"], "stored first")
    status, _ = await h.slack.event(event_body(message))
    assert status == 200
    assert await _comments(h) == [("Alice", "stored first")], "stored, before any settle"


async def test_messages_written_while_down_are_caught_up_in_order_once(h: Harness):
    ticket_card, team_card = await _opened(h)
    first = h.fake.write(ALICE, SUPPORT, ticket_card["ts"], "before the crash")
    await h.slack.event(event_body(first))
    # Written while no process ran: Slack's events for these never reached us.
    for i in range(5):
        h.fake.write(ALICE, SUPPORT, ticket_card["ts"], f"while down {i}")
    h.fake.write(AGENT, TEAM_CHANNEL, team_card["ts"], "note while down")
    await h.platform.start()
    assert await h.platform.caught_up() == 6
    await h.settle()
    assert await _comments(h) == [("Alice", "before the crash")] + [
        ("Alice", f"while down {i}") for i in range(5)] + [("Ada Agent", "note while down")]
    mirrored = [m["text"] for m in h.thread(team_card)]
    assert mirrored == ["before the crash"] + [f"while down {i}" for i in range(5)], \
        "comments mirrored once, in order; the note stays where it was written"
    await h.platform.start()  # a second start reads the same threads: nothing is added
    assert await h.platform.caught_up() == 0
    assert len(await _comments(h)) == 7


async def test_a_private_tickets_dm_thread_is_caught_up(h: Harness):
    await h.open_ticket(shared=False)
    [receipt] = [m for m in h.dms(ALICE) if not m.get("thread_ts")]
    h.fake.write(ALICE, receipt["channel"], receipt["ts"], "in my DM while down")
    await h.platform.start()
    assert await h.platform.caught_up() == 1
    assert await _comments(h) == [("Alice", "in my DM while down")]


async def test_a_watchers_own_dm_thread_is_caught_up(h: Harness):
    await h.open_ticket(shared=False)
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    [bob_card] = [m for m in h.dms(BOB) if not m.get("thread_ts")]
    h.fake.write(BOB, bob_card["channel"], bob_card["ts"], "in Bob's DM while down")
    await h.platform.start()
    assert await h.platform.caught_up() == 1
    assert await _comments(h) == [("Bob", "in Bob's DM while down")]


async def test_slack_refusing_connections_loses_no_comment_and_names_come_later(h: Harness):
    ticket_card, team_card = await _opened(h)
    await h.fake.refuse()  # Slack's Web API unreachable; its events still reach us
    try:
        for user, text in ((ALICE, "one"), (BOB, "two: first time here"), (ALICE, "three")):
            status, _ = await h.slack.event(event_body(
                h.fake.write(user, SUPPORT, ticket_card["ts"], text)))
            assert status == 200
        await h.settle()
        assert await _comments(h) == [("Alice", "one"), ("U0BOB", "two: first time here"),
                                      ("Alice", "three")], "stored at once, Bob by his id"
    finally:
        await h.fake.accept()
    await h.platform.shared.namer.idle()
    assert await _comments(h) == [("Alice", "one"), ("Bob", "two: first time here"),
                                  ("Alice", "three")]
    h.clock.advance(3600)  # the mirrors' retries are due
    assert await h.settle() == 0
    mirrored = [(m["username"], m["text"]) for m in h.thread(team_card)]
    assert mirrored == [("Alice", "one"), ("Bob", "two: first time here"),
                        ("Alice", "three")], "each once, in order, under the filled-in name"


async def test_an_agents_id_from_another_workspace_is_not_an_agent(h: Harness):
    _, team_card = await _opened(h)
    elsewhere = command_body(AGENT, "claim 1", h.fake.response_url())
    elsewhere["team_id"] = "T0ELSEWHERE"  # Slack Connect: same user id, another workspace
    await h.slack.command(elsewhere)
    await h.settle()
    assert "only agents can claim" in h.told()[-1].lower()
    assert (await h.runtime.desk.show(_agent(), 1)).ticket.assignee is None
    # A message in the team thread from that user is no internal note.
    await h.slack.event(event_body(h.fake.write(AGENT, TEAM_CHANNEL, team_card["ts"], "hi",
                                                team="T0ELSEWHERE", user_team="T0ELSEWHERE")))
    await h.settle()
    [whisper] = h.fake.of("chat.postEphemeral")
    assert "only agents" in whisper["text"].lower()
    assert await _comments(h) == []
    await h.command(AGENT, "claim 1")  # from the desk's own workspace: an agent
    assert (await h.runtime.desk.show(_agent(), 1)).ticket.assignee is not None


async def test_a_form_a_press_and_a_command_are_stored_before_slack_is_answered(
        h: Harness) -> None:
    """When Slack gets its 200, what the request carried is in the database already."""
    await h.command(ALICE, "new")
    await h.choose(ALICE, "Category", "general")
    form = h.last_view()
    status, _ = await h.slack.interact(view_submission(form, ALICE, by_label(form, {
        "Category": "general", "Subject": "Cannot log in", "Description": "Error 42",
        "Priority": "Normal"})))
    assert status == 200
    assert (await h.runtime.desk.show(_agent(), 1)).ticket.subject == "Cannot log in"
    await h.settle()
    [team_card] = h.cards(TEAM_CHANNEL)
    status, _ = await h.slack.interact(button_press(team_card, AGENT, "Claim",
                                                    h.fake.response_url(), TEAM_CHANNEL))
    assert status == 200
    assert (await h.runtime.desk.show(_agent(), 1)).ticket.assignee is not None
    status, _ = await h.slack.command(command_body(AGENT, "priority 1 urgent",
                                                   h.fake.response_url()))
    assert status == 200
    assert (await h.runtime.desk.show(_agent(), 1)).ticket.priority == "urgent"


async def test_a_form_sent_while_the_database_is_gone_stays_open_to_be_sent_again(
        h: Harness, tmp_path: Path) -> None:
    await h.command(ALICE, "new")
    await h.choose(ALICE, "Category", "general")
    form = h.last_view()
    submission = view_submission(form, ALICE, by_label(form, {
        "Category": "general", "Subject": "Cannot log in", "Description": "Error 42",
        "Priority": "Normal"}))
    stores = h.runtime.desk.stores
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/desk.db")
    h.runtime.desk.stores = SqlStores(engine)  # no such file can be opened
    try:
        status, body = await h.slack.interact(submission)
    finally:
        h.runtime.desk.stores = stores
        await engine.dispose()
    assert status == 200
    errors = json.loads(body)
    assert errors["response_action"] == "errors"
    assert "Description was not sent: the desk's database cannot be reached" in \
        " ".join(errors["errors"].values())
    status, body = await h.slack.interact(submission)  # sent again: now it is stored
    assert (status, body) == (200, "")
    await h.settle()
    assert len(h.cards(TEAM_CHANNEL)) == 1, "opened once"


async def test_a_message_the_desk_could_not_store_is_read_again_after_slack_gave_up(
        h: Harness, tmp_path: Path) -> None:
    """Slack retries a 503'd event for about five minutes; past that, the thread is read
    again once the desk answers: nothing is lost."""
    ticket_card, _ = await _opened(h)
    stores = h.runtime.desk.stores
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/desk.db")
    h.runtime.desk.stores = SqlStores(engine)  # no such file can be opened
    try:
        status, _ = await h.slack.event(event_body(
            h.fake.write(ALICE, SUPPORT, ticket_card["ts"], "are you there?")))
        assert status == 503
    finally:
        h.runtime.desk.stores = stores
        await engine.dispose()
    status, _ = await h.slack.event(event_body(
        h.fake.write(ALICE, SUPPORT, ticket_card["ts"], "hello?")))
    assert status == 200
    assert await h.platform.caught_up() == 1, "the first one, read again"
    assert sorted(await _comments(h)) == [("Alice", "are you there?"), ("Alice", "hello?")]


async def test_catch_up_reads_a_long_backlog_page_by_page_in_order(h: Harness) -> None:
    """450 messages written while down: conversations.replies gives 200 at a time."""
    ticket_card, _ = await _opened(h)
    texts = [f"backlog {i:03d}" for i in range(450)]
    for text in texts:
        h.fake.write(ALICE, SUPPORT, ticket_card["ts"], text)
    await h.platform.start()
    assert await h.platform.caught_up() == 450
    assert [text for _, text in await _comments(h)] == texts
    pages = [c for c in h.fake.of("conversations.replies") if c["channel"] == SUPPORT]
    assert len(pages) == 3 and all(int(c["limit"]) == 200 for c in pages)
