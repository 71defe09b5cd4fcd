"""Discord as a plug-in (DESIGN.md, "Platforms are plug-ins"): its ``[discord]``
section, its credentials, its agents (holders of the agent role in the guild), what
its threads do, its route, and how it builds.

Light on purpose: the registry imports it in every process, discord.py only
``build`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from core.checks import Check, Probe
from core.config import Category, DeskConfig, TranscriptsSection
from core.desk import Desk
from core.platforms import AgentRule, SettingError, Traits, require_internal_apart
from core.routing import PlatformRoute

if TYPE_CHECKING:
    from adapters.discord.platform import DiscordPlatform

PLATFORM = "discord"
PLACEMENT_KEYS = ("guild_id", "support_channel_id", "team_channel_id")


class DiscordSettings(BaseModel):
    """``[discord]`` (PRODUCT.md §10): the guild, its channels and roles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guild_id: int | None = None
    support_channel_id: int | None = None
    team_channel_id: int | None = None
    escalation_channel_id: int | None = None
    agent_role_id: int | None = None
    escalation_role_id: int | None = None


class DiscordCategory(BaseModel):
    """A category's Discord keys: its team channel (default ``discord.team_channel_id``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    discord_team_channel_id: int | None = None


class DiscordTranscripts(BaseModel):
    """Discord's ``[transcripts]`` key: the channel each closed ticket's transcript (the
    agents' copy) is posted in; unset: none is."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    discord_channel_id: int | None = Field(default=None, gt=0)


class DiscordCredentials(BaseModel):
    """Discord's token and URLs under their customary names (PRODUCT.md §9)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None


class DiscordPlugin:
    name = PLATFORM
    title = "Discord"
    settings_model = DiscordSettings
    credentials_model = DiscordCredentials
    # A private thread under the support channel, with the requester added.
    traits = Traits(team_thread=True, private_in_dm=False, thread_reaches_requester=True,
                    thread_admits_watchers=True)
    category_keys = tuple(DiscordCategory.model_fields)
    transcript_keys = tuple(DiscordTranscripts.model_fields)
    placed_alone = False
    runs_when_configured = False  # it needs credentials of its own

    def agent_rule(self, settings: DiscordSettings) -> AgentRule:
        """Holders of the agent role, in the configured guild only."""
        role = settings.agent_role_id
        return AgentRule(groups=frozenset({str(role)} if role else set()),
                         workspace=str(settings.guild_id or ""))

    def configured(self, settings: DiscordSettings) -> bool:
        """Any placement key set: Discord is meant to place tickets (a missing one is
        then named by ``route``, not silently ignored)."""
        return any(getattr(settings, key) is not None for key in PLACEMENT_KEYS)

    def has_credentials(self, credentials: DiscordCredentials) -> bool:
        return credentials.discord_token is not None

    def check_credentials(self, credentials: DiscordCredentials) -> None:
        return None  # one token: set or not

    def check_categories(self, categories: Iterable[Category]) -> None:
        for category in categories:
            _team_channel(category)

    def transcripts_channel(self, transcripts: TranscriptsSection) -> str | None:
        """``transcripts.discord_channel_id``; ``SettingError`` unless a channel id."""
        try:
            found = DiscordTranscripts.model_validate(transcripts.platform_keys)
        except ValidationError as err:
            raise SettingError("transcripts.discord_channel_id: "
                               f"{err.errors()[0]['msg']}") from None
        return str(found.discord_channel_id) if found.discord_channel_id else None

    def route(self, settings: DiscordSettings,
              categories: Iterable[Category]) -> PlatformRoute:
        """Private ticket threads under the support channel, team threads under cards in
        each category's team channel. ``SettingError`` names a missing key, or an internal
        channel (team, escalation) that is the support channel."""
        missing = [f"discord.{key}" for key in PLACEMENT_KEYS if getattr(settings, key) is None]
        if missing:
            raise SettingError(f"{', '.join(missing)}: needed to place tickets on Discord")
        escalation_id = settings.escalation_channel_id
        escalation = str(escalation_id) if escalation_id else None
        teams = {c.key: str(channel) for c in categories if (channel := _team_channel(c))}
        support = str(settings.support_channel_id)
        require_internal_apart(support, {
            "discord.team_channel_id": str(settings.team_channel_id),
            "discord.escalation_channel_id": escalation,
            **{f"categories.{key}.discord_team_channel_id": channel
               for key, channel in teams.items()}})
        return PlatformRoute.of(
            PLATFORM, str(settings.guild_id), self.traits, support_channel=support,
            default_team_channel=str(settings.team_channel_id), team_channels=teams,
            escalation_channel=escalation)

    def doctor(self, settings: DiscordSettings, credentials: DiscordCredentials,
               config: DeskConfig, transcripts: TranscriptsSection) -> list[Check | Probe]:
        """What ``helpthread doctor`` checks of Discord (``adapters.discord.doctor``)."""
        from adapters.discord.doctor import checks

        return checks(settings, credentials, config, transcripts)

    async def build(self, desk: Desk, settings: DiscordSettings,
                    credentials: DiscordCredentials) -> DiscordPlatform:
        """Check the config for Discord (``DiscordConfigError`` names what is wrong),
        apply the URLs and build the platform; nothing connects before ``start()``."""
        from adapters.discord.platform import build_discord

        token = credentials.discord_token
        return await build_discord(desk, settings, token=token.get_secret_value() if token
                                   else "", api_url=credentials.discord_api_url,
                                   gateway_url=credentials.discord_gateway_url)


def _team_channel(category: Category) -> int | None:
    try:
        return DiscordCategory.model_validate(category.platform_keys).discord_team_channel_id
    except ValidationError as err:
        raise SettingError(f"categories.{category.key}.discord_team_channel_id: "
                           f"{err.errors()[0]['msg']}") from None


PLUGIN = DiscordPlugin()
