"""Issue 3, points 4–6 and 8: threads and cards, mirroring, buttons authorised in core."""

from __future__ import annotations

import json
from typing import Any

from tests.platform.slack.harness import (
    AGENT,
    ALICE,
    BOB,
    GROUP_AGENT,
    SUPPORT,
    TEAM_CHANNEL,
    Harness,
)
from tests.support.slack_requests import event_body, message_event


async def opened(h: Harness, **kwargs: object) -> tuple[dict, dict]:
    await h.open_ticket(**kwargs)  # type: ignore[arg-type]
    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    return ticket_card, team_card


async def test_thread_message_is_mirrored_to_the_team_thread_under_the_authors_name(
        h: Harness):
    ticket_card, team_card = await opened(h)
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "Also: the <https://x.io|reset> link fails")
    [mirrored] = h.thread(team_card)
    assert mirrored["username"] == "Alice"
    assert "reset (https://x.io) link fails" in mirrored["text"]
    assert h.thread(ticket_card) == [], "not echoed back where it was typed"


async def test_mentions_slack_sends_as_ids_are_mirrored_as_names_and_never_ping(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.say(ALICE, SUPPORT, ticket_card["ts"],
                "as <@U0AGENT> and <!subteam^S0AGENTS> said, ask <@U0NOBODY>")
    [mirrored] = h.thread(team_card)
    assert "as @Ada Agent and @agents-team said, ask @u0nobody" in mirrored["text"]
    assert "<@" not in mirrored["text"] and "<!subteam" not in mirrored["text"]


async def test_messages_sent_back_to_back_are_kept_and_mirrored_in_their_order(h: Harness):
    ticket_card, team_card = await opened(h)
    for i in range(8):  # each acknowledged before the next; none finished meanwhile
        event = message_event(ALICE, SUPPORT, f"msg {i}", thread_ts=ticket_card["ts"])
        status, _ = await h.slack.event(event_body(event))
        assert status == 200
    await h.settle()
    assert [m["text"] for m in h.thread(team_card)] == [f"msg {i}" for i in range(8)]
    history = (await h.runtime.desk.show(_agent(), 1)).events
    assert [e.text for e in history if e.text] == \
        [f"msg {i}" for i in range(8)]


async def test_a_forwarded_or_blocks_only_message_keeps_what_it_says(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "", attachments=[{
        "is_share": True, "author_name": "Bob", "fallback": "[Bob] the invoice is wrong",
        "text": "the invoice is wrong\nsee <https://x.io|page 2>"}])
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "", blocks=[{
        "type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "text", "text": "ping "}, {"type": "user", "user_id": "U0AGENT"},
            {"type": "text", "text": " about "}, {"type": "broadcast", "range": "channel"}]}]}])
    forwarded, blocks_only = (m["text"] for m in h.thread(team_card))
    assert "Forwarded from Bob:" in forwarded and "the invoice is wrong" in forwarded
    assert "page 2 (https://x.io)" in forwarded
    assert blocks_only == "ping @Ada Agent about @channel", "named, never a ping"


async def test_team_thread_message_is_an_internal_note_that_goes_nowhere_else(h: Harness):
    ticket_card, team_card = await opened(h)
    before = len(h.fake.posts())
    await h.say(AGENT, TEAM_CHANNEL, team_card["ts"], "I think this is the SSO bug")
    assert len(h.fake.posts()) == before, "a note is not posted anywhere"
    assert h.thread(ticket_card) == [] and h.dms(ALICE)[1:] == []
    details = await h.runtime.desk.show(_agent(), 1)
    assert [e.kind.value for e in details.events][-1] == "noted"


async def test_non_agent_in_the_team_thread_is_refused_quietly(h: Harness):
    _, team_card = await opened(h)
    await h.say(BOB, TEAM_CHANNEL, team_card["ts"], "what is this")
    [whisper] = h.fake.of("chat.postEphemeral")
    assert whisper["user"] == BOB and "only agents" in whisper["text"].lower()


