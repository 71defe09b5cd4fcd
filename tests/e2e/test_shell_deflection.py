"""Deflection in the shell desk (``helpthread run`` fed a script): the receipt's "These
may help" with a resolved ticket and a ``[[faq]]`` entry, the team card's similar past
tickets with their resolution notes; ``helpthread db embed`` for semantic ranking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.support.semantic import needs_wordllama

FAQ = '''
[[faq]]
title = "Where is my refund?"
answer = "Refunds reach the card 5-10 business days after we send them."
keywords = ["refund", "money back"]
'''

SCRIPT = """\
/as lena
/ticket new category=general subject="Pixel not firing" \
description="No conversions since we moved the checkout to a new domain."
/as sam --agent
/ticket note 1 The tag was copied from the staging container.
/ticket resolve 1 Re-installed the pixel on the new checkout domain.
/as marco
/ticket new category=general subject="Conversions missing" \
description="Our pixel stopped firing after the domain change; also I want my money back."
"""


def test_receipt_and_team_card_offer_what_may_help(
        run_helpthread: Callable[..., CompletedProcess[str]], tmp_path: Path) -> None:
    (tmp_path / "helpthread.toml").write_text(FAQ)
    done = run_helpthread(SCRIPT)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    receipt = out[out.index("[DM to marco] We have your ticket #2"):]
    assert "These may help:" in receipt
    assert "#1 Pixel" not in receipt  # lena's ticket is private: not marco's to see
    assert "FAQ: Where is my refund? — Refunds reach the card" in receipt
    assert "close yours with /ticket close 2" in receipt
    team = out[out.index("[#2 team thread] New ticket:"):]
    assert "Similar past tickets:" in team
    assert "#1 Pixel not firing — resolution: Re-installed the pixel" in team
    assert "staging container" not in receipt  # the note is the team's


def test_a_requester_is_offered_her_own_resolved_ticket(
        run_helpthread: Callable[..., CompletedProcess[str]]) -> None:
    done = run_helpthread(SCRIPT.replace("/as marco", "/as lena"))
    out = done.stdout
    receipt = out[out.index("[DM to lena] We have your ticket #2"):]
    assert "These may help:" in receipt
    assert "#1 Pixel not firing (resolved: Re-installed the pixel" in receipt


@needs_wordllama
def test_semantic_ranking_after_db_embed(
        run_helpthread: Callable[..., CompletedProcess[str]], tmp_path: Path) -> None:
    first = SCRIPT.split("/as marco")[0]
    assert run_helpthread(first).returncode == 0  # full text: no embeddings stored
    (tmp_path / "helpthread.toml").write_text('[deflection]\nranking = "semantic"\n')
    embedded = run_helpthread("", "db", "embed")
    assert embedded.returncode == 0, embedded.stderr
    assert "stored the embeddings of 1 ticket" in embedded.stdout
    done = run_helpthread('/as lena\n/ticket new category=general subject="Sales not '
                          'tracked" description="Since our shop changed its web address '
                          'nothing is counted."\n')
    receipt = done.stdout[done.stdout.index("[DM to lena] We have your ticket #2"):]
    assert "#1 Pixel not firing (resolved:" in receipt
