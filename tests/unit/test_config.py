"""Desk config: durations, defaults, a file plus environment overrides, clear errors."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, ConfigError, load_settings
from core.config import DeskConfig
from core.durations import format_duration, parse_duration, spoken


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("8h", 28800),
                                                ("5d", 432000), (" 2w ", 1209600)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(timedelta(seconds=seconds))).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "5", "h", "5 hours", "-5m", "0s", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


def test_defaults_follow_product() -> None:
    config = DeskConfig()
    assert [c.key for c in config.categories] == [
        "general", "account", "technical", "data", "billing", "refund", "cancellation",
        "content", "abuse"]
    refund = config.category("Refund")
    assert refund is not None
    fields = {f.key: f for f in refund.fields}
    assert fields["receipt"].required and fields["receipt"].max_length == 40
    assert not fields["amount"].required
    assert fields["card_last4"].sensitive and fields["card_last4"].max_length == 4
    assert [f.key for f in config.category("cancellation").fields] == ["receipt"]  # type: ignore[union-attr]
    assert config.sla["low"].resolution == timedelta(days=5)
    assert config.lifecycle.reopen_window == timedelta(days=14)


CONFIG = """
[desk]
name = "Acme Support"
max_open_per_user = 3

[lifecycle]
reopen_window = "7d"

[sla.urgent]
first_response = "30m"
resolution = "4h"

[slack]
support_channel = "C0SUPPORT"
agent_users = ["U0AGENT1"]

