"""The shell platform as a plug-in (DESIGN.md, "Platforms are plug-ins").

Its section is ``[shell]``: who the shell's agents are (``--agent`` personas are
signed with the group ``agents``). It needs no credentials, so ``helpthread run``
never composes it beside Slack or Discord: it runs alone, on a terminal
(``helpthread shell``, or ``helpthread run`` with no platform credentials).

Placement: the shell's threads are placed only when no other configured platform
keeps threads (``placed_alone``; e-mail keeps none). With ``[slack]`` or ``[discord]`` configured, a
ticket opened in the shell gets its threads there, and the shell persona hears of it
by direct message, printed like every other delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from adapters.shell.outbound import PLATFORM, WORKSPACE, Printer, ShellOutbound
from core.checks import Check, Probe
from core.config import Category, DeskConfig, TranscriptsSection
from core.config_types import listed
from core.desk import Desk
from core.platforms import AgentRule, Traits
from core.routing import PlatformRoute


class ShellSettings(BaseModel):
    """``[shell]``: the shell signs ``--agent`` personas with the group ``agents``; an SLA
    notice on an unassigned ticket mentions the first of ``agent_groups``, an escalation
    mentions ``escalation_group`` (both printed as ``@name``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_groups: Annotated[tuple[str, ...], listed(
        "group names", 'agent_groups = ["agents"]')] = ("agents",)
    agent_users: Annotated[tuple[str, ...], listed("user names", 'agent_users = ["sam"]')] = ()
    escalation_group: str = "managers"


class ShellCredentials(BaseModel):
    """The shell needs none."""


@dataclass
class ShellPlatform:
    """The shell's running parts: its route and the outbound port printing to ``printer``
    (mentioning the groups ``settings`` names)."""

    route: PlatformRoute
    printer: Printer = field(default_factory=Printer)
    settings: ShellSettings = field(default_factory=ShellSettings)
    outbound: ShellOutbound = field(init=False)

    def __post_init__(self) -> None:
        groups = self.settings.agent_groups
        self.outbound = ShellOutbound(self.printer, agents=groups[0] if groups else "agents",
                                      escalation_group=self.settings.escalation_group)

    @property
    def connected(self) -> bool:
        return True  # stdin and stdout: nothing to lose

    def http_routes(self) -> list[object]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class ShellPlugin:
    name = PLATFORM
    title = "the shell"
    settings_model = ShellSettings
    credentials_model = ShellCredentials
    traits = Traits(team_thread=True, thread_reaches_requester=True)
    category_keys: tuple[str, ...] = ()
    transcript_keys: tuple[str, ...] = ()  # /ticket transcript writes files instead
    placed_alone = True  # placed only when no other configured platform keeps threads
    runs_when_configured = False  # a terminal: `run` starts it only with no chat platform

    def agent_rule(self, settings: ShellSettings) -> AgentRule:
        return AgentRule(frozenset(settings.agent_users), frozenset(settings.agent_groups),
                         WORKSPACE)

    def configured(self, settings: ShellSettings) -> bool:
        return True  # nothing to configure

    def has_credentials(self, credentials: ShellCredentials) -> bool:
        return False  # it runs on a terminal, never beside the chat platforms

    def check_credentials(self, credentials: ShellCredentials) -> None:
        return None  # none needed

    def check_categories(self, categories: Iterable[Category]) -> None:
        return None

    def transcripts_channel(self, transcripts: TranscriptsSection) -> str | None:
        return None

    def route(self, settings: ShellSettings, categories: Iterable[Category]) -> PlatformRoute:
        """A ticket thread the requester reads, a team thread (its card in the channel
        ``team``), and the channel ``escalation`` for escalations."""
        return PlatformRoute.of(PLATFORM, WORKSPACE, self.traits, support_channel="ticket",
                                default_team_channel="team", escalation_channel="escalation")

    def doctor(self, settings: ShellSettings, credentials: ShellCredentials,
               config: DeskConfig, transcripts: TranscriptsSection) -> list[Check | Probe]:
        return []  # a terminal: nothing to reach, no credentials

    async def build(self, desk: Desk, settings: ShellSettings,
                    credentials: ShellCredentials) -> ShellPlatform:
        return ShellPlatform(self.route(settings, desk.config.categories), settings=settings)


PLUGIN = ShellPlugin()
