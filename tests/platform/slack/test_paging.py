"""Issue 12, point 2 on Slack through real Bolt and the fake Web API: ``/ticket list`` and
``queue`` in pages of 20 with a "More" button that carries the next page and is
authorised again when pressed (a forwarded or forged one shows only what the presser
may see), and the App Home's queue and "my tickets"."""

from __future__ import annotations

from typing import Any

from core.identity import Actor, UserRef
from tests.platform.slack.harness import AGENT, ALICE, BOB, Harness
from tests.support.fake_slack import TEAM
from tests.support.people import form
from tests.support.slack_requests import button_press, event_body

REQUESTERS = [f"U0REQ{n}" for n in range(1, 6)]


def slack(user: str, name: str | None = None) -> Actor:
    return Actor(UserRef("slack", TEAM, user), name or user.title())


async def open_many(h: Harness, count: int, *, priority: str = "normal") -> list[int]:
    """``count`` tickets from five requesters (each within the desk's per-user limits)."""
    numbers = []
    for i in range(count):
        opened = await h.runtime.desk.open_ticket(
            slack(REQUESTERS[i % 5]), form(f"Printer {priority} {i + 1}", category="general",
                                                 priority=priority))
        numbers.append(opened.ticket.number)
        h.clock.advance(1)
    await h.settle()
    return numbers


def lines(answer: dict[str, Any]) -> list[str]:
    return [line for block in answer.get("blocks", []) if block["type"] == "section"
            for line in block["text"]["text"].split("\n") if " *#" in line]


def more(answer: dict[str, Any]) -> dict[str, Any] | None:
    buttons = [e for b in answer.get("blocks", []) if b["type"] == "actions"
               for e in b["elements"] if e["text"]["text"] == "More"]
    return buttons[0] if buttons else None


async def press_more(h: Harness, user: str, answer: dict[str, Any],
                     value: str | None = None) -> dict[str, Any]:
    """``user`` presses "More" under ``answer`` (with ``value``: a forged one)."""
    blocks = answer["blocks"]
    if value is not None:
        blocks = [{**b, "elements": [{**e, "value": value} for e in b["elements"]]}
                  if b["type"] == "actions" else b for b in blocks]
    status, _ = await h.slack.interact(button_press(
        {"blocks": blocks, "ts": None}, user, "More", h.fake.response_url(), "C0GENERAL"))
    assert status == 200
    await h.settle()
    return h.fake.responses[-1]


async def test_list_in_pages_with_a_more_button(h: Harness) -> None:
    numbers = await open_many(h, 21)
    await h.command(AGENT, "list")
    first = h.fake.responses[-1]
    assert first["response_type"] == "ephemeral"
    assert len(lines(first)) == 20 and f"*#{numbers[-1]}*" in lines(first)[0]
    button = more(first)
    assert button is not None and button["value"] == "list open page 2"
    second = await press_more(h, AGENT, first)
    assert second["response_type"] == "ephemeral" and second.get("replace_original") is False
    assert "_Page 2_" in str(second["blocks"]) and more(second) is None
    assert [f"*#{numbers[0]}*" in line for line in lines(second)] == [True]
    await h.command(AGENT, "list open page 3")
    assert "there is no page 3; the list has 2 pages" in h.told()[-1]
    await h.command(REQUESTERS[0], "list")  # a requester: her own five, one page
    assert len(lines(h.fake.responses[-1])) == 5 and more(h.fake.responses[-1]) is None


async def test_a_pressed_more_button_shows_only_what_the_presser_may_see(h: Harness) -> None:
    await open_many(h, 21)
    await h.command(AGENT, "list")
    agents_page = h.fake.responses[-1]
    # Bob, no agent, presses the agent's button (forwarded, or a replayed payload): the
    # desk lists Bob's page 2 — he may see no ticket at all
    await press_more(h, BOB, agents_page)
    assert "there is no page 2; the list is empty" in h.told()[-1]
    await press_more(h, BOB, agents_page, value="queue page 1")
    assert "only agents" in h.told()[-1].lower()
    await press_more(h, BOB, agents_page, value="close 1")
    assert "names no list" in h.told()[-1]
    assert (await h.runtime.desk.show(slack(AGENT), 1)).ticket.status.value == "open"
    await press_more(h, BOB, agents_page, value="list everything page 2")
    assert "is not one of" in h.told()[-1]


async def test_queue_in_pages_for_agents(h: Harness) -> None:
    await open_many(h, 22)
    await h.command(ALICE, "queue page 2")
    assert "only agents" in h.told()[-1].lower()
    await h.command(AGENT, "queue")
    first = h.fake.responses[-1]
    assert len(lines(first)) == 20 and more(first)["value"] == "queue page 2"  # type: ignore[index]
    second = await press_more(h, AGENT, first)
    assert len(lines(second)) == 2 and more(second) is None


async def test_app_home_the_queue_for_agents_my_tickets_for_requesters(h: Harness) -> None:
    normal = await open_many(h, 21)
    urgent = (await h.runtime.desk.open_ticket(slack(ALICE, "Alice"),
                                               form("Site down", category="general",
                                                    priority="urgent"))).ticket
    await h.runtime.desk.claim(slack(AGENT, "Ada Agent"), urgent.number)
    h.clock.advance(2 * 3600)  # its first response (1 h) is overdue: breached
    await h.settle()
    await h.slack.event(_home_opened(AGENT))
    await h.settle()
    home = h.fake.last("views.publish")
    assert home["user_id"] == AGENT and home["view"]["type"] == "home"
    blocks = home["view"]["blocks"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    queue_at = next(i for i, t in enumerate(texts) if t.startswith("*The queue*"))
    queued = [line for t in texts[queue_at + 1:] for line in t.split("\n")]  # ≤ 3000 a block
    assert f"*#{urgent.number}*" in queued[0], "breached first"
    assert f"*#{normal[0]}*" in queued[1], "then unassigned by SLA due"
    assert len(queued) == 20
    assert "More: `/ticket queue page 2`" in str(blocks[-1])
    mine = texts[texts.index("*My open tickets*") + 1]
    assert f"*#{urgent.number}*" in mine  # assigned to the agent
    await h.slack.event(_home_opened(REQUESTERS[0]))
    await h.settle()
    home = h.fake.last("views.publish")
    assert home["user_id"] == REQUESTERS[0]
    text = str(home["view"]["blocks"])
    assert "The queue" not in text and "My open tickets" in text
    assert text.count("*#") == 5 and f"*#{urgent.number}*" not in text


def _home_opened(user: str) -> dict[str, Any]:
    return event_body({"type": "app_home_opened", "user": user, "channel": "D" + user[1:],
                       "tab": "home", "event_ts": "1700000000.1"})


async def test_search_in_pages_keeps_its_words(h: Harness) -> None:
    await open_many(h, 22)
    # Slack sends the text with &, <, > escaped; the button carries it as sent
    await h.command(AGENT, "search printer -&lt;none&gt;")
    first = h.fake.responses[-1]
    assert len(lines(first)) == 20
    assert more(first)["value"] == "search printer -&lt;none&gt; page 2"  # type: ignore[index]
    second = await press_more(h, AGENT, first)
    assert len(lines(second)) == 2 and more(second) is None
    await h.command(AGENT, "search printer page 3")
    assert "there is no page 3; the list has 2 pages" in h.told()[-1]
    await press_more(h, BOB, first)  # bob may see none of them
    assert "there is no page 2; the list is empty" in h.told()[-1]
