"""Issue 13, points 1 and 2 on Slack: ``/ticket watch|unwatch|cc|uncc|share|unshare``
and the form's watchers (a users select and an e-mail field), through real Bolt and
signed requests against the fake Slack."""

from __future__ import annotations

from core.identity import UserRef
from tests.platform.slack.harness import AGENT, ALICE, BOB, GROUP_AGENT, TEAM_CHANNEL, Harness
from tests.support.slack_requests import TEAM

ALICE_DM = "D0ALICE"


def texts(posts: list[dict[str, object]]) -> str:
    return "\n".join(str(p.get("text", "")) + str(p.get("blocks", "")) for p in posts)


async def watchers_of(h: Harness, number: int) -> list[str]:
    agent = await h.platform.shared.actor({"user_id": AGENT})
    return [w.ref.key for w in (await h.runtime.desk.show(agent, number)).ticket.watchers]


async def test_cc_a_user_who_then_sees_it_and_hears_every_public_update_never_a_note(
        h: Harness) -> None:
    await h.open_ticket(shared=False)  # private: its thread is Alice's DM
    [dm_card] = h.cards(ALICE_DM)
    await h.command(BOB, "show 1")
    assert "no ticket #1 you can see" in h.told()[-1]
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    assert h.told()[-1] == "Done: Bob watches #1 and will hear of every public update."
    await h.command(BOB, "show 1")
    assert "Cannot log in" in str(h.fake.responses[-1]) and "Watchers: Bob" in str(
        h.fake.responses[-1])
    told_before = len(h.dms(BOB))
    await h.say(ALICE, ALICE_DM, dm_card["ts"], "It happens on mobile too", channel_type="im")
    await h.command(AGENT, "note 1 internal: the SSO bug again")
    await h.command(AGENT, "reply 1 Please update the app.")
    news = texts(h.dms(BOB)[told_before:])
    assert "It happens on mobile too" in news, "the requester's own comments included"
    assert "Please update the app." in news
    assert "SSO bug" not in texts(h.dms(BOB)), "never an internal note"
    assert "watchers: Bob" in str(h.current(dm_card)["blocks"]), "listed on the card"


async def test_cc_by_e_mail_and_a_bad_address_refused_by_name(h: Harness) -> None:
    await h.open_ticket()
    await h.command(AGENT, "cc 1 <mailto:omar@example.com|omar@example.com>")
    assert h.told()[-1].startswith("Done: omar@example.com watches #1")
    await h.command(AGENT, "cc 1 omar@@example.com")
    assert h.told()[-1].startswith(":warning: cc: 'omar@@example.com' is not a valid "
                                   "e-mail address: ")
    await h.command(AGENT, "cc 1 nobody")
    assert "mention or an e-mail address" in h.told()[-1]
    assert await watchers_of(h, 1) == ["email::omar@example.com"]
    await h.command(ALICE, "uncc 1 omar@example.com")
    assert h.told()[-1] == "Done: omar@example.com no longer watches #1."
    assert await watchers_of(h, 1) == []


async def test_who_may_cc_watch_and_share(h: Harness) -> None:
    await h.open_ticket(shared=False)
    await h.command(BOB, f"cc 1 <@{GROUP_AGENT}>")
    assert "no ticket #1 you can see" in h.told()[-1], "a stranger: it does not exist"
    await h.command(BOB, "watch 1")
    assert "no ticket #1 you can see" in h.told()[-1]
    await h.command(ALICE, "share 1")
    assert h.told()[-1] == "Done: #1 is shared with Alice's workspace."
    await h.command(BOB, "list org")
    assert "#1" in str(h.fake.responses[-1]), "the requester's workspace sees it now"
    await h.command(BOB, "unshare 1")
    assert "Only agents or the requester of #1 can share it or make it private" in \
        h.told()[-1]
    await h.command(BOB, f"cc 1 <@{GROUP_AGENT}>")
    assert "Only agents or the requester of #1 can add watchers" in h.told()[-1]
    await h.command(BOB, "watch 1")
    assert h.told()[-1].startswith("Done: you are watching #1")
    before = len(h.dms(BOB))
    await h.command(AGENT, "reply 1 Looking")
    assert "Looking" in texts(h.dms(BOB)[before:])
    await h.command(BOB, "unwatch 1")
    assert h.told()[-1] == "Done: you no longer watch #1."
    await h.command(AGENT, "unshare 1")
    assert h.told()[-1] == "Done: #1 is private."
    await h.command(BOB, "show 1")
    assert "no ticket #1 you can see" in h.told()[-1], "private again: hidden"
    before = len(h.dms(BOB))
    await h.command(AGENT, "reply 1 Fixed")
    assert h.dms(BOB)[before:] == []


