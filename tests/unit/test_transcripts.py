"""``/ticket transcript N`` in core: content, escaping, what each viewer may read, and
the Markdown (issue 12, point 5)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from core.clock import FrozenClock
from core.errors import NotFound
from core.events import Attachment
from core.transcripts.history import safe_url
from core.transcripts.markdown import escape_block, escape_line
from tests.support.memory import MemoryStores
from tests.support.people import agent, form, make_desk, person

LENA = person("lena")
MARCO = person("marco")
SAM = agent("sam")
SCRIPT = "<script>document.title='pwned'</script>"
IMG = "<img src=x onerror=\"document.title='owned'\">"


class Tags(HTMLParser):
    """Every start tag and attribute of a page, as a browser's parser would read them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture
def stores() -> MemoryStores:
    return MemoryStores()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def desk(stores: MemoryStores, clock: FrozenClock):
    return make_desk(stores, clock=clock)


async def worked_ticket(desk, clock: FrozenClock) -> int:
    """A ticket with hostile text in every kind of place: a comment, a note, a file."""
    opened = await desk.open_ticket(LENA, form(subject="Export <b>broken</b> & slow",
                                               description="It fails\n# not a heading"))
    n = opened.ticket.number
    clock.advance(300)
    await desk.comment(LENA, n, f"Still broken {SCRIPT} {IMG}", attachments=[
        Attachment("log <1>.txt", 2048, "https://files.example.com/log%201.txt"),
        Attachment("evil.html", 10, "javascript:alert(1)"),
        Attachment("data.html", 10, "data:text/html,<script>alert(1)</script>"),
        Attachment("spaced.txt", None, "https://x.example/a b"),
    ])
    clock.advance(300)
    await desk.note(SAM, n, "Internal: the *customer* is on plan <gold>")
    from core import commands as cmd

    await desk.run(SAM, cmd.Claim(n))
    clock.advance(60)
    await desk.run(SAM, cmd.Escalate(n, "VIP account, secret reason"))
    await desk.reply(SAM, n, "Fixed in 1.2\n- step one\n1. first")
    await desk.run(SAM, cmd.Resolve(n, "Cache cleared, export works"))
    return n


async def test_the_page_has_the_ticket_its_people_times_and_every_message(desk, clock):
    n = await worked_ticket(desk, clock)
    t = await desk.transcript(SAM, n)
    assert t.filename == f"ticket-{n}-transcript.html"
    assert t.markdown_filename == f"ticket-{n}-transcript.md"
    page = Tags(t.html)
    text = "".join(page.text)
    assert f"#{n} · Export <b>broken</b> & slow" in text, "the subject, as text"
    for wanted in ("Resolved", "lena", "sam", "It fails\n# not a heading",
                   "Fixed in 1.2\n- step one",
                   "claimed #1 · status: In progress", "resolved #1 · status: Resolved",
                   "Cache cleared, export works", "Internal: the *customer* is on plan <gold>",
                   "internal note", "log <1>.txt", "2.0 KB", "size unknown"):
        assert wanted in text, wanted
    opened = clock.now() - timedelta(minutes=11)
    assert opened.strftime("%Y-%m-%dT%H:%M:%SZ") in t.html, "UTC, ISO 8601"
    times = [a["datetime"] for tag, a in page.tags if tag == "time"]
    assert times == sorted(times) and all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]{8}Z", x or "")
                                          for x in times)


async def test_user_text_is_escaped_and_nothing_can_run_or_load(desk, clock):
    n = await worked_ticket(desk, clock)
    html = (await desk.transcript(SAM, n)).html
    page = Tags(html)
    assert [tag for tag, _ in page.tags if tag in ("script", "img", "iframe", "object",
                                                    "link", "b", "gold")] == []
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert SCRIPT in "".join(page.text) and IMG in "".join(page.text), "shown as text"
    assert "&lt;script&gt;" in html and "onerror=&quot;" in html
    csp = next(a["content"] for tag, a in page.tags if a.get("http-equiv") ==
               "Content-Security-Policy")
    assert "default-src 'none'" in (csp or "") and "script-src" not in (csp or "")
    assert not re.search(r"(src|href)=\"(https?:)?//", html.split("<main")[0]), \
        "no remote assets in the head"


