"""Issue 9, point 7: a config path that is not a readable file, and SLA targets out of
order, stop the process with one line naming the setting and exit status 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env


@pytest.mark.parametrize(("config", "env", "says"), [
    (None, {"HELPTHREAD_CONFIG": "."}, "HELPTHREAD_CONFIG: . is a directory"),
    ('[sla.urgent]\nresolution = "30m"\n', {},
     "sla.urgent.resolution: 30m is shorter than first_response (1h)"),
    ("", {"HELPTHREAD_SLA__HIGH__FIRST_RESPONSE": "2d"},
     "sla.high.resolution: 1d is shorter than first_response (2d)"),
    # a misspelt section would otherwise be ignored and the defaults run without a word
    ("", {"HELPTHREAD_SLAA__URGENT__FIRST_RESPONSE": "10m"},
     "HELPTHREAD_SLAA__URGENT__FIRST_RESPONSE: is not a setting; the settings are "
     "HELPTHREAD_CONFIG, HELPTHREAD_DATABASE_URL,"),
    # half a platform section is refused by name, not ignored while the shell runs
    ("", {"HELPTHREAD_SLACK__SUPPORT_CHANNEL": "C1"}, "slack.team_channel is not set"),
    # team cards and internal notes would go to the public channel (Slack: startup errors)
    ("", {"HELPTHREAD_DISCORD__GUILD_ID": "1", "HELPTHREAD_DISCORD__SUPPORT_CHANNEL_ID": "2",
          "HELPTHREAD_DISCORD__TEAM_CHANNEL_ID": "2"},
     "discord.team_channel_id is the support channel 2"),
    ("", {"HELPTHREAD_DISCORD__GUILD_ID": "1", "HELPTHREAD_DISCORD__SUPPORT_CHANNEL_ID": "2",
          "HELPTHREAD_DISCORD__TEAM_CHANNEL_ID": "3",
          "HELPTHREAD_DISCORD__ESCALATION_CHANNEL_ID": "2"},
     "discord.escalation_channel_id is the support channel 2"),
    ("", {"HELPTHREAD_SLA__URGENT__FIRST_RESPONS": "30m"},  # a misspelt key, not JSON
     "HELPTHREAD_SLA__URGENT__FIRST_RESPONS: first_respons is not a setting"),
])
def test_one_line_and_status_2(tmp_path: Path, config: str | None, env: dict[str, str],
                               says: str) -> None:
    if config is not None:
        (tmp_path / "helpthread.toml").write_text(config)
    done = subprocess.run([HELPTHREAD, "run"], env={**clean_env(tmp_path), **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, input="")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("helpthread: ") and says in lines[0], lines


def test_a_partial_sla_table_starts(tmp_path: Path) -> None:
    (tmp_path / "helpthread.toml").write_text('[sla.urgent]\nfirst_response = "30m"\n')
    done = subprocess.run([HELPTHREAD, "run"], env=clean_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, input="/ticket list\n")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "No open tickets." in done.stdout


def test_a_lower_case_variable_is_someone_elses(tmp_path: Path) -> None:
    """``helpthread_x=1 helpthread run`` once exited 2: "helpthread_x: is not a setting"."""
    env = {**clean_env(tmp_path), "helpthread_x": "1", "helpthread_database_url": "nonsense"}
    done = subprocess.run([HELPTHREAD, "run"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, input="/ticket list\n")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "No open tickets." in done.stdout
