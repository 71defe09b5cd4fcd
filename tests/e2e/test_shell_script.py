"""A script piped into ``helpthread run``: a requester and an agent work one ticket."""

from __future__ import annotations

from collections.abc import Callable
from subprocess import CompletedProcess

SCRIPT = """\
/as lena
/ticket new category=refund subject="Charged twice for order 77" \
description="Two captures of 12.50 on my card." receipt=RC-77 card_last4=1234
/as sam --agent
/ticket claim 1
/ticket reply 1 Sorry about that, Lena. Checking the payment log now.
/ticket note 1 Payment log shows two captures; refund one.
/ticket resolve 1 Refunded one capture; allow 5-10 business days.
/as lena
/ticket reopen 1
/ticket show 1
"""


def test_requester_and_agent_transcript(
        run_helpthread: Callable[..., CompletedProcess[str]]) -> None:
    done = run_helpthread(SCRIPT)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    lines = out.splitlines()

    assert "(to lena) Opened #1: Charged twice for order 77." in out
    assert "[DM to lena] We have your ticket #1: Charged twice for order 77" in out
    assert "[#1 team thread] New ticket:" in out
    assert "[#1 ticket thread] sam claimed #1; it is in progress." in out
    assert "[#1 ticket thread] sam: Sorry about that, Lena." in out  # reaches the requester
    assert "[#1 team thread] sam: Sorry about that, Lena." in out  # the team keeps a copy
    note_lines = [line for line in lines if "Payment log shows two captures" in line]
    assert note_lines and all(line.startswith(("sam> ", "[#1 team thread]"))
                              for line in note_lines)
    assert "[#1 ticket thread] sam resolved #1: Refunded one capture" in out
    assert "[#1 ticket thread] lena reopened #1; it is in progress." in out
    assert "(to lena) Done: #1 is in progress." in out
    assert "1234" not in out.replace("card_last4=••••", "")


def test_bad_input_is_refused_by_name_and_the_form_asks_again(
        run_helpthread: Callable[..., CompletedProcess[str]]) -> None:
    script = (
        "/as lena\n"
        "/ticket new category=refund description=\"x\" subject=\"Refund please\"\n"
        "\n"
        "RC-1\n"
        "/ticket new category=general subject=\"bad\x07bell\" description=\"d\"\n"
        "fine subject\n"
        "/ticket new\n"
        "/ticket list\n"
        "/ticket claim #1\n"  # lena is in #2's thread: another ticket is #1
        "/ticket show #99\n"
        "/thread 1 team\n"
        "psst\n"
    )
    done = run_helpthread(script)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "(to lena) Receipt number?" in out
    assert "(to lena) Opened #1: Refund please." in out
    assert "(to lena) subject: contains a control character (U+0007)" in out
    assert "(to lena) Opened #2: fine subject." in out
    assert "(to lena) Category?" in out
    assert "(to lena) Form cancelled; nothing was opened." in out
    assert "(to lena) Refused: only agents can claim tickets" in out
    assert "(to lena) Refused: there is no ticket #99" in out
    assert "(to lena) Refused: only agents can enter a team thread" in out


def test_form_edges_found_in_review(run_helpthread: Callable[..., CompletedProcess[str]]) -> None:
    script = (
        "/as lena\n"
        # a sensitive key in another case is still the field: masked, stored, never echoed
        "/ticket new category=refund description=\"double charge\" receipt=R9 Card_Last4=4242"
        " subject=\"Refund\"\n"
        # a required field left empty is asked again
        "/ticket new category=general\n"
        "\n"
        "Printer on fire\n"
        "It smokes.\n"
        # a share= that is neither yes nor no is refused with the line: nothing opens
        "/ticket new category=general subject=s description=d share=maybe\n"
        "/ticket new category=general subject=\"x\" stray description=d\n"
        "/ticket new category=general subject=s2 description=d receipt=RC1\n"
        "/ticket new category=general subject=\"bell\x07\u202e\" description=d\n"
        "/as sam --agent\n"
        "/ticket new for: category=general subject=s3 description=d\n"
    )
    done = run_helpthread(script)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "4242" not in out and "Card_Last4=••••" in out
    assert "(to lena) Opened #1: Refund." in out
    assert "(to lena) subject: is required and cannot be empty" in out
    assert "(to lena) Opened #2: Printer on fire." in out
    assert "(to lena) share: 'maybe' is not yes or no; say yes or no" in out
    assert ("(to lena) new: 'stray' cannot be placed: words outside key=value are the "
            "subject, and subject= is given; put them inside a field's quotes or leave "
            "them out") in out  # it once blamed the subject ("is given twice")
    assert "(to lena) receipt: is not a field of category 'general'" in out
    assert "Nothing was opened." in out
    assert "\\u0007\\u202e" in out and "\x07" not in out and "\u202e" not in out
    assert "(to sam) for: name the requester with a mention right after it" in out
    assert "Opened #3" not in out and "Opened #4" not in out
