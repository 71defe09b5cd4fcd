"""A search hit's snippet on every platform's listing: shown under its line, as the
user's plain text (escaped for Slack's mrkdwn and Discord's markdown, no mentions)."""

from __future__ import annotations

import pytest

from adapters.discord.render import listing as discord_listing
from adapters.shell.views import listing as shell_listing
from adapters.slack.answers import listing as slack_listing
from core.errors import Invalid
from core.grammar import ticket_number
from core.search import parse, tokens
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