async def test_the_form_takes_watchers_from_a_users_select_and_an_e_mail_field(
        h: Harness) -> None:
    await h.command(ALICE, "new")
    view = await h.choose(ALICE, "Category", "general")
    labels = [b["label"]["text"] for b in view["blocks"] if b.get("type") == "input"]
    assert "Watchers" in labels and "Watchers by e-mail" in labels
    [select] = [b["element"] for b in view["blocks"] if b.get("block_id") == "cc"]
    assert select["type"] == "multi_users_select"
    base = {"Category": "general", "Subject": "VPN drops", "Description": "Every hour",
            "Priority": "Normal"}
    status, body = await h.submit(ALICE, {**base, "Watchers by e-mail": "omar@@example"})
    assert status == 200 and body["response_action"] == "errors"
    assert body["errors"] == {"cc_emails": body["errors"]["cc_emails"]}
    assert body["errors"]["cc_emails"].startswith("Watchers by e-mail 'omar@@example' is "
                                                  "not a valid e-mail address")
    status, body = await h.submit(ALICE, {**base, "Watchers": [ALICE]})
    assert body["errors"] == {"cc": "Watchers cannot include the requester: they follow "
                                    "their ticket already"}
    status, body = await h.submit(ALICE, {**base, "Watchers": [BOB],
                                          "Watchers by e-mail": "omar@example.com, "
                                                                "Lea@Example.org"})
    assert status == 200 and not body, body
    assert await watchers_of(h, 1) == [UserRef("slack", TEAM, BOB).key,
                                       "email::omar@example.com", "email::lea@example.org"]
    assert "VPN drops" in texts(h.dms(BOB)), "Bob hears of the new ticket"


BOB_DM = "D0BOB"


def said(posts: list[dict[str, object]]) -> list[str]:
    return [str(p.get("text", "")) for p in posts]


async def test_a_watcher_of_a_private_ticket_gets_their_own_thread_in_their_dm(
        h: Harness) -> None:
    """Issue 13 point 1 on Slack: a private ticket's thread is Alice's DM, so Bob, cc'd,
    gets a thread of his own in his DM — public updates come into it, what he writes
    there is his comment, mirrored everywhere; once uncc'd he is refused there."""
    await h.open_ticket(shared=False)
    [alice_card] = h.cards(ALICE_DM)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    [bob_card] = h.cards(BOB_DM)  # the card of his thread: no top-level notices
    assert "You watch ticket" in str(bob_card["blocks"]) and "Cannot log in" in str(
        bob_card["blocks"])
    assert "Bob" in " ".join(said(h.thread(bob_card)))  # the cc itself, in his thread

    await h.command(AGENT, "reply 1 Please update the app.")
    await h.command(AGENT, "note 1 internal: the SSO bug again")
    await h.say(ALICE, ALICE_DM, alice_card["ts"], "It happens on mobile too",
                channel_type="im")
    bob_thread = said(h.thread(bob_card))
    assert "Please update the app." in bob_thread[-2:] and bob_thread[-1] == \
        "It happens on mobile too", "every public update, the requester's comments too"
    assert "SSO bug" not in texts(h.dms(BOB)), "never a note"
    assert h.cards(BOB_DM) == [bob_card], "no top-level notices beside his thread"

    status, _ = await h.say(BOB, BOB_DM, bob_card["ts"], "Same for me on Android",
                            channel_type="im", event_id="EvBOB1")
    assert status == 200
    assert said(h.thread(team_card))[-1] == "Same for me on Android"
    assert said(h.thread(alice_card))[-1] == "Same for me on Android"
    assert said(h.thread(bob_card))[-1] != "Same for me on Android", "not echoed back"
    agent = await h.platform.shared.actor({"user_id": AGENT})
    shown = await h.runtime.desk.show(agent, 1)
    [comment] = [e for e in shown.events if "Android" in str(e.payload)]
    assert comment.actor is not None and comment.actor.ref == UserRef("slack", TEAM, BOB)

    await h.command(ALICE, "uncc 1 <@U0BOB|bob>")
    events_before = len((await h.runtime.desk.show(agent, 1)).events)
    team_before = len(h.thread(team_card))
    await h.say(BOB, BOB_DM, bob_card["ts"], "One more thing", channel_type="im")
    [whisper] = h.fake.of("chat.postEphemeral")
    assert whisper["channel"] == BOB_DM and whisper["user"] == BOB
    assert "no ticket #1 you can see" in str(whisper["text"]), whisper
    assert len((await h.runtime.desk.show(agent, 1)).events) == events_before
    assert len(h.thread(team_card)) == team_before, "changes nothing"
    bob_before = len(h.dms(BOB))
    await h.command(AGENT, "reply 1 Fixed in 4.2")
    assert h.dms(BOB)[bob_before:] == [], "retired: no longer told anything"


