"""What ``helpthread doctor`` checks of Slack (``core.checks``): the credentials and
their shapes, ``[slack]``, then over the Web API (``SLACK_API_URL``) the bot token
(``auth.test``: bot user and workspace), the scopes the token was granted (Slack's
``x-oauth-scopes`` response header) against those ``helpthread slack-manifest`` asks
for, the configured channels (``conversations.history``, one message: found, and the
app is in it) and, in Socket Mode, the app-level token (``apps.connections.open``).

Messages for what ``helpthread run`` also refuses are worded as ``run`` words them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiohttp
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.manifest import bot_scopes
from adapters.slack.platform import (
    APP_TOKEN_WANTED,
    BOT_TOKEN_WANTED,
    api_base,
    refused,
)
from adapters.slack.plugin import PLUGIN, SlackCredentials, SlackSettings
from core.checks import Check, Outcome, Probe, failed, ok, skipped, warning
from core.config import DeskConfig, TranscriptsSection
from core.platforms import SettingError

CREDENTIALS = "Slack credentials"
SECTION = "Slack [slack]"
API = "Slack auth.test"
SCOPES = "Slack scopes"
CHANNELS = "Slack channels"
SOCKET = "Slack Socket Mode"
# Token kinds by prefix (Slack: "Token types"); only a bot token works as SLACK_BOT_TOKEN.
TOKEN_KINDS = {"xoxp-": "a user token", "xoxe.xoxp-": "a user token",
               "xapp-": "an app-level token", "xoxe-": "a refresh token",
               "xoxa-": "a workspace token"}
ROTATING = "xoxe.xoxb-"  # a bot token with token rotation on: it expires in 12 hours
SIGNING_SECRET = re.compile(r"[0-9a-f]{32}")  # what Slack's app settings show


def checks(settings: SlackSettings, credentials: SlackCredentials,
           config: DeskConfig, transcripts: TranscriptsSection) -> list[Check | Probe]:
    """Slack's checks; none when neither ``[slack]`` nor a Slack credential is set."""
    if not (PLUGIN.configured(settings) or PLUGIN.has_credentials(credentials)):
        if "slack_channel" in transcripts.platform_keys:  # else closed tickets' copies go nowhere
            return [warning(SECTION, "transcripts.slack_channel is set, but Slack is not: no "
                            "transcript is posted there until [slack] is configured")]
        return []
    creds = _credentials(credentials)
    found: list[Check | Probe] = [creds]
    channels: dict[str, str] | None = None
    try:
        route = PLUGIN.route(settings, config.categories)
        channels = route.channels(PLUGIN.transcripts_channel(transcripts))
        found.append(ok(SECTION, ", ".join(f"{k} {v}" for k, v in channels.items())))
    except SettingError as err:
        found.append(failed(SECTION, str(err)))
    if creds.outcome is not Outcome.FAILED and credentials.slack_bot_token is not None:
        found.append(Probe(API, lambda seconds: _api(settings, credentials, channels,
                                                     seconds)))
    return found


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _credentials(credentials: SlackCredentials) -> Check:
    """Set together as ``run`` needs them, each of the right kind."""
    if not PLUGIN.has_credentials(credentials):
        return warning(CREDENTIALS, "none set (SLACK_BOT_TOKEN …): `helpthread run` here "
                       "will not connect to Slack, yet [slack] is configured, so tickets "
                       "get Slack threads another process must serve")
    try:
        PLUGIN.check_credentials(credentials)
    except SettingError as err:
        return failed(CREDENTIALS, str(err))
    token = _secret(credentials.slack_bot_token)
    kind = next((name for prefix, name in TOKEN_KINDS.items() if token.startswith(prefix)),
                None)
    if kind is not None:
        return failed(CREDENTIALS, f"SLACK_BOT_TOKEN: is {kind}; use {BOT_TOKEN_WANTED}")
    app_token = _secret(credentials.slack_app_token)
    if app_token and not app_token.startswith("xapp-"):
        return failed(CREDENTIALS, f"SLACK_APP_TOKEN: does not start with xapp-; use "
                      f"{APP_TOKEN_WANTED}")
    mode = ("Socket Mode (SLACK_APP_TOKEN xapp-…)" if app_token
            else "HTTP mode (SLACK_SIGNING_SECRET set)")
    if token.startswith(ROTATING):
        return warning(CREDENTIALS, "SLACK_BOT_TOKEN: is a rotating bot token (token "
                       "rotation on): it expires within 12 hours and helpthread does not "
                       "refresh it; turn rotation off (the manifest does) and reinstall")
    if not token.startswith("xoxb-"):
        return warning(CREDENTIALS, f"SLACK_BOT_TOKEN: does not start with xoxb-; Slack "
                       f"expects {BOT_TOKEN_WANTED}; {mode}")
    secret = _secret(credentials.slack_signing_secret)
    if not app_token and not SIGNING_SECRET.fullmatch(secret):
        return warning(CREDENTIALS, "SLACK_SIGNING_SECRET: is not 32 hex digits as Slack's "
                       "Signing Secret is (Basic Information → App Credentials; not the "
                       "Client Secret or Verification Token); HTTP mode")
    return ok(CREDENTIALS, f"SLACK_BOT_TOKEN xoxb-…, {mode}")