async def test_attachments_link_only_http_and_https(desk, clock):
    n = await worked_ticket(desk, clock)
    t = await desk.transcript(LENA, n)
    links = [a["href"] for tag, a in Tags(t.html).tags if tag == "a"]
    assert links == ["https://files.example.com/log%201.txt"]
    assert "javascript:" not in t.html and "data:text" not in t.html
    assert "evil.html" in t.html and "data.html" in t.html, "named, without a link"
    assert "[log \\<1\\>.txt](https://files.example.com/log%201.txt)" in t.markdown
    assert "javascript:" not in t.markdown and "(data:" not in t.markdown


@pytest.mark.parametrize(("url", "kept"), [
    ("https://cdn.discordapp.com/a/b.png", "https://cdn.discordapp.com/a/b.png"),
    ("HTTP://files.slack.com/x?y=1&z=(2)", "HTTP://files.slack.com/x?y=1&z=%282%29"),
    ("javascript:alert(1)", None), ("JaVaScRiPt:alert(1)", None),
    (" javascript:alert(1)", None), ("java\tscript:alert(1)", None),
    ("vbscript:x", None), ("data:text/html,hi", None), ("file:///etc/passwd", None),
    ("//evil.example/x", None), ("https:///nohost", None), ("http://[::1", None),
    ("https://ok.example/\x00", None), ("", None),
])
def test_safe_url(url, kept):
    assert safe_url(url) == kept


async def test_notes_and_internal_fields_only_for_agents(desk, clock):
    n = await worked_ticket(desk, clock)
    mine = await desk.transcript(LENA, n)
    theirs = await desk.transcript(SAM, n)
    for hidden in ("Internal: the", "plan", "VIP account"):
        assert hidden not in mine.html and hidden not in mine.markdown, hidden
    assert '<article class="note">' not in mine.html and "**internal note**" not in mine.markdown
    assert '<article class="note">' in theirs.html and "**internal note**" in theirs.markdown
    assert "escalated #1 to level 1" in mine.html, "the change itself is public"
    assert "VIP account, secret reason" in theirs.html
    assert "VIP account, secret reason" in theirs.markdown
    assert "requester&#x27;s side (no internal notes)" in mine.html
    assert "agents (internal notes included)" in theirs.html


async def test_sensitive_fields_never_appear_even_for_agents(desk, clock):
    opened = await desk.open_ticket(LENA, form(category="refund", fields={
        "receipt": "R-77", "card_last4": "4242"}))
    for who in (LENA, SAM):
        t = await desk.transcript(who, opened.ticket.number)
        assert "R-77" in t.html and "4242" not in t.html and "4242" not in t.markdown


async def test_others_cannot_read_it_and_reading_marks_nothing(desk, stores, clock):
    n = await worked_ticket(desk, clock)
    with pytest.raises(NotFound):
        await desk.transcript(MARCO, n)
    with pytest.raises(NotFound):
        await desk.transcript(SAM, 99)
    marks = dict(stores.state.read_marks)
    await desk.transcript(LENA, n)
    await desk.transcript(SAM, n)
    assert stores.state.read_marks == marks, "a transcript is not opening the ticket"
    await desk.show(LENA, n)
    assert stores.state.read_marks != marks


async def test_markdown_keeps_user_text_from_changing_structure(desk, clock):
    n = await worked_ticket(desk, clock)
    md = (await desk.transcript(SAM, n)).markdown
    assert md.startswith("# Helpthread · transcript of #1: Export \\<b\\>broken\\</b\\> "
                         "\\& slow\n")
    assert "> It fails\\\n> \\# not a heading" in md
    assert "> Fixed in 1.2\\\n> \\- step one\\\n> 1\\. first" in md
    assert "\\<script\\>document.title='pwned'\\</script\\>" in md
    assert "\\<img src=x onerror=\"document.title='owned'\"\\>" in md
    assert "Internal: the \\*customer\\* is on plan \\<gold\\>" in md
    assert "- **Status:** Resolved" in md and "- **Requester:** lena" in md
    assert re.search(r"\u2192 \*\*sam\*\* claimed #1 · status: In progress · \S+Z", md)
    assert "- \U0001f4ce evil.html (10 bytes)" in md


