"""A search hit's snippet on every platform's listing: shown under its line, as the
user's plain text (escaped for Slack's mrkdwn and Discord's markdown, no mentions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.render import listing as discord_listing
from adapters.shell.views import listing as shell_listing
from adapters.slack.answers import listing as slack_listing
from core.errors import Invalid
from core.grammar import ticket_number
from core.search import folded_tokens, parse, snippet, tokens
from core.tickets import Status
from core.views import Listed
from tests.support.memory import MemoryStores
from tests.support.people import desk_config, form, make_desk, person

LENA = person("lena")
HOSTILE = "<!channel> @everyone **bold** see <https://evil.test|here>"


async def hit() -> Listed:
    desk = make_desk(MemoryStores())
    await desk.open_ticket(LENA, form(subject="Printer", description=f"printer {HOSTILE}"))
    [found] = await desk.search(LENA, "printer")
    assert found.snippet is not None and "printer" in found.snippet
    return found


async def test_the_shell_shows_the_snippet_under_the_line() -> None:
    lines = shell_listing([await hit()], "none")
    assert lines[0].startswith("  #1 [open] Printer")
    assert lines[1].strip().startswith("printer <!channel>")


async def test_slack_quotes_the_snippet_escaped() -> None:
    text = slack_listing([await hit()], "none")
    quoted = text.splitlines()[1]
    assert quoted.startswith(">printer &lt;!channel&gt;")
    assert "<!channel>" not in text and "<https://evil.test" not in text


async def test_discord_quotes_the_snippet_without_markdown_or_mentions() -> None:
    text = discord_listing([await hit()], "none")
    quoted = text.splitlines()[1]
    assert quoted.startswith("> printer")
    assert "@everyone" not in text and "\\*\\*bold\\*\\*" in quoted


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_splits_as_the_unicode_rule_splits_it(text: str) -> None:
    assert tokens(text) == folded_tokens(text)


def test_a_snippet_is_cut_around_the_first_text_holding_a_word() -> None:
    terms = parse("refund", desk_config(), LENA.ref).terms
    words = " ".join(f"w{i}" for i in range(30))
    assert snippet(["no match here", f"{words} REFUND! {words}"], terms) == (
        "… w24 w25 w26 w27 w28 w29 REFUND! w0 w1 w2 w3 w4 w5 w6 …")
    assert snippet(["Café crème", "refund"], parse("creme", desk_config(), LENA.ref).terms
                   ) == "Café crème"
    assert snippet(["nothing"], terms) is None
    assert snippet(["a (refund) b", "x"], terms) == "a (refund) b"
    assert snippet(["pre-refund b"], terms) == "pre-refund b"


@given(st.lists(st.sampled_from(["refund", "Refund,", "x-refund", "a", "b\tc", "é", "(", ""]),
                max_size=40))
def test_a_snippet_starts_at_the_chunk_the_unicode_rule_finds(chunks: list[str]) -> None:
    text = " ".join(chunks)
    terms = parse("refund", desk_config(), LENA.ref).terms
    words = text.split()
    first = next((i for i, c in enumerate(words) if "refund" in folded_tokens(c)), None)
    cut = snippet([text], terms)
    if first is None:
        assert cut is None
    else:
        start, end = max(0, first - 6), min(len(words), first + 8)
        assert cut == ("… " if start else "") + " ".join(words[start:end]) + (
            " …" if end < len(words) else "")


def test_a_repeated_status_means_any_of_them_and_another_repeated_filter_is_refused(
) -> None:
    config = desk_config()
    both = parse("status:waiting status:on_hold", config, LENA.ref)
    assert both.statuses == frozenset({Status.WAITING, Status.ON_HOLD})
    assert parse("status:open status:all", config, LENA.ref).statuses is None
    assert parse("priority:high priority:HIGH", config, LENA.ref).priority == "high"
    for query, field in (("priority:high priority:low", "priority"),
                         ("after:2026-01-01 after:2026-02-01", "after"),
                         ("assignee:me assignee:none", "assignee")):
        with pytest.raises(Invalid) as refused:
            parse(query, config, LENA.ref)
        assert refused.value.field == field and "once" in str(refused.value)


def test_words_fold_case_and_accents_and_split_on_punctuation() -> None:
    assert tokens("Café-au-LAIT, lena@example.test 東京") == (
        "cafe", "au", "lait", "lena", "example", "test", "東京")
    query = parse('refund "double charge" -paypal #3 42 status:open', desk_config(),
                  LENA.ref)
    assert [(t.words, t.negated) for t in query.terms] == [
        (("refund",), False), (("double", "charge"), False), (("paypal",), True),
        (("42",), False)]
    assert query.numbers == (3,) and query.bare_number is None
    assert parse("42", desk_config(), LENA.ref).bare_number == 42
    assert parse('"unclosed phrase', desk_config(), LENA.ref).terms[0].words == (
        "unclosed", "phrase")


@pytest.mark.parametrize("number", ["#0", "#999999999999"])
def test_a_number_show_refuses_search_refuses_for_the_same_reason(number: str) -> None:
    """They once said "Nothing found" where ``show`` names what is wrong."""
    with pytest.raises(Invalid) as shown:
        ticket_number(number)
    with pytest.raises(Invalid) as searched:
        parse(f"printer {number}", desk_config(), LENA.ref)
    assert (searched.value.field, searched.value.reason) == ("search", shown.value.reason)


def test_a_query_of_symbols_alone_has_no_words() -> None:
    with pytest.raises(Invalid, match="'🎉' has no words to search for"):
        parse("🎉", desk_config(), LENA.ref)
    with pytest.raises(Invalid, match="type some words"):
        parse("   ", desk_config(), LENA.ref)


@pytest.mark.parametrize(("query", "meant"), [
    ("stauts:open", "status"), ("categroy:billing", "category"),
    ("printer asignee:me", "assignee"), ("requestor:none", "requester"),
    ("priorty:high", "priority"), ("aftr:2026-01-01", "after")])
def test_a_misspelt_filter_is_refused_naming_the_filter_meant(query: str, meant: str) -> None:
    """It used to be searched as two words and answered "Nothing found"."""
    with pytest.raises(Invalid) as refused:
        parse(query, desk_config(), LENA.ref)
    assert refused.value.field == "search"
    assert f"did you mean {meant}:?" in refused.value.reason


def test_other_words_with_a_colon_are_words() -> None:
    query = parse('error:404 foo:bar "stauts:open" http://printer.test/a', desk_config(),
                  LENA.ref)
    assert [t.words for t in query.terms] == [
        ("error", "404"), ("foo", "bar"), ("stauts", "open"), ("http", "printer", "test", "a")]
    # near a filter's name, but not a value that filter takes (a second trial's words)
    for words in ("request:REQ-123", "assigned:false", "later:tonight", "stats:page",
                  "requestor:bob", "time:10:30"):
        assert parse(words, desk_config(), LENA.ref).terms, words
    assert parse("Status:Open", desk_config(), LENA.ref).statuses is not None
