"""Slack text in and out (issue 3, point 8): escaping, Slack markup, long text."""

from __future__ import annotations

from adapters.slack.text import chunks, escape, from_slack, link, message_text


def test_escape_turns_every_control_sequence_into_text():
    assert escape("<!channel> & <@U1> > x") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &gt; x"


def test_slack_markup_becomes_readable_plain_text():
    text = ("<!here> see <https://x.io/a?b=1|the doc>, ask <@U123|ada> in <#C9|general> "
            "&amp; <!subteam^S1|@support> &lt;3 <mailto:a@b.c|a@b.c>")
    assert from_slack(text) == ("@here see the doc (https://x.io/a?b=1), ask @ada in #general "
                                "& @support <3 a@b.c")
    assert escape(from_slack("<!channel>")) == "@channel"


def test_chunks_respect_the_limit_and_never_split_an_entity():
    text = "&" * 1000 + " word" * 900
    pieces = list(chunks(text, 3000))
    assert all(len(p) <= 3000 for p in pieces)
    assert "".join(pieces).replace(" ", "") == escape(text).replace(" ", "")
    assert all(not p.endswith(("&", "&a", "&am", "&amp")) for p in pieces)


def test_a_link_never_carries_markup_of_its_own():
    assert link("https://x.slack.com/archives/C1/p1?thread_ts=1.2&cid=C1", "its thread") == \
        "<https://x.slack.com/archives/C1/p1?thread_ts=1.2&amp;cid=C1|its thread>"
    forged = "https://files.slack.com/x|y> <!channel"
    assert link(forged, "a.png") == "a.png (https://files.slack.com/x|y&gt; &lt;!channel)"
    assert link("javascript:alert(1)", "a.png") == "a.png (javascript:alert(1))"
    assert link("https://ok.example/a", "<b>") == "<https://ok.example/a|&lt;b&gt;>"


def test_a_blocks_only_message_reads_as_its_text_and_literal_brackets_stay_text():
    message = {"text": "", "blocks": [{"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [
            {"type": "text", "text": "a <b> & "},
            {"type": "link", "url": "https://x.io", "text": "docs"}]},
        {"type": "rich_text_list", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "two"}]}]}]}]}
    assert from_slack(message_text(message)) == "a <b> & docs (https://x.io)\none\ntwo"
