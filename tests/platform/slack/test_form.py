"""Issue 3, points 2–3 and 6: `/ticket` → the form → errors by block → a ticket,
its receipt, its ticket card and its team card."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.platform.slack.harness import ALICE, BILLING, SUPPORT, TEAM_CHANNEL, Harness


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["label"]["text"]: b for b in view["blocks"] if b.get("type") == "input"}


async def test_command_opens_the_form_with_category_first_and_its_fields_on_choice(h: Harness):
    status, body = await h.command(ALICE, "new Printer on fire")
    assert status == 200 and body == ""  # acknowledged, nothing else to say
    view = h.last_view()
    assert len(view["title"]["text"]) <= 24
    labels = list(inputs(view))
    assert labels[0] == "Category"
    assert {"Subject", "Description", "Priority", "Account / program id",
            "Sharing"} <= set(labels)
    assert "Receipt number" not in labels
    assert inputs(view)["Subject"]["element"]["initial_value"] == "Printer on fire"
    assert inputs(view)["Subject"]["element"]["max_length"] == 140
    assert inputs(view)["Description"]["element"]["max_length"] == 3000

    updated = await h.choose(ALICE, "Category", "Refund")
    assert h.fake.of("views.update"), "choosing a category updates the form"
    fields = inputs(updated)
    assert "Receipt number" in fields and fields["Receipt number"]["optional"] is False
    assert fields["Last 4 digits of the card"]["optional"] is True
    assert updated["id"] == view["id"]


async def test_invalid_input_answers_errors_keyed_by_the_offending_block(h: Harness):
    await h.command(ALICE, "")
    view = await h.choose(ALICE, "Category", "Refund")
    blocks = {label: b["block_id"] for label, b in inputs(view).items()}
    good = {"Category": "Refund", "Subject": "Refund please", "Description": "Charged twice",
            "Receipt number": "R-1001"}

    status, body = await h.submit(ALICE, {**good, "Subject": "x" * 141})
    assert status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == [blocks["Subject"]]
    assert "Subject" in body["errors"][blocks["Subject"]]
    assert "140" in body["errors"][blocks["Subject"]]

    _, body = await h.submit(ALICE, {**good, "Receipt number": ""})
    assert list(body["errors"]) == [blocks["Receipt number"]]
    assert "Receipt number" in body["errors"][blocks["Receipt number"]]

    _, body = await h.submit(ALICE, {**good, "Last 4 digits of the card": "12ab"})
    assert list(body["errors"]) == [blocks["Last 4 digits of the card"]]

    _, body = await h.submit(ALICE, {**good, "Description": "bad \x07 bell"})
    assert list(body["errors"]) == [blocks["Description"]]
    assert "control character" in body["errors"][blocks["Description"]]

    assert h.fake.posts() == [], "nothing is opened from an invalid form"


async def test_every_bad_field_is_marked_at_once(h: Harness):
    """A new user's trial: a blank subject and a blank description showed the subject's
    error alone, then the description's on the next try."""
    await h.command(ALICE, "")
    view = await h.choose(ALICE, "Category", "Refund")
    blocks = {label: b["block_id"] for label, b in inputs(view).items()}
    status, body = await h.submit(ALICE, {
        "Category": "Refund", "Subject": "   ", "Description": "   ",
        "Receipt number": "", "Last 4 digits of the card": "12ab"})
    assert status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == [blocks[label] for label in (
        "Subject", "Description", "Receipt number", "Last 4 digits of the card")]
    assert all(label in body["errors"][blocks[label]] for label in blocks
               if blocks[label] in body["errors"])
    assert h.fake.posts() == []


