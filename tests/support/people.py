"""People and a wired desk for tests: shell identities, a frozen clock, one route."""

from __future__ import annotations

from core.clock import FrozenClock
from core.config import DeskConfig
from core.desk import Desk, NewTicket
from core.identity import Actor, UserRef
from core.platforms import AgentRule, ThreadPlace, Traits
from core.routing import PlatformRoute
from core.store.port import StoreFactory

SHELL_ROUTE = PlatformRoute(platform="shell", workspace="local", support_channel="ticket",
                            default_team_channel="team")

# ``[email]`` configured: its route (no threads), as ``bot.registry.routes`` places it.
MAIL_ROUTE = PlatformRoute.of("email", "", Traits(team_thread=False,
                                                  ticket_thread=ThreadPlace.NONE,
                                                  thread_reaches_requester=False))

SHELL_AGENTS = {"shell": AgentRule(groups=frozenset({"agents"}), workspace="local")}


def desk_config(**sections: object) -> DeskConfig:
    """A ``DeskConfig`` whose agents are the shell's ``agents`` group, as ``[shell]``'s
    defaults make them."""
    return DeskConfig(agents=SHELL_AGENTS, **sections)  # type: ignore[arg-type]


def person(name: str, workspace: str = "local", platform: str = "shell") -> Actor:
    return Actor(UserRef(platform, workspace, name), name)


def agent(name: str) -> Actor:
    return Actor(UserRef("shell", "local", name), name, frozenset({"agents"}))


def make_desk(stores: StoreFactory, config: DeskConfig | None = None,
              clock: FrozenClock | None = None,
              routes: list[PlatformRoute] | None = None) -> Desk:
    return Desk(config or desk_config(), stores, routes or [SHELL_ROUTE],
                clock=clock or FrozenClock())


def form(subject: str = "Pixel not firing", description: str = "Sales are not recorded.",
         category: str = "technical", **kwargs: object) -> NewTicket:
    return NewTicket(category=category, subject=subject, description=description,
                     **kwargs)  # type: ignore[arg-type]
