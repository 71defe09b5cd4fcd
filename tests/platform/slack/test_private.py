"""Issue 3, points 4–6: a private ticket's thread lives in the requester's DM with the app."""

from __future__ import annotations

from tests.platform.slack.harness import AGENT, ALICE, SUPPORT, TEAM_CHANNEL, Harness

ALICE_DM = "D0ALICE"


async def test_private_ticket_card_is_the_receipt_in_the_requesters_dm(h: Harness):
    await h.open_ticket(shared=False)
    assert h.cards(SUPPORT) == [], "a private ticket has no card in the support channel"
    [dm_card] = h.cards(ALICE_DM)
    text = str(dm_card["blocks"])
    assert "We have your ticket" in text and "#1" in text and "Cannot log in" in text
    assert "Close" in text, "the requester can close it from the card"
    assert "Claim" not in text, "agent controls stay on the team card"
    [team_card] = h.cards(TEAM_CHANNEL)
    assert "Claim" in str(team_card["blocks"])
    assert len(h.dms(ALICE)) == 1, "the DM card is the receipt: no second receipt"


async def test_dm_thread_message_becomes_a_comment_and_replies_come_back_there(h: Harness):
    await h.open_ticket(shared=False)
    [dm_card] = h.cards(ALICE_DM)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.say(ALICE, ALICE_DM, dm_card["ts"], "It happens on mobile too", channel_type="im")
    assert [p["text"] for p in h.thread(team_card)] == ["It happens on mobile too"]

    await h.press(AGENT, team_card, "Claim")
    await h.command(AGENT, "reply 1 Please update the app.")
    in_dm = [p["text"] for p in h.thread(dm_card)]
    assert any("Ada Agent" in t and "is handling" in t for t in in_dm), "who has it"
    assert "Please update the app." in in_dm
    assert "In progress" in str(h.current(dm_card)["blocks"]), "the DM card is updated too"
    assert "We have your ticket" in str(h.current(dm_card)["blocks"]), "still theirs"
    await h.command(AGENT, "resolve 1 Updated the app for you.")
    assert "Your ticket *#1" in str(h.current(dm_card)["blocks"])
    assert "is resolved" in str(h.current(dm_card)["blocks"])
    assert h.dms(ALICE) == h.cards(ALICE_DM) + h.thread(dm_card), "no extra DMs needed"


async def test_top_level_dm_gets_a_hint_once(h: Harness):
    await h.say(ALICE, ALICE_DM, None, "hello?", channel_type="im")
    await h.say(ALICE, ALICE_DM, None, "anyone?", channel_type="im")
    [hint] = h.fake.posts(ALICE_DM)
    assert "/ticket" in hint["text"]


async def test_a_thread_elsewhere_with_the_same_ts_never_lands_on_the_dm_ticket(h: Harness):
    await h.open_ticket(shared=False)
    [dm_card] = h.cards(ALICE_DM)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.say(AGENT, "C0RANDOM", dm_card["ts"], "unrelated chatter")  # ts unique per channel
    await h.say(AGENT, "D0AGENT", dm_card["ts"], "unrelated too", channel_type="im")  # another DM
    assert h.thread(team_card) == []
    history = (await h.runtime.desk.show(await h.platform.shared.actor({"user_id": AGENT}),
                                         1)).events
    assert not any("unrelated" in str(e.payload) for e in history)
    await h.say(ALICE, ALICE_DM, dm_card["ts"], "still broken", channel_type="im")
    assert [m["text"] for m in h.thread(team_card)] == ["still broken"], "hers still lands"


async def test_a_reply_under_a_receipt_is_told_where_to_write_once_per_thread(h: Harness):
    await h.open_ticket(shared=True)
    [receipt] = h.dms(ALICE)
    await h.say(ALICE, ALICE_DM, receipt["ts"], "thanks!", channel_type="im")
    await h.say(ALICE, ALICE_DM, receipt["ts"], "also this", channel_type="im")
    [hint] = h.fake.posts(ALICE_DM, thread=receipt["ts"])
    assert "do not reach your ticket" in hint["text"]