@pytest.mark.parametrize(("line", "shown"), [
    ("# title", "\\# title"), ("> quote", "\\> quote"), ("- item", "\\- item"),
    ("+ item", "\\+ item"), ("===", "\\==="), ("12. twelve", "12\\. twelve"),
    ("3) three", "3\\) three"), ("    code", "&nbsp;&nbsp;&nbsp;&nbsp;code"),
    ("[link](javascript:x)", "\\[link\\](javascript:x)"), ("`code`", "\\`code\\`"),
    ("a_b*c~d|e", "a\\_b\\*c\\~d\\|e"), ("&amp;", "\\&amp;"), ("back\\slash", "back\\\\slash"),
    ("plain words, 3.5 kg", "plain words, 3.5 kg"),
])
def test_escape_line(line, shown):
    assert escape_line(line) == shown


def test_escape_block_keeps_lines_and_paragraphs():
    assert escape_block("one\n\ntwo\nthree", "> ") == "> one\n>\n> two\\\n> three"


# ---- [transcripts]: a closed ticket's transcript in a channel per platform ------------


def _closed_plan(routes):
    from datetime import UTC, datetime

    from core.events import Closed, Event
    from core.tickets import Ticket

    now = datetime(2026, 1, 5, tzinfo=UTC)
    t = Ticket(number=5, subject="s", description="d", category="general",
               priority="normal", requester=LENA.person, opened_at=now, source="slack")
    closed = Event(5, Closed(reason="done"), SAM.person, now, "slack", id=9)
    from core.routing import plan_deliveries

    return [(d.platform, d.target.value, d.address, d.audience.value, d.purpose.value)
            for d in plan_deliveries(closed, t, [], routes, now)
            if d.target.value == "channel"]


def test_a_close_sends_its_transcript_to_each_transcripts_channel():
    from core.routing import PlatformRoute

    slack = PlatformRoute(platform="slack", workspace="T1", support_channel="C1",
                          default_team_channel="C2", transcripts_channel="C0LOGS")
    discord = PlatformRoute(platform="discord", workspace="1", support_channel="2",
                            default_team_channel="3")
    assert _closed_plan([slack, discord]) == [
        ("slack", "channel", "C0LOGS", "internal", "transcript")]
    assert _closed_plan([discord]) == [], "no [transcripts] channel: nothing posted"


def _settings(tmp_path, monkeypatch, toml: str):
    from bot.settings import load_settings

    path = tmp_path / "helpthread.toml"
    path.write_text(toml)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    return load_settings()


def test_transcripts_keys_load_into_the_routes(tmp_path, monkeypatch):
    from bot import registry

    loaded = _settings(tmp_path, monkeypatch, """
[slack]
support_channel = "C0SUPPORT"
team_channel = "C0TEAM"
[discord]
guild_id = 111111111111111111
support_channel_id = 222222222222222222
team_channel_id = 333333333333333333
[transcripts]
slack_channel = "C0LOGS"
discord_channel_id = 888888888888888888
""")
    settings, config, _ = loaded
    found = {r.platform: r.transcripts_channel
             for r in registry.routes(settings, config.categories)}
    assert found == {"slack": "C0LOGS", "discord": "888888888888888888"}


@pytest.mark.parametrize(("toml", "refusal"), [
    ('[transcripts]\nslack_chanel = "C0LOGS"\n',
     r"transcripts\.slack_chanel: Extra inputs are not permitted"),
    ('[transcripts]\nslack_channel = "#logs"\n', r"transcripts\.slack_channel: a channel id"),
    ('[transcripts]\ndiscord_channel_id = "logs"\n', r"transcripts\.discord_channel_id: "),
])
def test_a_bad_transcripts_key_is_refused_by_name(tmp_path, monkeypatch, toml, refusal):
    from bot.settings import ConfigError

    with pytest.raises(ConfigError, match=refusal):
        _settings(tmp_path, monkeypatch, toml)
