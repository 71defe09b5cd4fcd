"""``helpthread doctor``'s rules without a network: how a Slack credential's kind is
judged, and how the report is written (aligned, control characters shown as ``?``,
the summary naming what counts)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from adapters.slack.doctor import checks as slack_checks
from adapters.slack.plugin import SlackCredentials, SlackSettings
from bot.doctor_view import lines, printable, summary
from core.checks import Check, Outcome, Probe, failed, ok, skipped, warning
from core.config import DeskConfig, TranscriptsSection

SECRET = "0123456789abcdef0123456789abcdef"
SECTION = SlackSettings(support_channel="C1", team_channel="C2")


def _slack(**credentials: str) -> list[Check | Probe]:
    given = SlackCredentials(**{k: SecretStr(v) for k, v in credentials.items()})
    return slack_checks(SECTION, given, DeskConfig(), TranscriptsSection())


@pytest.mark.parametrize(("credentials", "outcome", "says"), [
    ({"slack_bot_token": "xoxb-1-2-abc", "slack_signing_secret": SECRET}, Outcome.OK,
     "HTTP mode"),
    ({"slack_bot_token": "xoxb-1-2-abc", "slack_app_token": "xapp-1-A-2"}, Outcome.OK,
     "Socket Mode"),
    ({"slack_bot_token": "xoxp-1-2-abc", "slack_signing_secret": SECRET}, Outcome.FAILED,
     "is a user token"),
    ({"slack_bot_token": "xapp-1-A-2", "slack_signing_secret": SECRET}, Outcome.FAILED,
     "is an app-level token"),
    ({"slack_bot_token": "xoxb-1-2-abc", "slack_app_token": "xoxb-1-2-abc"},
     Outcome.FAILED, "SLACK_APP_TOKEN: does not start with xapp-"),
    ({"slack_bot_token": "xoxe.xoxb-1-abc", "slack_signing_secret": SECRET},
     Outcome.WARNING, "rotating bot token"),
    ({"slack_bot_token": "xoxb-1-2-abc", "slack_signing_secret": "client-secret"},
     Outcome.WARNING, "is not 32 hex digits"),
])
def test_a_slack_credential_is_judged_by_its_kind(credentials: dict[str, str],
                                                  outcome: Outcome, says: str) -> None:
    first = _slack(**credentials)[0]
    assert isinstance(first, Check)
    assert first.outcome is outcome and says in first.detail, first
    assert all(v not in first.detail for v in credentials.values())


def test_the_api_is_asked_only_with_credentials_run_would_take() -> None:
    assert any(isinstance(i, Probe) for i in _slack(slack_bot_token="xoxb-1",
                                                    slack_signing_secret=SECRET))
    assert not any(isinstance(i, Probe) for i in _slack(slack_bot_token="xoxb-1"))
    assert slack_checks(SlackSettings(), SlackCredentials(), DeskConfig(),
                        TranscriptsSection()) == [], "no Slack: nothing said of it"


def test_lines_are_aligned_and_never_drive_the_terminal() -> None:
    shown = lines([ok("Config", "read x"), failed("Slack auth.test", "bad\x1b[31m\nname")])
    assert shown[0] == "ok       Config           read x"
    assert shown[1] == "FAILED   Slack auth.test  bad?[31m?name"
    assert printable("a\tb\x07") == "a?b?"


def test_the_summary_counts_and_says_what_it_means() -> None:
    assert summary([ok("a", ""), ok("b", "")]) == "2 ok: ready for `helpthread run`."
    assert summary([ok("a", ""), warning("b", ""), warning("c", ""), skipped("d", "")]) \
        == "1 ok, 2 warnings, 1 skipped: `helpthread run` can start; read the warnings."
    assert summary([warning("b", ""), failed("c", "")]).startswith(
        "1 warning, 1 FAILED: fix what FAILED")