async def test_valid_submission_makes_receipt_ticket_card_and_team_card(h: Harness):
    await h.command(ALICE, "")
    await h.choose(ALICE, "Category", "Refund")
    status, body = await h.submit(ALICE, {
        "Category": "Refund", "Subject": "Refund please", "Description": "Charged twice",
        "Priority": "High", "Receipt number": "R-1001", "Last 4 digits of the card": "4242",
        "Sharing": ["Share with my organisation"]})
    assert status == 200 and body == {}

    [ticket_card] = h.cards(SUPPORT)
    [team_card] = h.cards(BILLING)  # refund routes to its own team channel
    assert h.cards(TEAM_CHANNEL) == []
    for card in (ticket_card, team_card):
        text = str(card["blocks"])
        for shown in ("#1", "Refund please", "Refund", "High", "Open", "Alice", "nobody yet",
                      "First response: due <!date^"):
            assert shown in text, shown
        assert "4242" not in text, "a sensitive field is never echoed"
    assert "R-1001" in str(team_card["blocks"])

    [receipt] = h.dms(ALICE)
    text = str(receipt["blocks"])
    assert "#1" in text and "Refund please" in text and "High" in text
    assert "https://test.slack.com/archives/C0SUPPORT/p" in text, "links to the thread"
    assert "will answer" in text


async def test_a_refusal_after_the_form_closed_reaches_the_user_by_dm(h: Harness):
    """Per-user limits are checked when the ticket is opened, after the form closed;
    a view submission has no response_url, so the refusal is a DM (PRODUCT.md §8)."""
    limit = h.runtime.desk.config.desk.max_new_per_hour
    await h.command(ALICE, "")  # a form opened while under the limit…
    early = h.last_view()
    for i in range(limit):  # …is submitted after the limit was reached
        await h.open_ticket(subject=f"Ticket number {i}", description=f"Body {i}")
    before = len(h.cards(SUPPORT))
    await h.submit(ALICE, {"Category": "General question", "Subject": "One too many",
                           "Description": "Past the hourly limit"}, view=early)
    assert len(h.cards(SUPPORT)) == before, "nothing opened"
    refusal = h.dms(ALICE)[-1]
    assert "not opened" in refusal["text"] and "limit" in refusal["text"]


async def test_a_form_slack_refuses_to_open_is_explained_to_the_person(h: Harness):
    h.fake.fail("views.open", error="expired_trigger_id")
    status, _ = await h.command(ALICE, "new")
    assert status == 200
    assert any("did not open the form (expired_trigger_id)" in t for t in h.told())


async def test_the_same_form_sent_again_opens_nothing_new_and_says_so(h: Harness):
    await h.open_ticket(ALICE, subject="VPN down", description="Since noon")
    await h.open_ticket(ALICE, subject="VPN down", description="Since noon")  # a new form
    assert len(h.cards(SUPPORT)) == 1
    [_receipt, again] = h.dms(ALICE)
    assert "You already opened this as *#1*" in again["text"]
    assert "nothing new was opened" in again["text"]


async def test_the_same_form_delivered_twice_is_answered_once(h: Harness):
    await h.command(ALICE, "new")
    await h.choose(ALICE, "Category", "general")
    form = h.last_view()
    values = {"Category": "general", "Subject": "VPN down", "Description": "Since noon",
              "Priority": "Normal"}
    await asyncio.gather(h.submit(ALICE, values, view=form), h.submit(ALICE, values, view=form))
    assert len(h.cards(SUPPORT)) == 0 and len(h.dms(ALICE)) == 1, "one receipt, no 'already'"


async def test_for_colon_inside_a_subject_is_just_text(h: Harness):
    await h.command(ALICE, "new Waiting for: payout since May")
    subject = next(b for b in h.last_view()["blocks"] if b.get("block_id") == "subject")
    assert subject["element"]["initial_value"] == "Waiting for: payout since May"
    await h.command(ALICE, "new for: payout")  # first word: it names someone, and does not
    assert "name the requester with a mention" in h.told()[-1]
    told = len(h.told())
    await h.command(ALICE, "new for:")
    assert len(h.told()) == told + 1 and "name the requester" in h.told()[-1]


async def test_a_requester_at_the_limit_is_refused_before_the_form_opens(h: Harness):
    for i in range(5):  # the default limit: 5 open tickets
        await h.open_ticket(subject=f"Problem {i}")
    opened = len(h.fake.of("views.open"))
    status, _ = await h.command(ALICE, "new")
    assert status == 200
    assert h.told()[-1].startswith(":no_entry: You already have 5 open tickets")
    assert len(h.fake.of("views.open")) == opened, "no form only to be refused"
