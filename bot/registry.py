"""The platform plug-ins and what ``bot`` asks of them (DESIGN.md, "Platforms are plug-ins").

Each adapter declares, in ``adapters/<platform>/plugin.py``, a ``PLUGIN`` with its
config section (``settings_model``: ``[slack]``, ``[discord]``, ``[shell]``), its
credentials (``credentials_model``, read under the platform's customary environment
names), its ``agent_rule`` (data core evaluates), its ``traits`` (what its threads
can do), the category and ``[transcripts]`` keys it reads, whether its section is
``configured``, whether this process ``has_credentials``, its ``route``, what
``helpthread doctor`` checks of it (``doctor``: ``core.checks``) and
``build(desk, settings, credentials)``. ``PLUGINS`` lists them; ``bot.platforms``
builds those with credentials once the desk is built.

Placement follows configuration, never which platforms this process runs: every
configured plug-in routes (``routes``), so two processes place a ticket alike. A
plug-in ``placed_alone`` (the shell) is placed only when no other configured one
keeps threads (e-mail keeps none: with e-mail alone, the shell's threads are the
team's). A plug-in that ``runs_when_configured`` (e-mail: its section holds its
password) is started by ``run`` whenever its section is configured (``started``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

from pydantic import BaseModel

from adapters.discord.plugin import PLUGIN as DISCORD
from adapters.email.plugin import PLUGIN as EMAIL
from adapters.shell.plugin import PLUGIN as SHELL
from adapters.slack.plugin import PLUGIN as SLACK
from core.checks import Check, Probe
from core.config import Category, DeskConfig, TranscriptsSection
from core.desk import Desk
from core.outbound import Outbound
from core.platforms import AgentRule, SettingError, ThreadPlace, Traits
from core.routing import PlatformRoute


class RunningPlatform(Protocol):
    """A built platform: where it places tickets, its outbound port, whether it is
    connected, its HTTP routes (aiohttp route definitions, may be empty), ``start`` and
    ``stop``."""

    @property
    def route(self) -> PlatformRoute: ...

    @property
    def outbound(self) -> Outbound: ...

    @property
    def connected(self) -> bool: ...  # for /healthz

    def http_routes(self) -> list[Any]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Plugin(Protocol):
    """What an adapter declares. ``settings`` is an instance of ``settings_model``,
    ``credentials`` of ``credentials_model``."""

    @property
    def name(self) -> str: ...  # the platform, also the config section's name

    @property
    def title(self) -> str: ...

    @property
    def settings_model(self) -> type[BaseModel]: ...

    @property
    def credentials_model(self) -> type[BaseModel]: ...

    @property
    def traits(self) -> Traits: ...

    @property
    def category_keys(self) -> tuple[str, ...]: ...

    @property
    def transcript_keys(self) -> tuple[str, ...]: ...

    @property
    def placed_alone(self) -> bool: ...

    @property
    def runs_when_configured(self) -> bool: ...  # its section holds all it needs (e-mail)

    def agent_rule(self, settings: Any) -> AgentRule: ...

    def configured(self, settings: Any) -> bool: ...

    def has_credentials(self, credentials: Any) -> bool: ...

    def check_credentials(self, credentials: Any) -> None: ...

    def check_categories(self, categories: Iterable[Category]) -> None: ...

    def transcripts_channel(self, transcripts: TranscriptsSection) -> str | None: ...

    def route(self, settings: Any, categories: Iterable[Category]) -> PlatformRoute: ...

    def doctor(self, settings: Any, credentials: Any,
               config: DeskConfig, transcripts: TranscriptsSection,
               ) -> list[Check | Probe]: ...  # `helpthread doctor`

    async def build(self, desk: Desk, settings: Any, credentials: Any) -> RunningPlatform: ...


PLUGINS: tuple[Plugin, ...] = (SLACK, DISCORD, EMAIL, SHELL)


def section(settings: object, plugin: Plugin) -> Any:
    """``plugin``'s section of ``settings`` (``bot.settings.Settings``)."""
    return getattr(settings, plugin.name)


def credentials_of(plugin: Plugin, credentials: BaseModel) -> Any:
    """``plugin``'s own credentials out of ``bot.settings.Credentials``."""
    return plugin.credentials_model.model_validate(credentials.model_dump())


def agent_rules(settings: object) -> dict[str, AgentRule]:
    """Every plug-in's agent rule, by platform, for ``DeskConfig.agents``."""
    return {p.name: p.agent_rule(section(settings, p)) for p in PLUGINS}


def check_categories(categories: Iterable[Category]) -> None:
    """Each plug-in checks the category keys it reads; a key none reads is refused.
    Raises ``SettingError`` naming the key."""
    categories = tuple(categories)
    known = {key for p in PLUGINS for key in p.category_keys}
    for category in categories:
        for key in category.platform_keys:
            if key not in known:
                raise SettingError(f"categories.{category.key}.{key}: Extra inputs are not "
                                   "permitted (no category or platform has this key)")
    for plugin in PLUGINS:
        plugin.check_categories(categories)


def check_transcripts(transcripts: TranscriptsSection) -> None:
    """Each plug-in checks its ``[transcripts]`` key; a key none reads is refused.
    Raises ``SettingError`` naming the key."""
    known = {key for p in PLUGINS for key in p.transcript_keys}
    for key in transcripts.platform_keys:
        if key not in known:
            raise SettingError(f"transcripts.{key}: Extra inputs are not permitted (no "
                               "platform has this key)")
    for plugin in PLUGINS:
        plugin.transcripts_channel(transcripts)


def routes(settings: object, categories: Iterable[Category]) -> list[PlatformRoute]:
    """Where a new ticket's threads go: the route of every configured plug-in, whether
    or not this process has its credentials, with its ``[transcripts]`` channel. Raises
    ``SettingError`` (a configured section that cannot place tickets, named)."""
    categories = tuple(categories)
    configured = [p for p in PLUGINS if p.configured(section(settings, p))]
    placed = [p for p in configured if not p.placed_alone]
    if not any(_threaded(p.traits) for p in placed):  # e-mail alone keeps no threads
        placed += [p for p in configured if p.placed_alone]
    transcripts = getattr(settings, "transcripts", None) or TranscriptsSection()
    return [replace(p.route(section(settings, p), categories),
                    transcripts_channel=p.transcripts_channel(transcripts))
            for p in placed]


def _threaded(traits: Traits) -> bool:
    return traits.team_thread or traits.ticket_thread is not ThreadPlace.NONE


def credentialed(credentials: BaseModel) -> list[Plugin]:
    """The plug-ins this process has credentials for (the chat platforms ``run`` starts)."""
    return [p for p in PLUGINS if p.has_credentials(credentials_of(p, credentials))]


def started(settings: object, credentials: BaseModel) -> list[Plugin]:
    """The plug-ins ``run`` starts: those with credentials, and those whose section
    holds all they need (``runs_when_configured``: e-mail) when it is configured."""
    return [p for p in PLUGINS if p.has_credentials(credentials_of(p, credentials))
            or (p.runs_when_configured and p.configured(section(settings, p)))]