[[categories]]
key = "refund"
name = "Refund"
slack_team_channel = "C0BILLING"
fields = [
  { key = "receipt", label = "Receipt number", required = true, max_length = 40 },
]
"""


def test_file_replaces_defaults_and_env_overrides(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    monkeypatch.setenv("HELPTHREAD_DESK__MAX_NEW_PER_HOUR", "9")
    monkeypatch.setenv("HELPTHREAD_LIFECYCLE__REOPEN_WINDOW", "3d")
    settings, config, _ = load_settings()
    assert config.desk.name == "Acme Support"
    assert (config.desk.max_open_per_user, config.desk.max_new_per_hour) == (3, 9)
    assert config.lifecycle.reopen_window == timedelta(days=3)
    assert config.sla["urgent"].first_response == timedelta(minutes=30)
    assert config.sla["normal"].first_response == timedelta(hours=8)  # default kept
    assert [c.key for c in config.categories] == ["refund"]
    assert settings.slack.agent_users == ("U0AGENT1",)
    assert config.agents["slack"].users == frozenset({"U0AGENT1"})
    assert config.categories[0].platform_keys == {"slack_team_channel": "C0BILLING"}


@pytest.mark.parametrize(("content", "env", "key"), [
    ('[lifecycle]\nreopen_window = "soon"\n', {}, "lifecycle.reopen_window"),
    ("[desk]\nmax_open_per_user = 0\n", {}, "desk.max_open_per_user"),
    ("[desk]\nnmae = 'typo'\n", {}, "desk.nmae"),
    ("", {"HELPTHREAD_DESK__MAX_NEW_PER_HOUR": "many"}, "HELPTHREAD_DESK__MAX_NEW_PER_HOUR: "),
    ('[[categories]]\nkey = "Bad Key"\nname = "x"\n', {}, "categories.0.key"),
    ("[sla.whenever]\nfirst_response = '1h'\nresolution = '2h'\n", {}, "sla.whenever: Input"),
    ("[desk\n", {}, "cannot read the configuration"),
    ("", {"HELPTHREAD_SLACK__AGENT_USERS": '["U1"'}, "HELPTHREAD_SLACK__AGENT_USERS: "),
    ('[lifecycle]\nreopen_window = "99999999999d"\n', {}, "lifecycle.reopen_window"),
    ('[[categories]]\nkey = "x"\nname = "y"\nslack_team_chanel = "C1"\n', {},
     "categories.x.slack_team_chanel: Extra inputs are not permitted"),
    ('[[categories]]\nkey = "x"\nname = "y"\ndiscord_team_channel_id = "C1"\n', {},
     "categories.x.discord_team_channel_id: "),
    ("[slack]\nagent_user = ['U1']\n", {}, "slack.agent_user"),
    ('[[categories]]\nkey = "x"\nname = "y"\n[[categories]]\nkey = "y"\nname = "z"\n', {},
     "'y' names both"),
    ('[[categories]]\nkey = "a"\nname = "Same"\n[[categories]]\nkey = "b"\nname = "same"\n',
     {}, "'same' names both"),
    # names the desk shows people are one clean line
    ("", {"HELPTHREAD_DESK__NAME": "   "}, "HELPTHREAD_DESK__NAME: is blank"),
    ('[desk]\nname = "Acme\\u001b[31m"\n', {}, "desk.name: contains a control character"),
    ('[[categories]]\nkey = "x"\nname = "Two\\nlines"\n', {}, "categories.0.name: contains"),
    ('[[categories]]\nkey = "x"\nname = "y"\n[[categories.fields]]\nkey = "f"\n'
     'label = "\\t"\n', {}, "categories.0.fields.0.label: is blank"),
    ("", {"HELPTHREAD_SLA__URGENT__FIRST_RESPONS": "30m"}, "first_respons is not a setting"),
    ("[delivery]\nmax_attempts = 0\n", {}, "delivery.max_attempts"),
    ("", {"HELPTHREAD_DELIVERY__LEASE": "1s"}, "HELPTHREAD_DELIVERY__LEASE: 1s is outside 3s-10m"),
    # the variable overrides a valid key of the file: it is what is named, not the file
    ("[desk]\nmax_open_per_user = 3\n", {"HELPTHREAD_DESK__MAX_OPEN_PER_USER": "abc"},
     "^invalid configuration: HELPTHREAD_DESK__MAX_OPEN_PER_USER: "),
    ("[desk]\nmax_open_per_user = 0\n", {}, "^invalid configuration in .*helpthread.toml: "
     "desk.max_open_per_user: "),
    ("[delivery]\nmax_attempt = 3\n", {}, "delivery.max_attempt"),
    ("[delivery]\nmax_attempts = true\n", {}, "delivery.max_attempts: must be a number"),
])
def test_bad_config_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  content: str, env: dict[str, str], key: str) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text(content)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=key if key.startswith("^") else re.escape(key)):
        load_settings()


HOURS = 'write a list of "days HH:MM-HH:MM" entries, e.g. hours = ["mon-fri 09:00-17:00"]'


@pytest.mark.parametrize(("content", "says"), [
    ('[business_hours]\ntimezone = "UTC"\nhours = "mon-fri 09:00-17:00"\n',
     f"business_hours.hours: {HOURS} (not a string)"),
    ('[business_hours]\ntimezone = "UTC"\nhours = 9\n', f"business_hours.hours: {HOURS} "
     "(not a number)"),
    ('[business_hours]\ntimezone = "UTC"\nhours = [9]\n', f"business_hours.hours: {HOURS} "
     "(item 1 is a number)"),
    ('[business_hours]\ntimezone = "UTC"\nhours = ["daily 09:00-17:00"]\n'
     'holidays = "2026-12-24"\n', "business_hours.holidays: write a list of dates, e.g. "
     'holidays = ["2026-12-24", "2026-12-31"] (not a string)'),
    ('categories = "general"\n', "categories: write a list of [[categories]] tables, e.g. "
     'categories = [{key = "billing", name = "Billing"}] (not a string)'),
    ('categories = ["general"]\n', "categories: write a list of [[categories]] tables, e.g. "
     'categories = [{key = "billing", name = "Billing"}] (item 1 is a string)'),
    ('[[categories]]\nkey = "x"\nname = "y"\nfields = "receipt"\n',
     "categories.0.fields: write a list of [[categories.fields]] tables, e.g. fields = "
     '[{key = "receipt", label = "Receipt"}] (not a string)'),
    ('faq = "refunds"\n', 'faq: write a list of [[faq]] tables, e.g. faq = [{title = '
     '"Refunds", answer = "…", keywords = ["refund"]}] (not a string)'),
    ('[[faq]]\ntitle = "t"\nanswer = "a"\nkeywords = "refund"\n',
     'faq.0.keywords: write a list of words or phrases, e.g. keywords = ["refund"] '
     "(not a string)"),
    ('[slack]\nagent_users = "U1"\n', "slack.agent_users: write a list of Slack user ids, "
     'e.g. agent_users = ["U0123ABCD"] (not a string)'),
    ('[slack]\nagent_groups = {id = "S1"}\n', "slack.agent_groups: write a list of Slack "
     'user group ids, e.g. agent_groups = ["S0123ABCD"] (not a table)'),
    ('[shell]\nagent_groups = "agents"\n', "shell.agent_groups: write a list of group "
     'names, e.g. agent_groups = ["agents"] (not a string)'),
    ('[shell]\nagent_users = true\n', "shell.agent_users: write a list of user names, e.g. "
     'agent_users = ["sam"] (not true or false)'),
])
def test_a_list_key_given_something_else_says_the_shape_with_an_example(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, says: str) -> None:
    """Not pydantic's "Input should be a valid tuple": the key, what a list of it holds,
    an example as written in the file, and what was given instead."""
    path = tmp_path / "helpthread.toml"
    path.write_text(content)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value) == f"invalid configuration in {path}: {says}"


def test_holidays_as_toml_dates_are_still_a_list_of_dates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text('[business_hours]\ntimezone = "UTC"\nhours = ["daily 09:00-17:00"]\n'
                    'holidays = [2026-12-24, "2026-12-31"]\n')
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    _, config, _ = load_settings()
    assert config.business_hours is not None
    assert config.business_hours.holidays == ("2026-12-24", "2026-12-31")


@pytest.mark.parametrize(("written", "read"), [
    ("U0A", ("U0A",)), ("U0A, U0B", ("U0A", "U0B")), ('["U0A","U0B"]', ("U0A", "U0B")),
])
def test_a_list_of_ids_may_be_json_or_comma_separated_in_the_environment(
        monkeypatch: pytest.MonkeyPatch, written: str, read: tuple[str, ...]) -> None:
    monkeypatch.delenv("HELPTHREAD_CONFIG", raising=False)
    monkeypatch.setenv("HELPTHREAD_SLACK__AGENT_USERS", written)
    settings, _, _ = load_settings()
    assert settings.slack.agent_users == read


def test_invalid_config_stops_the_process_with_status_2(tmp_path: Path) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text('[lifecycle]\nwaiting_expires_after = "a week"\n')
    env = {"HELPTHREAD_CONFIG": str(path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, input="")
    assert done.returncode == 2
    assert "lifecycle.waiting_expires_after" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# Issue 9, point 7: every SLA key has a default (PRODUCT.md §10), a resolution target
# shorter than the first-response target is refused, and a config path that cannot be
# read as a file is refused — each naming the key.

DEFAULT_TARGETS = {"urgent": (timedelta(hours=1), timedelta(hours=8)),
                   "high": (timedelta(hours=4), timedelta(hours=24)),
                   "normal": (timedelta(hours=8), timedelta(hours=48)),
                   "low": (timedelta(hours=24), timedelta(days=5))}


def _targets(config: DeskConfig) -> dict[str, tuple[timedelta, timedelta]]:
    return {k: (t.first_response, t.resolution) for k, t in config.sla.items()}


def test_every_priority_has_both_targets_by_default() -> None:
    assert _targets(DeskConfig()) == DEFAULT_TARGETS


@pytest.mark.parametrize(("content", "env"), [
    ('[sla.urgent]\nfirst_response = "30m"\n', {}),
    ("", {"HELPTHREAD_SLA__URGENT__FIRST_RESPONSE": "30m"}),
])
def test_a_partial_sla_table_keeps_the_other_keys_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str,
        env: dict[str, str]) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text(content)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _, config, _ = load_settings()
    assert _targets(config) == {**DEFAULT_TARGETS,
                                "urgent": (timedelta(minutes=30), timedelta(hours=8))}


def test_the_file_and_the_environment_each_give_one_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text('[sla.high]\nresolution = "2d"\n')
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    monkeypatch.setenv("HELPTHREAD_SLA__HIGH__FIRST_RESPONSE", "2h")
    _, config, _ = load_settings()
    assert _targets(config)["high"] == (timedelta(hours=2), timedelta(days=2))
    assert _targets(config)["low"] == DEFAULT_TARGETS["low"]


def test_desk_config_fills_a_partial_target_itself() -> None:
    config = DeskConfig.model_validate({"sla": {"low": {"resolution": "7d"}}})
    assert _targets(config)["low"] == (timedelta(hours=24), timedelta(days=7))


@pytest.mark.parametrize(("content", "env", "says"), [
    ('[sla.urgent]\nfirst_response = "2h"\nresolution = "1h"\n', {},
     "sla.urgent.resolution: 1h is shorter than first_response (2h)"),
    ('[sla.normal]\nresolution = "4h"\n', {},  # the default first response is 8h
     "sla.normal.resolution: 4h is shorter than first_response (8h)"),
    ("", {"HELPTHREAD_SLA__LOW__FIRST_RESPONSE": "6d"},  # the default resolution is 5d
     "sla.low.resolution: 5d is shorter than first_response (6d)"),
    ('[sla.urgent]\nfirst_respnse = "30m"\n', {}, "sla.urgent.first_respnse"),
])
def test_a_resolution_target_before_the_first_response_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str,
        env: dict[str, str], says: str) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text(content)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert says in str(raised.value)


def test_a_config_path_that_is_a_directory_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (f"HELPTHREAD_CONFIG: {tmp_path} is a directory; "
                                 "name the config file (helpthread.toml)")


def test_a_config_path_that_cannot_be_read_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text("[desk]\n")
    path.chmod(0)
    try:
        with open(path, "rb"):
            pytest.skip("this user reads files whatever their mode (root)")
    except PermissionError:
        pass
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    with pytest.raises(ConfigError, match=f"^HELPTHREAD_CONFIG: cannot read {path}"):
        load_settings()


def test_a_default_config_that_is_a_directory_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "helpthread.toml").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HELPTHREAD_CONFIG", raising=False)
    with pytest.raises(ConfigError, match=r"^helpthread\.toml is a directory"):
        load_settings()


def test_delivery_settings_from_file_and_environment(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text("[delivery]\nmax_attempts = 5\n")
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    monkeypatch.setenv("HELPTHREAD_DELIVERY__LEASE", "30s")
    _, desk, _ = load_settings()
    assert desk.delivery.max_attempts == 5 and desk.delivery.lease == timedelta(seconds=30)
    assert DeskConfig().delivery.max_attempts == 20, "PRODUCT.md §10"
    assert DeskConfig().delivery.lease == timedelta(seconds=15)


@pytest.mark.parametrize(("seconds", "said"), [
    (0, "0 seconds"), (1, "1 second"), (45, "45 seconds"), (59.6, "1 minute"),
    (90, "1 minute 30 seconds"), (3600, "1 hour"), (5400, "1 hour 30 minutes"),
    (23 * 3600 + 59 * 60 + 40, "1 day"), (47 * 3600, "1 day 23 hours"),
    (47 * 3600 + 59 * 60, "2 days"), (2 * 86400 + 23.5 * 3600, "3 days"),
    (-3 * 3600, "3 hours"),
])
def test_a_duration_is_spoken_rounded_to_the_nearest_of_two_units(seconds: float,
                                                                  said: str) -> None:
    assert spoken(timedelta(seconds=seconds)) == said


def test_only_the_upper_case_prefix_is_read_or_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names are case-sensitive on POSIX: ``helpthread_x`` once stopped the desk ("is not
    a setting"), and pydantic-settings read ``helpthread_database_url`` as the URL."""
    monkeypatch.chdir(tmp_path)
    for name in ("HELPTHREAD_CONFIG", "HELPTHREAD_DATABASE_URL", "HELPTHREAD_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("helpthread_x", "1")
    monkeypatch.setenv("helpthread_database_url", "sqlite+aiosqlite:///not-this.db")
    monkeypatch.setenv("Helpthread_Port", "1")
    settings, _, _ = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 3000
    monkeypatch.setenv("HELPTHREAD_PORT", "4000")
    assert load_settings()[0].port == 4000
