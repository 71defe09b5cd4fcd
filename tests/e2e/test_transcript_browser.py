"""``/ticket transcript N`` from the real ``helpthread`` process (the shell writes the
files), then the HTML opened in a real browser — Debian's headless Chromium — which
renders it (a screenshot) and runs nothing a comment smuggled in (issue 12, point 5).

Where no headless Chromium is installed the browser test skips, saying why (as the
PostgreSQL tests do); ``.ci/run`` installs ``chromium-headless-shell``.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]
BROWSERS = ("chromium-headless-shell", "chrome-headless-shell", "chromium", "chromium-browser")
BROWSER_PATHS = ("/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium")
# What a script would do if it ran: change the title and add an element.
SCRIPT = ("<script>document.title='pwned';document.body.insertAdjacentHTML('beforeend',"
          "'<p id=ran-script>ran</p>')</script>")
IMG = ("<img src=x onerror=\"document.title='owned';document.body.insertAdjacentHTML("
       "'beforeend','<p id=ran-onerror>ran</p>')\">")
DESK = f"""\
/as lena
/ticket new category=general subject="Printer <b>on</b> fire" description="It is smoking."
/thread 1
Still broken {SCRIPT}
{IMG}
/as sam --agent
/ticket claim 1
/ticket note 1 Internal: check the toner supplier
/ticket reply 1 Try turning it off and on again.
/ticket transcript 1
"""


class Dom(HTMLParser):
    """Elements (tag, attributes), text and title of a page as a parser reads them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.title = ""
        self._in_title = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_title:
            self.title += data


def find_browser() -> str | None:
    """A headless Chromium on PATH or where Debian installs it, else None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in BROWSER_PATHS if os.access(p, os.X_OK)), None)


def require_browser() -> str:
    browser = find_browser()
    if browser is None:
        pytest.skip("no headless Chromium (looked for " + ", ".join(BROWSERS) + " on PATH "
                    "and in /usr/lib/chromium): apt-get install chromium-headless-shell, "
                    "as .ci/run does")
    return browser


def browse(browser: str, tmp: Path, *args: str) -> str:
    """Runs the browser headless on ``args`` (a throwaway profile, no sandbox: CI runs as
    root) and returns its standard output."""
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated scanlines of a PNG (no imaging library needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG signature"
    at, width, height, idat = 8, 0, 0, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture
def transcript(run_helpthread: Run, tmp_path: Path) -> Path:
    """The agent's transcript of a ticket with hostile text, as the shell wrote it."""
    done = run_helpthread(DESK)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    at = out.index("(to sam) Transcript of #1:")
    assert out[at + 1:at + 3] == ["           transcripts/ticket-1-sam+internal.html",
                                  "           transcripts/ticket-1-sam+internal.md"]
    return tmp_path / "transcripts" / "ticket-1-sam+internal.html"


def test_each_viewer_gets_their_own_files(run_helpthread: Run, tmp_path: Path) -> None:
    """Both copies were once written to ``ticket-1-transcript.html``: the path printed to
    lena could hold the agent's copy, internal notes and all."""
    done = run_helpthread(DESK + "/as lena\n/ticket transcript 1\n"
                          "/as sam --agent\n/ticket transcript 1\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    at = out.index("(to lena) Transcript of #1:")
    assert out[at + 1:at + 3] == ["            transcripts/ticket-1-lena.html",
                                  "            transcripts/ticket-1-lena.md"]
    for name in ("ticket-1-lena.html", "ticket-1-lena.md"):
        lenas = (tmp_path / "transcripts" / name).read_text(encoding="utf-8")
        assert "Try turning it off and on" in lenas
        assert "toner supplier" not in lenas and "internal notes included" not in lenas
    agents = (tmp_path / "transcripts" / "ticket-1-sam+internal.md").read_text("utf-8")
    assert "Internal: check the toner supplier" in agents
    assert sorted(p.name for p in (tmp_path / "transcripts").iterdir()) == [
        "ticket-1-lena.html", "ticket-1-lena.md", "ticket-1-sam+internal.html",
        "ticket-1-sam+internal.md"]


def test_the_shell_writes_the_page_and_the_markdown(transcript: Path) -> None:
    page = transcript.read_text(encoding="utf-8")
    markdown = transcript.with_suffix(".md").read_text(encoding="utf-8")
    text = "".join(Dom(page).text)
    for wanted in ("#1 · Printer <b>on</b> fire", "It is smoking.", f"Still broken {SCRIPT}",
                   IMG, "Internal: check the toner supplier", "Try turning it off and on",
                   "claimed #1 · status: In progress", "via shell"):
        assert wanted in text, wanted
    assert "Printer \\<b\\>on\\</b\\> fire" in markdown
    assert "> Still broken \\<script\\>document.title='pwned'" in markdown


def test_the_page_renders_in_chromium_and_runs_nothing(transcript: Path,
                                                       tmp_path: Path) -> None:
    browser = require_browser()
    # The probe works: this browser runs a page's script before it dumps the DOM.
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><title>before</title><body>" + SCRIPT, "utf-8")
    ran = browse(browser, tmp_path, "--dump-dom", control.as_uri())
    assert "<title>pwned</title>" in ran and '<p id="ran-script">' in ran

    dom = browse(browser, tmp_path, "--dump-dom", transcript.as_uri())
    seen = Dom(dom)
    assert seen.title == "#1 · Printer <b>on</b> fire — Helpthread transcript"
    assert "ran-script" not in [a.get("id") for _, a in seen.tags]
    assert "ran-onerror" not in [a.get("id") for _, a in seen.tags]
    assert [t for t, _ in seen.tags if t in ("script", "img", "b")] == [], \
        "the comment's markup stayed text"
    text = "".join(seen.text)
    assert f"Still broken {SCRIPT}" in text and IMG in text, "shown as the person wrote it"

    shot = tmp_path / "transcript.png"
    browse(browser, tmp_path, f"--screenshot={shot}", "--window-size=1000,1400",
           "--hide-scrollbars", transcript.as_uri())
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 1400)
    assert shot.stat().st_size > 20_000 and len(set(pixels)) > 50, "a page, not a blank"
