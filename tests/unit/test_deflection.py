"""Deflection's pure parts and its configuration: ``[[faq]]`` and ``[deflection]``
checked at load naming the key, FAQ matching, the words a full-text match is made of,
and the semantic ranking's model (skipped without the ``wordllama`` package)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings
from core.config import DeskConfig, FaqEntry
from core.deflection import FAQ_MAX, WORDS_MAX, faq_matches, query_words
from core.semantic import rank, unit
from tests.support.semantic import needs_wordllama


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> DeskConfig:
    path = tmp_path / "helpthread.toml"
    path.write_text(text)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    return load_settings()[1]


FAQ = '''
[[faq]]
title = "Where is my refund?"
answer = "Refunds reach the card 5-10 business days after we send them."
keywords = ["refund", "money back", "chargeback"]

[[faq]]
title = "Resetting a password"
answer = """Use the link on the sign-in page.
It lasts 30 minutes."""
'''


def test_faq_entries_load_from_the_config_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = load(tmp_path, monkeypatch, FAQ)
    assert [e.title for e in config.faq] == ["Where is my refund?", "Resetting a password"]
    assert config.faq[0].keywords == ("refund", "money back", "chargeback")
    assert config.faq[1].keywords == () and "\n" in config.faq[1].answer
    assert config.deflection.ranking == "fulltext"


@pytest.mark.parametrize(("text", "message"), [
    ('[[faq]]\ntitle = " "\nanswer = "y"\n', r"faq\.0\.title: is blank"),
    ('[[faq]]\ntitle = "x"\nanswer = ""\n', r"faq\.0\.answer: is blank"),
    ('[[faq]]\nanswer = "y"\n', r"faq\.0\.title: Field required"),
    ('[[faq]]\ntitle = "x"\nanswer = "y"\nkeywords = "refund"\n',
     r"faq\.0\.keywords: write a list"),
    ('[[faq]]\ntitle = "x"\nanswer = "y"\nkeywords = ["ok", ""]\n',
     r"faq\.0\.keywords\.1: is blank"),
    ('[[faq]]\ntitle = "x\\u0007"\nanswer = "y"\n', r"faq\.0\.title: contains a control"),
    ('[[faq]]\ntitle = "x"\nanswer = "y"\nkeyword = ["z"]\n',
     r"faq\.0\.keyword: Extra inputs are not permitted"),
    ('[deflection]\nranking = "magic"\n', r"deflection\.ranking: Input should be "
     r"'fulltext' or 'semantic'"),
])
def test_bad_faq_or_deflection_keys_stop_the_load_naming_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, monkeypatch, text)


def test_semantic_without_the_extra_is_refused_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wordllama", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"deflection\.ranking: semantic needs the "
                                          r"optional extra helpthread\[semantic\]"):
        load(tmp_path, monkeypatch, '[deflection]\nranking = "semantic"\n')


ENTRIES = (
    FaqEntry(title="Where is my refund?", answer="5-10 days.",
             keywords=("refund", "money back", "chargeback")),
    FaqEntry(title="Resetting your password", answer="Use the link.",
             keywords=("reset link",)),
    FaqEntry(title="Pixel setup guide", answer="See the docs.", keywords=("pixel",)),
    FaqEntry(title="Café opening hours", answer="9 to 5.", keywords=("cafe",)),
)


def titles(subject: str, description: str) -> list[str]:
    return [f.title for f in faq_matches(ENTRIES, subject, description)]


def test_faq_keywords_match_words_and_phrases_case_and_accents_aside() -> None:
    assert titles("MONEY BACK?", "") == ["Where is my refund?"]
    assert titles("Refunds", "") == []  # a word is a whole word
    assert titles("money", "back") == []  # a phrase does not span subject and description
    assert titles("Question", "The RÉSET LINK expired") == ["Resetting your password"]
    assert titles("Café", "") == ["Café opening hours"]
    assert titles("CAFE", "") == ["Café opening hours"]


def test_faq_best_first_at_most_three() -> None:
    found = titles("Refund and chargeback", "money back, pixel, reset link, cafe")
    assert len(found) == FAQ_MAX and found[0] == "Where is my refund?"  # three keywords


def test_faq_title_words_match_when_two_or_more() -> None:
    assert titles("Password", "") == []
    assert titles("Resetting my password", "") == ["Resetting your password"]


def test_query_words_drop_stop_words_and_repeats() -> None:
    words = query_words("Hi, I need HELP with my refund", "The refund for order 5512 is "
                        "still not here. Thanks!")
    assert words == ("refund", "order", "5512")
    assert query_words("a the of", "!!! ???") == ()
    assert len(query_words(" ".join(f"word{i}" for i in range(50)), "")) == WORDS_MAX
    assert query_words("x" * 65 + " printer", "") == ("printer",)


def test_rank_orders_by_cosine_then_newest() -> None:
    a, b, c = unit([1.0, 0.0]), unit([0.6, 0.8]), unit([0.0, 1.0])
    assert rank(a, [(1, c), (2, b), (3, a), (4, a)], 3) == [4, 3, 2]
    assert rank(a, [(1, b"short")], 3) == []  # another model's size is skipped


@needs_wordllama
def test_the_shipped_model_loads_offline_and_knows_paraphrases(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from core.semantic import WordLlamaEmbedder
    # nothing may be fetched: no network route, no Hugging Face
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    model = WordLlamaEmbedder()
    refund = model.embed("I was charged twice and want my money back")
    candidates = [(1, model.embed("Duplicate charge refunded to the card")),
                  (2, model.embed("Password reset link expired")),
                  (3, model.embed("Tracking pixel not firing on checkout"))]
    assert rank(refund, candidates, 1) == [1]
