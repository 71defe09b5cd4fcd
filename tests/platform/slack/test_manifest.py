"""Issue 3, point 9: `helpthread slack-manifest` prints a complete manifest (YAML) whose
scopes cover every Web API method the app calls."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from adapters.slack.manifest import METHOD_SCOPES, bot_scopes, manifest_yaml
from bot.cli import app
from tests.platform.slack.harness import AGENT, ALICE, CONFIG, SUPPORT, TEAM_CHANNEL, Harness


def test_manifest_is_valid_yaml_with_command_shortcuts_events_and_urls():
    data = yaml.safe_load(manifest_yaml(CONFIG, "https://support.example.com/"))
    url = "https://support.example.com/slack/events"
    features = data["features"]
    [command] = features["slash_commands"]
    assert command["command"] == "/ticket" and command["url"] == url
    assert command["should_escape"] is True
    assert {s["type"] for s in features["shortcuts"]} == {"global", "message"}
    assert {s["name"] for s in features["shortcuts"]} == {"Open a ticket",
                                                          "Create ticket from message"}
    assert features["app_home"]["home_tab_enabled"] is True
    settings = data["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    assert {"message.channels", "message.groups", "message.im", "app_home_opened"} <= set(
        settings["event_subscriptions"]["bot_events"])
    assert len(data["display_information"]["name"]) <= 35


def test_socket_mode_manifest_has_no_urls():
    data = yaml.safe_load(manifest_yaml(CONFIG, None))
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert "url" not in data["features"]["slash_commands"][0]


def test_the_cli_prints_it(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["slack-manifest", "--url", "https://h.example"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["features"]["slash_commands"][0]["url"] == \
        "https://h.example/slack/events"
    result = CliRunner().invoke(app, ["slack-manifest", "--url", "https://h.example/slack/events"])
    assert yaml.safe_load(result.output)["features"]["slash_commands"][0]["url"] == \
        "https://h.example/slack/events", "the events path is not doubled"
    https_only = "is not an https:// address"
    beside = "; Slack's requests go to this address plus /slack/events; give it as "
    for bad, says in (
            ("ftp://h.example", https_only), ("h.example", https_only),
            ("http://h.example", https_only), ("https://", "names no host"),
            ("https://a b.example", "holds a space"),
            ("https://h.example:99999", "has a port outside 1-65535"),
            # https, but the manifest appends its path: the query or fragment is named
            ("https://help.example.com/?q=1",
             f"has a query string (?q=1){beside}https://help.example.com"),
            ("https://h.example/x?a=1", f"has a query string (?a=1){beside}https://h.example/x"),
            ("https://h.example#f", f"has a fragment (#f){beside}https://h.example"),
            ("https://h.example/x?a=1#f",
             f"has a query string and a fragment (?a=1#f){beside}https://h.example/x"),
            ("https://h.example?", f"has a query string (?){beside}https://h.example"),
            ("https://h.example#", f"has a fragment (#){beside}https://h.example")):
        result = CliRunner().invoke(app, ["slack-manifest", "--url", bad])
        assert result.exit_code == 2, bad
        assert result.output.startswith(f"helpthread: --url: {bad!r} {says}"), result.output
        if says != https_only:
            assert https_only not in result.output
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    result = CliRunner().invoke(app, ["slack-manifest"])
    assert yaml.safe_load(result.output)["settings"]["socket_mode_enabled"] is True
    result = CliRunner().invoke(app, ["slack-manifest", "--url", "https://h.example"])
    assert result.exit_code == 2 and "Socket Mode" in result.output


async def test_every_method_the_app_calls_is_covered_by_the_manifest_scopes(h: Harness):
    """Run a day's worth of features, then check each recorded Web API method."""
    await h.open_ticket(shared=True)
    await h.open_ticket(ALICE, subject="Second one", shared=False)
    [card] = h.cards(SUPPORT)
    [team_card, _] = h.cards(TEAM_CHANNEL)
    await h.say(ALICE, SUPPORT, card["ts"], "more", )
    await h.say(ALICE, SUPPORT, None, "", subtype="message_changed",
                message={"user": ALICE, "text": "b", "ts": "1.1", "thread_ts": card["ts"]},
                previous_message={"user": ALICE, "text": "a", "ts": "1.1",
                                  "thread_ts": card["ts"]})
    await h.press(AGENT, team_card, "Claim")
    await h.press(AGENT, team_card, "Escalate")
    await h.submit(AGENT, {"Why does it need escalating?": "Because"})
    await h.command(ALICE, "transcript 1")
    await h.command(ALICE, "show 1")
    from tests.support.slack_requests import event_body

    await h.slack.event(event_body({"type": "app_home_opened", "user": ALICE, "tab": "home"}))
    await h.settle()
    called = h.fake.methods()
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish",
            "files.completeUploadExternal", "chat.postEphemeral"} <= called
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these to METHOD_SCOPES: {unknown}"
    needed = {METHOD_SCOPES[m] for m in called} - {None}
    assert needed <= set(bot_scopes())
    if any(p.get("username") for p in h.fake.posts()):
        assert "chat:write.customize" in bot_scopes()