async def test_claim_by_an_agent_updates_both_cards_and_posts_in_both_threads(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.press(GROUP_AGENT, team_card, "Claim")  # an agent through the user group
    team_now = h.current(team_card)
    assert "Gus Group" in str(team_now["blocks"]) and "In progress" in str(team_now["blocks"])
    assert "In progress" in str(h.current(ticket_card)["blocks"])
    assert "Claim" not in str(team_now["blocks"]), "nothing left to claim"
    assert any("Gus Group" in p["text"] for p in h.thread(team_card))
    assert any("Gus Group" in p["text"] for p in h.thread(ticket_card))
    assert any("Gus Group" in str(p.get("blocks")) for p in h.dms(ALICE)[1:]), \
        "the requester of a shared ticket hears who has it"


async def test_claim_by_a_non_agent_is_refused_ephemerally_and_changes_nothing(h: Harness):
    _ticket_card, team_card = await opened(h)
    calls = len(h.fake.calls)
    await h.press(BOB, team_card, "Claim")  # Bob is no agent: a forged press
    assert any("only agents can claim" in t.lower() for t in h.told())
    assert [c.method for c in h.fake.calls[calls:]
            if c.method.startswith("chat.")] == [], "no card, thread or DM changed"
    details = await h.runtime.desk.show(_agent(), 1)
    assert details.ticket.assignee is None


async def test_reply_form_reaches_the_ticket_thread_and_keeps_a_copy_in_the_team_thread(
        h: Harness):
    ticket_card, team_card = await opened(h)
    await h.press(AGENT, team_card, "Reply")
    form = h.last_view()
    assert len(form["title"]["text"]) <= 24
    status, body = await h.submit(AGENT, {"Your reply to the requester": "Try resetting it."})
    assert status == 200 and body == {}
    [public] = h.thread(ticket_card)
    [copy] = h.thread(team_card)
    assert public["username"] == copy["username"] == "Ada Agent"
    assert public["text"] == copy["text"] == "Try resetting it."
    assert any("Try resetting it." in str(p.get("blocks")) for p in h.dms(ALICE))


async def test_reply_button_refused_for_a_non_agent(h: Harness):
    _, team_card = await opened(h)
    views = len(h.fake.views())
    await h.press(BOB, team_card, "Reply")
    assert len(h.fake.views()) == views, "no form for a non-agent"
    assert any("only agents" in t.lower() for t in h.told())


async def test_resolve_with_a_too_short_note_is_refused_in_the_form(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.press(AGENT, team_card, "Resolve")
    form = h.last_view()
    [block] = [b for b in form["blocks"] if b.get("type") == "input"]
    _, body = await h.submit(AGENT, {"Resolution note": "ok"})
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block["block_id"]]
    assert "6 characters" in body["errors"][block["block_id"]]
    assert "resolution note" in body["errors"][block["block_id"]].lower(), "names the field"
    assert "Resolved" not in str(h.current(team_card)["blocks"])

    for forged in ("true", "1e30", str(10**30), "-1", '"1"'):
        view = {**form, "private_metadata": '{"n": ' + forged + "}"}
        _, body = await h.submit(AGENT, {"Resolution note": "Done, honestly."}, view=view)
        assert "does not name a ticket" in str(body.get("errors")), forged
    assert "Resolved" not in str(h.current(team_card)["blocks"])

    _status, body = await h.submit(AGENT, {"Resolution note": "Password reset done."})
    assert body == {}
    resolved_view = h.last_view()
    _status, body = await h.submit(AGENT, {"Resolution note": "Password reset done."},
                                   view=resolved_view)  # the same form, sent again
    assert body == {}, "closes like the first: it was done"
    history = (await h.runtime.desk.show(_agent(), 1)).events
    assert [e.kind.value for e in history].count("resolved") == 1
    assert "Resolved" in str(h.current(team_card)["blocks"])
    assert "Password reset done." in str(h.current(ticket_card)["blocks"])
    assert any("Password reset done." in p["text"] for p in h.thread(ticket_card))
    assert any("Password reset done." in str(p.get("blocks")) for p in h.dms(ALICE)), \
        "the requester of a shared ticket gets the resolution by DM"


async def test_requester_reopens_from_the_ticket_card(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.command(AGENT, "resolve 1 Cleared the cache for you.")
    assert "Reopen" in str(h.current(ticket_card)["blocks"])
    await h.press(ALICE, ticket_card, "Reopen")
    now = str(h.current(ticket_card)["blocks"])
    assert "In progress" in now and "Resolved" not in now  # back with its resolver
    assert "Reopen" not in str(h.current(team_card)["blocks"])
    assert any("reopened" in p["text"] for p in h.thread(team_card))


async def test_priority_select_and_escalate_form_on_the_team_card(h: Harness):
    _, team_card = await opened(h)
    await h.press(AGENT, team_card, "Priority", option="urgent")
    assert "Urgent" in str(h.current(team_card)["blocks"])
    await h.press(AGENT, team_card, "Escalate")
    await h.submit(AGENT, {"Why does it need escalating?": "VIP customer, down for hours"})
    [alert] = h.fake.posts("C0ESCALATE")
    assert "<!subteam^S0MANAGERS>" in str(alert["blocks"])
    assert "VIP customer" in str(alert["blocks"])


async def test_channel_ping_typed_by_a_user_stays_harmless_text(h: Harness):
    ticket_card, _team_card = await opened(h, subject="<!channel> & <@U0BOB> help",
                                          description="<!here> please")
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "&lt;!everyone&gt; and <!channel> now")
    posted = h.fake.of("chat.postMessage") + h.fake.of("chat.update")
    for call in posted:
        text = str(call.get("text")) + str(call.get("blocks"))
        for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOB>"):
            assert ping not in text, (ping, text)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOB&gt; help" in str(h.cards(SUPPORT)[0]["blocks"])
    assert not any(c.get("link_names") for c in h.fake.of("chat.postMessage"))


async def test_event_retried_three_times_makes_one_comment(h: Harness):
    ticket_card, team_card = await opened(h)
    for retry in (None, 1, 2, 3):
        status, _ = await h.say(ALICE, SUPPORT, ticket_card["ts"], "Any news?",
                                event_id="Ev0RETRIED", ts="1700000999.000001", retry=retry)
        assert status == 200
    assert [p["text"] for p in h.thread(team_card)] == ["Any news?"]
    details = await h.runtime.desk.show(_agent(), 1)
    assert [e.kind.value for e in details.events].count("commented") == 1


async def test_bots_and_the_app_itself_are_ignored(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.say("U0OTHERBOT", SUPPORT, ticket_card["ts"], "beep", bot_id="B0OTHER")
    await h.say("U0BOT", SUPPORT, ticket_card["ts"], "our own echo", bot_id="B0BOT")
    assert h.thread(team_card) == []


async def test_file_share_is_recorded_as_an_attachment(h: Harness):
    ticket_card, team_card = await opened(h)
    files = [{"id": "F0SHOT", "name": "screenshot.png", "size": 2048,
              "permalink": "https://test.slack.com/files/U0ALICE/F0SHOT/screenshot.png"}]
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "", subtype="file_share", files=files)
    [mirrored] = h.thread(team_card)
    assert "screenshot.png" in mirrored["text"] and "2048 bytes" in mirrored["text"]
    details = await h.runtime.desk.show(_agent(), 1)
    [comment] = [e for e in details.events if e.kind.value == "commented"]
    assert comment.payload.attachments[0].name == "screenshot.png"


async def test_edits_and_deletions_are_not_mirrored_and_the_author_is_told(h: Harness):
    ticket_card, team_card = await opened(h)
    await h.say(ALICE, SUPPORT, ticket_card["ts"], "typo hree", ts="1700000500.000001")
    original = {"user": ALICE, "text": "typo hree", "ts": "1700000500.000001",
                "thread_ts": ticket_card["ts"]}
    await h.say(ALICE, SUPPORT, None, "", subtype="message_changed",
                message={**original, "text": "typo here"}, previous_message=original)
    await h.say(ALICE, SUPPORT, None, "", subtype="message_deleted",
                previous_message=original, deleted_ts=original["ts"])
    assert [p["text"] for p in h.thread(team_card)] == ["typo hree"]
    whispers = h.fake.of("chat.postEphemeral")
    assert len(whispers) == 2 and all(w["user"] == ALICE for w in whispers)
    assert "Edits are not copied" in whispers[0]["text"]
    assert "does not remove it" in whispers[1]["text"]


def _agent():
    from core.identity import Actor, UserRef

    return Actor(UserRef("slack", "T0TEST", AGENT), "Ada Agent")


async def test_escalate_button_is_refused_before_any_form_for_someone_who_may_not(h: Harness):
    _, team_card = await opened(h)
    views = len(h.fake.of("views.open"))
    await h.press(BOB, team_card, "Escalate")  # neither agent nor requester: forged
    await h.press(ALICE, team_card, "Escalate")  # the requester, before any breach
    assert len(h.fake.of("views.open")) == views, "no form was opened"
    assert any("Only agents or the requester" in t for t in h.told())
    assert any("once its first-response target has passed" in t for t in h.told())


async def test_forged_ticket_numbers_on_a_button_are_refused_with_a_message(h: Harness):
    _, team_card = await opened(h)
    for forged in ("²", "99999999999999999999999", "-1", "1e3"):
        card = {**team_card, "blocks": _with_value(team_card["blocks"], "Claim", forged)}
        told = len(h.told())
        status, _ = await h.press(AGENT, card, "Claim")
        assert status == 200
        assert "does not name a ticket" in " ".join(h.told()[told:]), forged
    assert (await h.runtime.desk.show(_agent(), 1)).ticket.assignee is None


def _with_value(blocks: list[dict[str, Any]], label: str, value: str) -> list[dict[str, Any]]:
    copied = json.loads(json.dumps(blocks))
    for block in (b for b in copied if b["type"] == "actions"):
        for element in block["elements"]:
            if element.get("text", {}).get("text") == label:
                element["value"] = value
    return copied
