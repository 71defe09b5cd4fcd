"""``helpthread report`` as a process (issue 12, point 4): a desk worked through the shell,
then the report printed as a table, the chart written as a PNG that decodes, and an
HTML page that carries everything inline (the chart as a data: URI, no scripts)."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.png import assert_png

SCRIPT = """\
/ticket new category=billing subject="Charged twice" description="Two charges on my card"
/ticket new category=technical subject="Pixel <b>down</b>" description="No sales since Monday"
/as sam --agent
/ticket reply 1 Refunding the second charge now
/ticket resolve 1 Refund sent to the card
/as lena
/ticket rate #1 good
"""


def _helpthread(tmp_path: Path, *args: str, script: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([HELPTHREAD, *args], input=script, text=True, capture_output=True,
                          cwd=tmp_path, env={**clean_env(tmp_path)},
                          timeout=120)


def test_report_prints_figures_and_writes_png_and_html(tmp_path: Path) -> None:
    worked = _helpthread(tmp_path, "shell", "--as", "lena", script=SCRIPT)
    assert worked.returncode == 0, worked.stderr
    png, page = tmp_path / "stats.png", tmp_path / "stats.html"
    done = _helpthread(tmp_path, "report", "--since", "7d", "--png", str(png),
                       "--html", str(page))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Stats, 7d: ")
    # opened 2, resolved 1, backlog 1; satisfaction 1 good of 1 rated
    assert re.search(r"All tickets\s*│\s*2\s*│\s*1\s*│\s*1\s*│.*100% \(1/1\)\s*│$", out, re.M), out
    assert re.search(r"Billing & payments\s*│\s*1\s*│\s*1\s*│\s*0", out), out
    assert re.search(r"│ sam\s*│", out) and re.search(r"│ unassigned\s*│", out)
    assert f"Wrote {png}" in out and f"Wrote {page}" in out
    assert_png(png.read_bytes())

    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    assert "<th scope=\"row\">Billing &amp; payments</th>" in html
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(embedded) == 1
    assert_png(base64.b64decode(embedded[0]))


def test_report_refuses_a_bad_period_by_name(tmp_path: Path) -> None:
    done = _helpthread(tmp_path, "report", "--since", "last week")
    assert done.returncode == 2
    assert done.stderr.startswith("helpthread: report: period: write it like 7d")
    assert done.stdout == ""
