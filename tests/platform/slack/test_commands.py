"""Issue 3, points 2 and 7: `/ticket` subcommands, shortcuts and the App Home."""

from __future__ import annotations

from tests.platform.slack.harness import (
    AGENT,
    ALICE,
    BOB,
    GROUP_AGENT,
    SUPPORT,
    TEAM_CHANNEL,
    Harness,
)
from tests.support.slack_requests import message_shortcut, shortcut


async def test_help_list_show_and_search_answer_ephemerally(h: Harness):
    await h.open_ticket(subject="VPN drops every hour")
    await h.command(ALICE, "help")
    await h.command(ALICE, "list")
    await h.command(ALICE, "show #1")
    await h.command(ALICE, "search vpn")
    await h.command(ALICE, "search nothing-like-this")
    answers = h.fake.responses
    assert all(a["response_type"] == "ephemeral" for a in answers)
    help_text, listing, show, found, nothing = (str(a) for a in answers)
    assert "/ticket list" in help_text and "/ticket queue" in help_text
    assert "#1" in listing and "VPN drops every hour" in listing
    assert "VPN drops every hour" in show and "Ticket thread" in show
    assert "archives/C0SUPPORT" in show, "links to the thread"
    assert "Team thread" not in show, "a requester is not shown the team thread"
    assert "#1" in found and "Nothing found" in nothing
    await h.command(BOB, "list all mine")  # Bob sees #1 (shared), but it is not his
    await h.command(BOB, "list closed")
    assert "No tickets of yours." in h.told()[-2] and "No closed tickets." in h.told()[-1]


async def test_a_word_payload_in_the_text_still_reaches_the_command(h: Harness):
    status, _ = await h.command(ALICE, "search payload refund")  # Bolt 1.30 misread it: 404
    assert status == 200
    assert "Nothing found" in str(h.fake.responses[-1])


async def test_agents_get_the_queue_reply_and_note_requesters_do_not(h: Harness):
    await h.open_ticket()
    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(TEAM_CHANNEL)
    await h.command(GROUP_AGENT, "queue")
    assert "#1" in str(h.fake.responses[-1])
    await h.command(ALICE, "queue")
    assert "only agents" in h.told()[-1].lower()
    await h.command(AGENT, "note 1 Looks like the SSO bug")
    await h.command(AGENT, "reply 1 We are on it & will report back")
    assert [p["text"] for p in h.thread(ticket_card)] == ["We are on it &amp; will report back"]
    team = [p["text"] for p in h.thread(team_card)]
    assert any("Looks like the SSO bug" in t for t in team) and len(team) == 2
    await h.command(ALICE, "note 1 sneaky")
    assert "only agents" in h.told()[-1].lower()
    await h.command(AGENT, "claim 99")
    assert "no ticket #99" in h.told()[-1]


async def test_transcript_is_an_html_page_and_markdown_in_the_users_dm(h: Harness):
    await h.open_ticket(subject="Export broken")
    await h.command(AGENT, "note 1 internal only")
    # typed "Try <b>this</b> & that"; Slack sends &, <, > escaped
    await h.command(AGENT, "reply 1 Try &lt;b&gt;this&lt;/b&gt; &amp; that")
    await h.command(ALICE, "transcript 1")
    assert "transcript of #1 is in your DMs" in h.told()[-1]
    page, markdown = h.fake.shared_in("D0ALICE")
    assert (page["name"], markdown["name"]) == ("ticket-1-transcript.html",
                                                "ticket-1-transcript.md")
    assert page["comment"] == "Transcript of #1, as of now."
    html = page["content"].decode()
    assert html.startswith("<!DOCTYPE html>") and "Export broken" in html
    assert "Try &lt;b&gt;this&lt;/b&gt; &amp;amp; that" not in html, "decoded from Slack"
    assert "Try &lt;b&gt;this&lt;/b&gt; &amp; that" in html
    assert "internal only" not in html and b"internal only" not in markdown["content"]
    assert len(page["content"]) == page["length"], "the length Slack was told"
    await h.command(AGENT, "transcript 1")
    [*_, agents_page, agents_markdown] = h.fake.shared_in("D0AGENT")
    assert b"internal only" in agents_page["content"]
    assert b"internal only" in agents_markdown["content"]


