"""What core knows about platforms, as data each adapter's plug-in declares
(DESIGN.md, "Platforms are plug-ins"): who its agents are and what its threads can do.

Core never names a platform: ``DeskConfig.agents`` maps a platform's name to its
``AgentRule`` and ``core.routing.PlatformRoute`` carries its ``Traits``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.identity import Actor


@dataclass(frozen=True, slots=True)
class AgentRule:
    """Who is an agent on one platform: a user id in ``users``, or someone the platform
    signed with a group (user group, role) in ``groups`` — and only when signed in
    ``workspace`` (the same user id elsewhere is nobody). ``workspace`` None: any
    workspace the platform signs (it serves one and vouches for nothing else)."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    workspace: str | None = None

    def within(self, workspace: str) -> AgentRule:
        """This rule held to ``workspace`` — for a platform that learns which workspace
        it serves only when it connects (Slack's ``auth.test`` without ``slack.team_id``):
        its agents are nobody anywhere else. A rule already held to one is kept."""
        if self.workspace is not None:
            return self
        return AgentRule(self.users, self.groups, workspace)

    def admits(self, actor: Actor) -> bool:
        if actor.system:
            return False
        if self.workspace is not None and actor.ref.workspace != self.workspace:
            return False
        return actor.ref.user_id in self.users or bool(self.groups & actor.groups)


class ThreadPlace(StrEnum):
    """Where a platform keeps a ticket's public thread."""

    CHANNEL = "channel"  # under the card in the support channel (private: see Traits)
    DM = "dm"  # always in the requester's direct messages
    NONE = "none"  # no ticket thread (e-mail): the requester hears by DM/e-mail


@dataclass(frozen=True, slots=True)
class Traits:
    """What a platform's threads can do.

    ``team_thread``: it keeps a team thread (internal) for every ticket;
    ``ticket_thread``: where the requester's public thread lives;
    ``private_in_dm``: a private ticket's thread moves to the requester's DM (Slack);
    ``thread_reaches_requester``: the requester is in the ticket thread and is
    notified by it, so no extra DMs are needed (Discord private thread, shell);
    ``thread_admits_watchers``: the platform adds a watcher of its own workspace to the
    ticket thread (Discord's private thread), so they hear of it there, not by DM;
    ``watcher_dm_thread``: a watcher of its own workspace whom no open ticket thread
    takes in (a private ticket's thread is the requester's DM: Slack) gets their own
    thread in their DM with the app, to hear of each public event and comment there.
    """

    team_thread: bool = True
    ticket_thread: ThreadPlace = ThreadPlace.CHANNEL
    private_in_dm: bool = False
    thread_reaches_requester: bool = True
    thread_admits_watchers: bool = False
    watcher_dm_thread: bool = False


class SettingError(ValueError):
    """A setting a platform cannot work with; ``str()`` names it (``slack.team_channel
    is not set``). ``bot`` reports it like any invalid configuration."""


def require_internal_apart(support_channel: str, internal: Mapping[str, str | None]) -> None:
    """Internal channels (team, escalation; ``internal`` maps each setting's name to its
    channel id, None when unset) must not be the support channel ``support_channel``:
    team cards and internal notes there would be read by requesters' colleagues
    (PRODUCT.md §5: the team thread is internal). Raises ``SettingError`` naming the
    first setting that is."""
    for key, channel in internal.items():
        if channel is not None and channel == support_channel:
            raise SettingError(f"{key} is the support channel {channel}; team threads "
                               "hold internal notes, give them a channel of agents only")