async def test_a_watchers_thread_takes_a_slack_retry_once_and_wakes_on_watch_again(
        h: Harness) -> None:
    await h.open_ticket(shared=False)
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    [bob_card] = h.cards(BOB_DM)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.say(BOB, BOB_DM, bob_card["ts"], "Seen it twice", channel_type="im",
                event_id="EvTWICE", ts="1700000100.000100")
    await h.say(BOB, BOB_DM, bob_card["ts"], "Seen it twice", channel_type="im",
                event_id="EvTWICE", ts="1700000100.000100", retry=1)
    assert said(h.thread(team_card)).count("Seen it twice") == 1, "one comment"
    await h.command(BOB, "unwatch 1")
    await h.command(AGENT, "share 1")  # Bob may see and watch it again
    before = len(h.thread(team_card))
    await h.say(BOB, BOB_DM, bob_card["ts"], "Still there?", channel_type="im")
    [whisper] = h.fake.of("chat.postEphemeral")
    assert "You no longer watch #1" in str(whisper["text"]), "seeing it is not watching"
    assert len(h.thread(team_card)) == before
    await h.command(BOB, "watch 1")
    assert h.cards(BOB_DM) == [bob_card], "the same thread wakes: no second card"
    await h.command(AGENT, "reply 1 Back again")
    assert said(h.thread(bob_card))[-1] == "Back again"


async def test_a_shared_ticket_keeps_its_watchers_in_the_support_channel_thread(
        h: Harness) -> None:
    await h.open_ticket(shared=True)
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    await h.command(AGENT, "reply 1 Looking")
    assert h.cards(BOB_DM) != [] and all(not p.get("thread_ts") for p in h.dms(BOB)), \
        "top-level notices: the channel thread is open to him"


async def test_the_form_gives_a_private_tickets_watcher_a_thread_from_the_start(
        h: Harness) -> None:
    await h.open_ticket(shared=False, Watchers=[BOB])
    [bob_card] = h.cards(BOB_DM)
    assert "You watch ticket" in str(bob_card["blocks"])
    await h.command(AGENT, "reply 1 On it")
    assert said(h.thread(bob_card))[-1] == "On it"


def buttons(posts: list[dict[str, object]], label: str) -> list[dict[str, object]]:
    return [p for p in posts if f"'text': '{label}'" in str(p.get("blocks"))]


async def test_a_watcher_hears_of_a_close_request_and_a_resolution_without_buttons(
        h: Harness) -> None:
    """The requester's answers (close / keep open, the rating) go to her alone: a
    watcher's DM notice — top-level or in his own thread — carries none of them."""
    await h.open_ticket(shared=True)
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    await h.command(AGENT, "ask-close 1 Works again?")
    assert "Works again?" in texts(h.dms(BOB))
    assert buttons(h.dms(BOB), "Yes, close it") == []
    assert buttons(h.dms(ALICE), "Yes, close it") != [], "the requester is asked"
    await h.command(ALICE, "keep-open 1")
    await h.command(AGENT, "resolve 1 Reset the password for you.")
    assert "Reset the password" in texts(h.dms(BOB))
    assert buttons(h.dms(BOB), "Good") == [] and "How did we do" not in texts(h.dms(BOB))
    assert buttons(h.dms(ALICE), "Good") != []


async def test_a_private_tickets_watcher_thread_offers_no_rating(h: Harness) -> None:
    await h.open_ticket(shared=False)
    await h.command(ALICE, "cc 1 <@U0BOB|bob>")
    [bob_card] = h.cards(BOB_DM)
    [alice_card] = h.cards(ALICE_DM)
    await h.command(AGENT, "resolve 1 Reset the password for you.")
    assert "Reset the password" in " ".join(said(h.thread(bob_card)))
    assert buttons(h.thread(bob_card), "Good") == []
    assert buttons(h.thread(alice_card), "Good") != []
