"""Who is acting, as Slack vouches for them: the ``Actor`` of a signed request.

The user id and team id come from the signed payload. The display name comes
from ``users.info`` (cached ``NAME_TTL`` seconds). Agent status is the core's
decision (``core.policy``'s permission table): this module only fills ``Actor.groups``
with the configured agent user groups (``slack.agent_groups``) the user belongs
to, read with ``usergroups.users.list`` and cached ``GROUP_TTL`` seconds, so a
user removed from the group stops being an agent within that time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.text import from_slack, mentioned_ids
from core.identity import Actor, UserRef

PLATFORM = "slack"
NAME_TTL = 600.0  # seconds a display name (or a user group's handle) is reused
MENTIONS_NAMED = 20  # distinct people named in one message, at most (users.info each)
GROUP_TTL = 60.0  # seconds a user group's member list is reused

log = logging.getLogger("helpthread.slack")


@dataclass
class _Profile:
    name: str
    locale: str | None
    at: float


class People:
    """Builds ``Actor``s for ``workspace`` users; ``agent_groups`` from the config."""

    def __init__(self, client: AsyncWebClient, agent_groups: tuple[str, ...]) -> None:
        self.client = client
        self.agent_groups = agent_groups
        self._profiles: dict[str, _Profile] = {}
        self._groups: dict[str, tuple[frozenset[str], float]] = {}
        self._handles: tuple[dict[str, str], float] = ({}, float("-inf"))
        self._lock = asyncio.Lock()

    async def readable(self, text: str) -> str:
        """``text.from_slack`` with the people and user groups Slack mentions by id
        named (``<@U123>`` → ``@Ada``), as a reader of the thread saw them."""
        users, groups = mentioned_ids(text)
        names = {u: await self.name(u) for u in sorted(users)[:MENTIONS_NAMED]}
        if groups:
            handles = await self._group_handles()
            names.update({g: handles[g] for g in groups if g in handles})
        return from_slack(text, names)

    async def actor(self, team: str, user_id: str, name_hint: str | None = None) -> Actor:
        """The signed user ``user_id`` of ``team`` with their name and agent groups."""
        profile = await self._profile(user_id, name_hint)
        groups = await self.groups_of(user_id)
        return Actor(UserRef(PLATFORM, team, user_id), profile.name, groups, profile.locale)

    async def name(self, user_id: str) -> str:
        return (await self._profile(user_id, None)).name

    async def _profile(self, user_id: str, hint: str | None) -> _Profile:
        now = time.monotonic()
        cached = self._profiles.get(user_id)
        if cached and now - cached.at < NAME_TTL:
            return cached
        try:
            answer = await self.client.users_info(user=user_id, include_locale=True)
            user = answer.get("user") or {}
            profile = user.get("profile") or {}
            name = (profile.get("display_name") or profile.get("real_name")
                    or user.get("real_name") or user.get("name") or hint or user_id)
            fresh = _Profile(from_slack(str(name)), user.get("locale"), now)
        except SlackApiError as err:  # missing users:read, deleted user: fall back
            log.warning("users.info %s failed: %s", user_id, err.response.get("error"))
            fresh = cached or _Profile(hint or user_id, None, now)
        self._profiles[user_id] = fresh
        return fresh

    async def _group_handles(self) -> dict[str, str]:
        """User-group id → handle (``usergroups.list``), cached ``NAME_TTL`` seconds."""
        handles, at = self._handles
        if time.monotonic() - at < NAME_TTL:
            return handles
        try:
            answer = await self.client.usergroups_list()
            handles = {str(g["id"]): str(g.get("handle") or g.get("name") or g["id"])
                       for g in answer.get("usergroups") or [] if g.get("id")}
        except SlackApiError as err:  # missing usergroups:read: ids stay ids
            log.warning("usergroups.list failed: %s", err.response.get("error"))
        self._handles = (handles, time.monotonic())
        return handles

    async def groups_of(self, user_id: str) -> frozenset[str]:
        """The configured agent groups ``user_id`` is a member of."""
        if not self.agent_groups:
            return frozenset()
        members = await asyncio.gather(*(self._members(g) for g in self.agent_groups))
        return frozenset(g for g, users in zip(self.agent_groups, members, strict=True)
                         if user_id in users)

    async def _members(self, group: str) -> frozenset[str]:
        now = time.monotonic()
        cached = self._groups.get(group)
        if cached and now - cached[1] < GROUP_TTL:
            return cached[0]
        async with self._lock:
            cached = self._groups.get(group)
            if cached and time.monotonic() - cached[1] < GROUP_TTL:
                return cached[0]
            try:
                answer = await self.client.usergroups_users_list(usergroup=group)
                users = frozenset(answer.get("users") or [])
            except SlackApiError as err:  # missing usergroups:read, unknown group
                log.warning("usergroups.users.list %s failed: %s", group,
                            err.response.get("error"))
                users = cached[0] if cached else frozenset()
            self._groups[group] = (users, time.monotonic())
            return users