async def test_agent_opens_a_ticket_for_someone_else(h: Harness):
    await h.command(BOB, f"new for:<@{ALICE}|alice> Laptop")
    assert "only agents" in h.told()[-1].lower() and h.fake.views() == []
    await h.command(AGENT, f"new for:<@{ALICE}|alice> Laptop broken")
    view = h.last_view()
    assert "on behalf of Alice" in str(view["blocks"])
    await h.choose(AGENT, "Category", "General question")
    assert "on behalf of Alice" in str(h.last_view()["blocks"]), "kept through the update"
    await h.submit(AGENT, {"Category": "General question", "Subject": "Laptop broken",
                           "Description": "Screen is black", "Sharing": []})
    [receipt] = h.dms(ALICE)[:1]
    assert "We have your ticket" in str(receipt["blocks"])
    [team_card] = h.cards(TEAM_CHANNEL)
    assert "opened by Ada Agent on behalf of Alice" in str(team_card["blocks"])


async def test_global_shortcut_and_message_shortcut_open_the_form(h: Harness):
    await h.slack.interact(shortcut(ALICE, _callback(h, "global")))
    await h.settle()
    assert h.last_view()["title"]["text"] == "Open a ticket"
    message = {"type": "message", "user": BOB, "ts": "1700000123.000200",
               "text": "The export &lt;job&gt; failed again\nlog attached"}
    await h.slack.interact(message_shortcut(ALICE, _callback(h, "message"), "C0GENERAL",
                                            message, h.fake.response_url()))
    await h.settle()
    view = h.last_view()
    description = next(b for b in view["blocks"] if b.get("type") == "input"
                       and b["label"]["text"] == "Description")
    assert description["element"]["initial_value"].startswith("The export <job> failed")
    await h.submit(ALICE, {"Category": "General question", "Subject": "Export fails",
                           "Description": description["element"]["initial_value"]})
    details = await h.runtime.desk.show(_alice(), 1)
    assert "archives/C0GENERAL/p1700000123000200" in details.ticket.description


async def test_app_home_shows_my_tickets_and_the_queue_for_agents(h: Harness):
    await h.open_ticket(subject="Home sweet home")
    await h.slack.event(_home_opened(ALICE))
    await h.settle()
    mine = h.fake.last("views.publish")
    assert mine["user_id"] == ALICE and "Home sweet home" in str(mine["view"])
    assert "The queue" not in str(mine["view"])
    await h.slack.event(_home_opened(AGENT))
    await h.settle()
    agent_home = h.fake.last("views.publish")
    assert "The queue" in str(agent_home["view"]) and "Home sweet home" in str(agent_home)
    button = agent_home["view"]["blocks"][2]["elements"][0]
    await h.slack.interact({**shortcut(AGENT, "x"), "type": "block_actions",
                            "actions": [{"type": "button", "action_id": button["action_id"],
                                         "value": button["value"], "block_id": "b"}],
                            "view": {"id": "VHOME", "type": "home"}})
    await h.settle()
    assert h.last_view()["title"]["text"] == "Open a ticket"


def _callback(h: Harness, kind: str) -> str:
    from adapters.slack.manifest import manifest

    shortcuts = manifest(h.platform.config, request_url=None)["features"]["shortcuts"]
    return next(s["callback_id"] for s in shortcuts if s["type"] == kind)


def _home_opened(user: str) -> dict:
    from tests.support.slack_requests import event_body

    return event_body({"type": "app_home_opened", "user": user, "channel": "D" + user[1:],
                       "tab": "home", "event_ts": "1700000000.1"})


def _alice():
    from core.identity import Actor, UserRef

    return Actor(UserRef("slack", "T0TEST", ALICE), "Alice")


async def test_show_and_transcript_answer_even_when_slack_refuses_a_call(h: Harness):
    await h.open_ticket(subject="VPN drops every hour")
    h.fake.fail("chat.getPermalink", error="channel_not_found", times=5)
    await h.command(ALICE, "show 1")
    assert "VPN drops every hour" in str(h.fake.responses[-1]), "answered, without the link"
    h.fake.fail("files.getUploadURLExternal", error="not_allowed")
    await h.command(ALICE, "transcript 1")
    assert "Slack refused part of that (not_allowed)" in h.told()[-1]
    h.fake.fail("upload", status=500)  # the file transfer itself fails
    told = len(h.told())
    await h.command(ALICE, "transcript 1")
    assert len(h.told()) == told + 1 and "did not get through to Slack" in h.told()[-1]
    assert "Error" not in h.told()[-1], "no class names for people"


async def test_a_tab_separates_words_and_a_long_subject_starts_the_description(h: Harness):
    await h.open_ticket(subject="VPN drops every hour")
    await h.command(ALICE, "show\t1")
    assert "VPN drops every hour" in str(h.fake.responses[-1])
    words = "word " * 60  # 300 characters: more than a subject holds
    await h.command(ALICE, "new " + words)
    inputs = {b["label"]["text"]: b["element"] for b in h.last_view()["blocks"]
              if b.get("type") == "input"}
    assert "initial_value" not in inputs["Subject"], "never cut to fit"
    assert inputs["Description"]["initial_value"] == words.strip()
