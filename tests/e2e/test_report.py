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
    assert done.stderr.startswith(
        "helpthread: report: --since 'last week': write it like 7d"), done.stderr
    assert done.stdout == ""


def test_a_period_from_year_one_reports_the_desks_days(tmp_path: Path) -> None:
    """It once walked (and charted) every day since year 1: past 5 GB, never done."""
    worked = _helpthread(tmp_path, "shell", "--as", "lena", script=SCRIPT)
    assert worked.returncode == 0, worked.stderr
    png = tmp_path / "old.png"
    done = _helpthread(tmp_path, "report", "--since", "0001-01-01", "--png", str(png))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Stats, since 0001-01-01: 0001-01-01 00:00 – ")
    assert re.search(r"All tickets\s*│\s*2\s*│\s*1\s*│\s*1\s*│", done.stdout), done.stdout
    assert_png(png.read_bytes())


def test_periods_name_what_is_wrong_and_export_takes_the_same_forms(tmp_path: Path) -> None:
    assert _helpthread(tmp_path, "db", "upgrade").returncode == 0  # both read a desk
    # each rule is core.periods' (tests/unit/test_periods.py); here the two commands'
    # wording of it, and the period as written (it was echoed lower-cased)
    reasons = {"2026-12-07T25:00": "2026-12-07T25:00 is not a date-time",
               "3651D": "3651D is too long a duration (at most 3650d)"}
    for period, reason in reasons.items():
        for command in ("report", "export"):  # both name the option and the value as typed
            done = _helpthread(tmp_path, command, "--since", period)
            assert (done.returncode, done.stderr) == (
                2, f"helpthread: {command}: --since {period!r}: {reason}\n")
    # the same forms: export once took only a date-time, report only a duration
    done = _helpthread(tmp_path, "report", "--since", "2026-01-01T09:30")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Stats, since 2026-01-01T09:30: 2026-01-01 09:30 – ")
    exported = _helpthread(tmp_path, "export", "--since", "30d")
    assert exported.returncode == 0, exported.stderr


def test_png_and_html_paths_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    """``--png out/`` once wrote a file named ``out``; ``--png ""`` said "file '' is a
    directory". A path ending in a separator must be a directory; an existing directory
    gets ``report.png``/``report.html`` in it."""
    missing = _helpthread(tmp_path, "report", "--png", "out/")
    assert (missing.returncode, missing.stderr) == (
        2, "helpthread: report: --png out/: no such directory\n")
    assert not (tmp_path / "out").exists()
    empty = _helpthread(tmp_path, "report", "--html", "")
    assert (empty.returncode, empty.stderr) == (
        2, "helpthread: report: --html: the path is empty; name a file, like --html "
           "report.html\n")
    assert _helpthread(tmp_path, "db", "upgrade").returncode == 0
    (tmp_path / "out").mkdir()
    done = _helpthread(tmp_path, "report", "--png", "out/", "--html", "out")
    assert done.returncode == 0, done.stderr
    assert_png((tmp_path / "out" / "report.png").read_bytes())
    assert (tmp_path / "out" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "Wrote out/report.png" in done.stdout and "Wrote out/report.html" in done.stdout


def test_an_output_that_cannot_be_written_is_refused_before_the_database(
        tmp_path: Path) -> None:
    """``--png /nonexistent/x.png`` printed the whole table, then failed with exit 1: a
    file that cannot be written is refused in one line, exit 2, and the database is not
    opened (no desk file is made)."""
    (tmp_path / "plain.txt").write_text("x")
    for option, value, says in (
            ("--png", "/nonexistent/x.png", "no such directory /nonexistent"),
            ("--html", "missing/deeper/x.html", "no such directory missing/deeper"),
            ("--png", "plain.txt/x.png", "plain.txt is not a directory")):
        done = _helpthread(tmp_path, "report", option, value)
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        assert done.stderr == f"helpthread: report: {option} {value}: {says}\n"
    # one file for both: the HTML would overwrite the chart without a word
    same = _helpthread(tmp_path, "report", "--png", "same.out", "--html", "./same.out")
    assert (same.returncode, same.stderr) == (
        2, "helpthread: report: --html ./same.out: the same file as --png; name another\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]