async def _api(settings: SlackSettings, credentials: SlackCredentials,
               channels: dict[str, str] | None, seconds: float) -> list[Check]:
    base = api_base(credentials.slack_api_url)
    client = AsyncWebClient(token=_secret(credentials.slack_bot_token), base_url=base,
                            timeout=max(1, round(seconds)), retry_handlers=[])
    try:
        auth = await client.auth_test()
    except SlackApiError as err:
        if not _slack_error(err):
            return [failed(API, _not_slack(base, err.response.status_code))]
        return [failed(API, str(refused(err, "auth.test", "SLACK_BOT_TOKEN",
                                        BOT_TOKEN_WANTED)))]
    except (aiohttp.ClientError, OSError) as err:
        return [failed(API, f"cannot reach Slack at {base}: {_reason(err)}")]
    except (AttributeError, TypeError, ValueError):  # slack_sdk reading a body not Slack's
        return [failed(API, _not_slack(base, None))]
    if not (isinstance(auth.data, dict) and auth.get("user_id") and auth.get("team_id")):
        return [failed(API, _not_slack(base, auth.status_code))]
    team = str(auth.get("team_id"))
    who = (f"bot @{auth.get('user')} ({auth.get('user_id')}) in workspace "
           f"{auth.get('team')} ({team}) at {base}")
    if settings.team_id and settings.team_id != team:
        found = [failed(API, f"slack.team_id is {settings.team_id}, but SLACK_BOT_TOKEN "
                        f"belongs to workspace {team}")]
    else:
        found = [ok(API, who)]
    found.append(_scopes(auth.headers))
    found.append(await _reachable(client, channels) if channels is not None
                 else skipped(CHANNELS, "[slack] names no channels that can be checked"))
    if credentials.slack_app_token is not None:
        found.append(await _socket(client, _secret(credentials.slack_app_token)))
    return found


def _scopes(headers: Mapping[str, str]) -> Check:
    """The token's scopes (``x-oauth-scopes``, comma-separated) against the manifest's."""
    header = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if header is None:
        return warning(SCOPES, "Slack's answer did not list the token's scopes (no "
                       "x-oauth-scopes header; a proxy may drop it): not checked")
    granted = {s.strip() for s in header.split(",") if s.strip()}
    missing = [s for s in bot_scopes() if s not in granted]
    if missing:
        return failed(SCOPES, f"the token lacks {', '.join(missing)}; add them (or paste "
                      "`helpthread slack-manifest` again) and reinstall the app")
    return ok(SCOPES, f"all {len(bot_scopes())} the manifest asks for are granted")


async def _reachable(client: AsyncWebClient, channels: dict[str, str]) -> Check:
    """Each channel is found and the app is in it: reading one message needs both."""
    problems = []
    for what, channel in channels.items():
        try:
            await client.conversations_history(channel=channel, limit=1)
        except SlackApiError as err:
            error = str(err.response.get("error"))
            why = {"channel_not_found": "not found (a private channel the app is not in "
                                        "looks the same: invite the app there)",
                   "not_in_channel": "the app is not in it (/invite it there)",
                   }.get(error, error)
            problems.append(f"{what} {channel}: {why}")
    listed = ", ".join(f"{what} {channel}" for what, channel in channels.items())
    if problems:
        return failed(CHANNELS, "; ".join(problems))
    return ok(CHANNELS, f"{listed}: found, the app is in each")


async def _socket(client: AsyncWebClient, app_token: str) -> Check:
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as err:
        return failed(SOCKET, str(refused(err, "apps.connections.open", "SLACK_APP_TOKEN",
                                          APP_TOKEN_WANTED)))
    return ok(SOCKET, "SLACK_APP_TOKEN accepted (apps.connections.open)")


def _slack_error(err: SlackApiError) -> str | None:
    """Slack's own ``error`` code in a refusal; None when the body was not Slack's JSON."""
    data = err.response.data
    return str(data["error"]) if isinstance(data, dict) and data.get("error") else None


def _not_slack(base: str, status: int | None) -> str:
    answer = f"HTTP {status}" if status else "a body"
    return (f"{base} answered auth.test with {answer} that is not Slack's: is "
            "SLACK_API_URL Slack's Web API (https://slack.com/api/)?")


def _reason(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
