"""``helpthread run`` with platform credentials but a setting missing, or the platform
unreachable: one line naming the problem, exit 2 for config, 1 for an outage."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.fake_slack import FakeSlack


@pytest.mark.parametrize(("env", "config", "status", "says"), [
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "", 2, "SLACK_SIGNING_SECRET"),
    ({"SLACK_APP_TOKEN": "xapp-1"}, "", 2, "SLACK_BOT_TOKEN"),
    ({"HELPTHREAD_SLACK__AGENT_USERS": "[U1"}, "", 2, "HELPTHREAD_SLACK__AGENT_USERS"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "", 2,
     "slack.support_channel"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
     '[slack]\nsupport_channel = "C1"\n', 2, "slack.team_channel is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
     '[slack]\nsupport_channel = "C1"\nteam_channel = "C1"\n', 2,
     "slack.team_channel is the support channel"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
     '[slack]\nsupport_channel = "C1"\nteam_channel = "C2"\n[[categories]]\nkey = "refund"\n'
     'name = "Refund"\nslack_team_channel = "C1"\n', 2,
     "categories.refund.slack_team_channel is the support channel"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
      "SLACK_API_URL": "http://127.0.0.1:9/api/"},
     '[slack]\nsupport_channel = "C1"\nteam_channel = "C2"\n', 1, "cannot start Slack"),
    ({"DISCORD_TOKEN": "x"}, "", 2, "discord.guild_id"),
])
def test_one_line_and_the_right_status(tmp_path: Path, env: dict[str, str], config: str,
                                       status: int, says: str) -> None:
    (tmp_path / "helpthread.toml").write_text(config)
    done = subprocess.run([HELPTHREAD, "run"], env={**clean_env(tmp_path), **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, input="")
    assert done.returncode == status, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("helpthread: ")


SLACK_CONFIG = '[slack]\nsupport_channel = "C1"\nteam_channel = "C2"\n'


async def _run(tmp_path: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    (tmp_path / "helpthread.toml").write_text(SLACK_CONFIG)
    proc = await asyncio.create_subprocess_exec(
        HELPTHREAD, "run", env={**clean_env(tmp_path), **env}, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, err.decode().strip().splitlines()


@pytest.mark.parametrize(("method", "env", "named"), [
    ("auth.test", {"SLACK_BOT_TOKEN": "xoxb-wrong", "SLACK_SIGNING_SECRET": "s"},
     "SLACK_BOT_TOKEN"),
    ("apps.connections.open", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-wrong"},
     "SLACK_APP_TOKEN"),
])
async def test_a_token_slack_refuses_is_named(tmp_path: Path, method: str,
                                              env: dict[str, str], named: str) -> None:
    fake = await FakeSlack().start()
    try:
        fake.fail(method, error="invalid_auth")
        status, lines = await _run(tmp_path, {**env, "SLACK_API_URL": fake.api_url})
    finally:
        await fake.stop()
    assert status == 2, lines
    assert len(lines) == 1 and named in lines[0] and "invalid_auth" in lines[0], lines


async def test_a_port_in_use_is_one_line_and_status_1(tmp_path: Path) -> None:
    fake = await FakeSlack().start()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            status, lines = await _run(tmp_path, {
                "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                "SLACK_API_URL": fake.api_url, "HELPTHREAD_PORT": str(port)})
        finally:
            await fake.stop()
    assert status == 1, lines
    assert len(lines) == 1 and f"HELPTHREAD_PORT {port}" in lines[0], lines


async def test_sigterm_while_slack_is_slow_to_answer_at_start_stops_it(tmp_path: Path) -> None:
    fake = await FakeSlack().start()
    fake.hold("apps.connections.open")  # Socket Mode's first call never answers
    (tmp_path / "helpthread.toml").write_text(SLACK_CONFIG)
    env = {**clean_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1",
           "SLACK_API_URL": fake.api_url}
    proc = await asyncio.create_subprocess_exec(
        HELPTHREAD, "run", env=env, cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        for _ in range(600):  # bounded: until it asks Slack for the WebSocket
            if fake.of("apps.connections.open"):
                break
            await asyncio.sleep(0.05)
        assert fake.of("apps.connections.open")
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
        fake.release("apps.connections.open")
        await fake.stop()
    assert proc.returncode == 0, err.decode()


async def test_the_bind_address_is_hosts_setting(tmp_path: Path) -> None:
    fake = await FakeSlack().start()
    try:  # 192.0.2.1 (TEST-NET-1, RFC 5737) is on no machine: binding there must fail
        status, lines = await _run(tmp_path, {
            "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": fake.api_url, "HELPTHREAD_HOST": "192.0.2.1"})
    finally:
        await fake.stop()
    assert status == 1, lines
    assert len(lines) == 1 and "on HELPTHREAD_HOST 192.0.2.1: cannot listen" in lines[0], lines
