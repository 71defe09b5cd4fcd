"""Issue 9 point 4 in Slack: `/ticket` text read by core.grammar, errors rendered as Invalid."""

from __future__ import annotations

from tests.platform.slack.harness import AGENT, ALICE, Harness


async def test_parse_errors_name_the_argument_like_every_invalid(h: Harness):
    await h.open_ticket()
    cases = {
        "show 1 2": ":warning: show: '2' is more than /ticket show takes",
        "claim 1x": ":warning: number: '1x' is not a ticket number",
        "claim 1234567890": ":warning: number: '1234567890' is too long",
        "claim 0": ":warning: number: tickets are numbered from 1",
        "list open junk": ":warning: list: 'junk' is not one of",
        'search "open quote': ":warning: search: has a quote that is not closed",
        "priority 1 extreme": ":warning: priority: 'extreme' is not a priority",
        "fro\x07b": ":warning: command: 'fro\\u0007b' is not a /ticket command",
        "new priority=high": ":warning: priority: cannot be given on the /ticket line",
        "new visibility=private": ":warning: visibility: cannot be given on the /ticket",
        "new Share=yes": ":warning: share: cannot be given on the /ticket line",
        "new share=yes visibility=no": ":warning: visibility: is given twice",
        "new colour=red": ":warning: colour: is not a field of the ticket form",
        "new description=": ":warning: description: is empty; write a value after",
    }
    for text, expected in cases.items():
        await h.command(AGENT, text)
        assert h.told()[-1].startswith(expected), (text, h.told()[-1])
        assert "\x07" not in h.told()[-1]


async def test_changes_run_through_the_grammar(h: Harness):
    await h.open_ticket()
    await h.open_ticket(subject="Second one")
    await h.command(AGENT, "link #2 duplicate_of 1")
    assert h.told()[-1] == "Done: #2 is linked to #1."
    await h.command(AGENT, "priority #1 URGENT")
    assert h.told()[-1] == "Done: #1 is now urgent priority."
    await h.command(AGENT, "wait 1 Which &lt;browser&gt; &amp; version?")
    assert h.told()[-1] == "Done: #1 is waiting."


async def test_new_fills_category_and_description_inline(h: Harness):
    await h.command(ALICE, 'new category=Refund description="It broke" Refund please')
    blocks = {b.get("block_id"): b for b in h.last_view()["blocks"]}
    assert blocks["category"]["element"]["initial_option"]["value"] == "refund"
    assert blocks["subject"]["element"]["initial_value"] == "Refund please"
    assert blocks["description"]["element"]["initial_value"] == "It broke"
