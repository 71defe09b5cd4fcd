"""Deflection on Slack (real Bolt, fake Web API): "These may help" in the receipt (a
DM for a shared ticket, the DM card for a private one) and similar past tickets on the
team card, kept when the card is updated; text escaped, pinging nobody; another
requester's private ticket never offered to her."""

from __future__ import annotations

from core.config import FaqEntry
from tests.platform.slack.harness import AGENT, ALICE, BOB, TEAM_CHANNEL, Harness

ALICE_DM = "D0ALICE"
HOSTILE = "Sent a new link <!channel> <@U0AGENT> & told them it lasts 30 minutes."


async def test_receipt_and_team_card_show_what_may_help(h: Harness) -> None:
    h.runtime.desk.config = h.runtime.desk.config.model_copy(update={"faq": (
        FaqEntry(title="Resetting a password <b>", answer="Use the sign-in page's link.",
                 keywords=("password",)),)})
    await h.open_ticket(ALICE, subject="Cannot log in", description="The password reset "
                        "link expired.")
    agent = await h.platform.shared.actor({"user_id": AGENT})
    await h.runtime.desk.resolve(agent, 1, HOSTILE)  # raw <!channel>, as another platform
    await h.settle()
    await h.open_ticket(BOB, subject="Cannot log in either", shared=False,
                        description="My password reset link expired too.")
    await h.command(AGENT, "resolve 2 Sent bob a fresh link.")
    await h.open_ticket(ALICE, subject="Login fails", description="The reset link for my "
                        "password has expired.")
    receipt = str(h.dms(ALICE)[-1]["blocks"])
    assert "These may help" in receipt and "*#1* Cannot log in" in receipt
    assert "&lt;!channel&gt;" in receipt and "<!channel>" not in receipt
    assert "<@U0AGENT>" not in receipt and "&amp;" in receipt
    assert "#2" not in receipt  # bob's private ticket
    assert "Resetting a password &lt;b&gt;" in receipt  # the FAQ entry, escaped

    team = [c for c in h.cards(TEAM_CHANNEL) if "Login fails" in str(c["blocks"])]
    [card] = team
    blocks = str(card["blocks"])
    assert "Similar past tickets" in blocks and "*#2* Cannot log in either" in blocks
    assert "&lt;!channel&gt;" in blocks and "<!channel>" not in blocks
    await h.command(AGENT, "claim 3")
    updated = str(h.current(card)["blocks"])
    assert "In progress" in updated and "Similar past tickets" in updated


async def test_a_private_tickets_dm_card_is_the_receipt_with_what_may_help(
        h: Harness) -> None:
    await h.open_ticket(ALICE, subject="Invoice address wrong", description="Old street "
                        "on the invoice.")
    await h.command(AGENT, "resolve 1 Updated the address and re-issued the invoice.")
    await h.open_ticket(ALICE, subject="Invoice shows old address", shared=False,
                        description="The invoice still has our old street.")
    dm_card = h.cards(ALICE_DM)[-1]
    text = str(dm_card["blocks"])
    assert "We have your ticket" in text and "These may help" in text
    assert "*#1* Invoice address wrong" in text
    assert "Similar past tickets" not in text  # the agents' part stays on the team card
