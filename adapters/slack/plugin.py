"""Slack as a plug-in (DESIGN.md, "Platforms are plug-ins"): its ``[slack]`` section,
its credentials, its agents, what its threads do, its route, and how it builds.

Light on purpose: the registry imports it in every process, the Slack SDK only
``build`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from core.checks import Check, Probe
from core.config import Category, DeskConfig, TranscriptsSection
from core.config_types import listed
from core.desk import Desk
from core.platforms import AgentRule, SettingError, Traits, require_internal_apart
from core.routing import PlatformRoute

if TYPE_CHECKING:
    from adapters.slack.platform import SlackPlatform

PLATFORM = "slack"


class SlackSettings(BaseModel):
    """``[slack]`` (PRODUCT.md §10). ``team_id`` (optional, ``T…``): the workspace the
    desk serves; when set, team threads are recorded there and a bot token of another
    workspace is refused at start. Agents count only in the bot token's workspace
    (``team_id``, or else the one ``auth.test`` names at start)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    support_channel: str | None = None
    team_channel: str | None = None
    escalation_channel: str | None = None
    agent_users: Annotated[tuple[str, ...], listed("Slack user ids",
                                                   'agent_users = ["U0123ABCD"]')] = ()
    agent_groups: Annotated[tuple[str, ...], listed("Slack user group ids",
                                                    'agent_groups = ["S0123ABCD"]')] = ()
    escalation_group: str | None = None
    team_id: str | None = None


class SlackCategory(BaseModel):
    """A category's Slack keys: its team channel (default ``slack.team_channel``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    slack_team_channel: str | None = None


class SlackTranscripts(BaseModel):
    """Slack's ``[transcripts]`` key: the channel id each closed ticket's transcript
    (the agents' copy) is uploaded to; unset: none is."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    slack_channel: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,}$")


class SlackCredentials(BaseModel):
    """Slack's credentials under their customary names (PRODUCT.md §9)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


class SlackPlugin:
    name = PLATFORM
    title = "Slack"
    settings_model = SlackSettings
    credentials_model = SlackCredentials
    # Shared tickets' threads hang under cards in the support channel, private ones in
    # the requester's DM with the app; the requester is not in a channel thread.
    traits = Traits(team_thread=True, private_in_dm=True, thread_reaches_requester=False,
                    watcher_dm_thread=True)
    category_keys = tuple(SlackCategory.model_fields)
    transcript_keys = tuple(SlackTranscripts.model_fields)
    placed_alone = False
    runs_when_configured = False  # it needs credentials of its own

    def agent_rule(self, settings: SlackSettings) -> AgentRule:
        return AgentRule(frozenset(settings.agent_users), frozenset(settings.agent_groups),
                         settings.team_id)

    def configured(self, settings: SlackSettings) -> bool:
        """Either channel set: Slack is meant to place tickets (a missing one is then
        named by ``route``, not silently ignored)."""
        return bool(settings.support_channel or settings.team_channel)

    def has_credentials(self, credentials: SlackCredentials) -> bool:
        """Any Slack credential is set: Slack is wanted (a missing one is then named)."""
        return any(v is not None for v in (credentials.slack_bot_token,
                                           credentials.slack_signing_secret,
                                           credentials.slack_app_token))

    def check_categories(self, categories: Iterable[Category]) -> None:
        for category in categories:
            _team_channel(category)

    def transcripts_channel(self, transcripts: TranscriptsSection) -> str | None:
        """``transcripts.slack_channel``; ``SettingError`` when it is not a channel id."""
        try:
            return SlackTranscripts.model_validate(transcripts.platform_keys).slack_channel
        except ValidationError as err:
            raise SettingError("transcripts.slack_channel: a channel id like C0LOGS: "
                               f"{err.errors()[0]['msg']}") from None

    def route(self, settings: SlackSettings, categories: Iterable[Category]) -> PlatformRoute:
        """Where Slack places tickets: shared tickets' threads under cards in
        ``slack.support_channel``, private ones in the requester's DM with the app, team
        threads in the category's ``slack_team_channel`` (default ``slack.team_channel``).

        Raises ``SettingError`` naming the key when a channel is missing, or when an
        internal channel (team, escalation) is the support channel."""
        if not settings.support_channel:
            raise SettingError("slack.support_channel is not set (the channel id where "
                               "shared tickets get their threads)")
        if not settings.team_channel:
            raise SettingError("slack.team_channel is not set (the agents' channel id where "
                               "team cards and internal notes go)")
        teams = {c.key: channel for c in categories if (channel := _team_channel(c))}
        require_internal_apart(settings.support_channel, {
            "slack.team_channel": settings.team_channel,
            "slack.escalation_channel": settings.escalation_channel,
            **{f"categories.{key}.slack_team_channel": channel
               for key, channel in teams.items()}})
        return PlatformRoute.of(PLATFORM, settings.team_id or "", self.traits,
                                support_channel=settings.support_channel,
                                default_team_channel=settings.team_channel,
                                team_channels=teams,
                                escalation_channel=settings.escalation_channel)

    def check_credentials(self, credentials: SlackCredentials) -> None:
        """``SettingError`` naming a credential Slack needs beside those set."""
        if credentials.slack_bot_token is None:
            raise SettingError("SLACK_BOT_TOKEN: needed to use Slack (SLACK_SIGNING_SECRET "
                               "or SLACK_APP_TOKEN is set); it is the app's xoxb- token")
        if not credentials.slack_app_token and not credentials.slack_signing_secret:
            raise SettingError("SLACK_SIGNING_SECRET: needed to verify Slack's requests in "
                               "HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")

    def doctor(self, settings: SlackSettings, credentials: SlackCredentials,
               config: DeskConfig, transcripts: TranscriptsSection) -> list[Check | Probe]:
        """What ``helpthread doctor`` checks of Slack (``adapters.slack.doctor``)."""
        from adapters.slack.doctor import checks

        return checks(settings, credentials, config, transcripts)

    async def build(self, desk: Desk, settings: SlackSettings,
                    credentials: SlackCredentials) -> SlackPlatform:
        """Checks the credentials and ``[slack]`` (``SettingError`` naming what is
        missing) before any network call, then ``platform.build_slack``."""
        self.check_credentials(credentials)
        route = self.route(settings, desk.config.categories)
        from adapters.slack.platform import build_slack

        return await build_slack(
            desk, settings, route,
            bot_token=_secret(credentials.slack_bot_token),
            signing_secret=_secret(credentials.slack_signing_secret),
            app_token=_secret(credentials.slack_app_token) or None,
            api_url=credentials.slack_api_url)


def _team_channel(category: Category) -> str | None:
    try:
        return SlackCategory.model_validate(category.platform_keys).slack_team_channel
    except ValidationError as err:
        raise SettingError(f"categories.{category.key}.slack_team_channel: "
                           f"{err.errors()[0]['msg']}") from None


PLUGIN = SlackPlugin()
