"""Who is acting, as Slack vouches for them: the ``Actor`` of a signed request.

The user id and team id come from the signed payload. The display name comes
from ``users.info`` (cached ``NAME_TTL`` seconds). Nothing here may stop what a
person sent from being stored (issue 10, point 1): every lookup waits at most
``LOOKUP_SECONDS`` and a failure (Slack down, refusing connections, an error) falls
back to what is cached — for a name never seen, the user id itself, a placeholder
that ``Namer`` replaces in the desk once Slack answers again. Agent status is the core's
decision (``core.policy``'s permission table): this module only fills ``Actor.groups``
with the configured agent user groups (``slack.agent_groups``) the user belongs
to, read with ``usergroups.users.list`` and cached ``GROUP_TTL`` seconds, so a
user removed from the group stops being an agent within that time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.text import from_slack, mentioned_ids
from core.identity import Actor, UserRef

PLATFORM = "slack"
NAME_TTL = 600.0  # seconds a display name (or a user group's handle) is reused
MENTIONS_NAMED = 20  # distinct people named in one message, at most (users.info each)
GROUP_TTL = 60.0  # seconds a user group's member list is reused
LOOKUP_SECONDS = 1.0  # a lookup on the way to storing a message waits at most this long
RETRY_LOOKUP_AFTER = 5.0  # seconds a failed name lookup is not tried again inline
# What a lookup can fail with when Slack is unreachable or refuses (slack_sdk raises
# aiohttp's and the OS's errors as they are).
LOOKUP_FAILURES = (SlackClientError, aiohttp.ClientError, OSError, TimeoutError)

log = logging.getLogger("helpthread.slack")


@dataclass
class _Profile:
    name: str
    locale: str | None
    at: float
    placeholder: bool = False  # Slack did not answer: ``name`` is the user id (or hint)


async def _bounded(call: Awaitable[Any]) -> Any:
    async with asyncio.timeout(LOOKUP_SECONDS):
        return await call


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

    def unnamed(self, user_id: str) -> bool:
        """Whether ``user_id``'s name is a placeholder (Slack did not answer)."""
        cached = self._profiles.get(user_id)
        return cached is not None and cached.placeholder

    async def _profile(self, user_id: str, hint: str | None) -> _Profile:
        now = time.monotonic()
        cached = self._profiles.get(user_id)
        if cached and now - cached.at < NAME_TTL:
            return cached
        try:
            fresh = await self.look_up(user_id, hint)
        except SlackApiError as err:  # missing users:read, deleted user: fall back
            log.warning("users.info %s failed: %s", user_id, err.response.get("error"))
            fresh = cached or _Profile(hint or user_id, None, now)
        except LOOKUP_FAILURES as err:  # Slack unreachable: store now, name it later
            log.warning("users.info %s failed: %s", user_id, type(err).__name__)
            fresh = cached or _Profile(hint or user_id, None,
                                       now - NAME_TTL + RETRY_LOOKUP_AFTER, placeholder=True)
        self._profiles[user_id] = fresh
        return fresh

    async def look_up(self, user_id: str, hint: str | None = None) -> _Profile:
        """``users.info`` now (bounded by ``LOOKUP_SECONDS``), cached on success. Raises
        ``SlackApiError`` when Slack refuses, ``LOOKUP_FAILURES`` when unreachable."""
        answer = await _bounded(self.client.users_info(user=user_id, include_locale=True))
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name")
                or user.get("real_name") or user.get("name") or hint or user_id)
        fresh = _Profile(from_slack(str(name)), user.get("locale"), time.monotonic())
        self._profiles[user_id] = fresh
        return fresh

    async def _group_handles(self) -> dict[str, str]:
        """User-group id → handle (``usergroups.list``), cached ``NAME_TTL`` seconds."""
        handles, at = self._handles
        if time.monotonic() - at < NAME_TTL:
            return handles
        try:
            answer = await _bounded(self.client.usergroups_list())
            handles = {str(g["id"]): str(g.get("handle") or g.get("name") or g["id"])
                       for g in answer.get("usergroups") or [] if g.get("id")}
        except SlackApiError as err:  # missing usergroups:read: ids stay ids
            log.warning("usergroups.list failed: %s", err.response.get("error"))
        except LOOKUP_FAILURES as err:  # unreachable: ids stay ids, try again soon
            log.warning("usergroups.list failed: %s", type(err).__name__)
            self._handles = (handles, time.monotonic() - NAME_TTL + RETRY_LOOKUP_AFTER)
            return handles
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
                answer = await _bounded(self.client.usergroups_users_list(usergroup=group))
                users = frozenset(answer.get("users") or [])
            except SlackApiError as err:  # missing usergroups:read, unknown group
                log.warning("usergroups.users.list %s failed: %s", group,
                            err.response.get("error"))
                users = cached[0] if cached else frozenset()
            except LOOKUP_FAILURES as err:  # unreachable: the last list known, if any
                log.warning("usergroups.users.list %s failed: %s", group,
                            type(err).__name__)
                users = cached[0] if cached else frozenset()
                self._groups[group] = (users, time.monotonic() - GROUP_TTL
                                       + RETRY_LOOKUP_AFTER)
                return users
            self._groups[group] = (users, time.monotonic())
            return users


NAMING_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between tries; the last repeats
NAMING_TRIES = 60  # about half an hour of tries, then the id stays the name


class Namer:
    """Fills in the names stored as placeholders while Slack could not be asked: tries
    ``users.info`` again (``NAMING_DELAYS``) and then has the desk rename the person
    (``rename``: history, requester, assignee). One task per person at a time."""

    def __init__(self, people: People,
                 rename: Callable[[UserRef, str, str], Awaitable[int]]) -> None:
        self.people = people
        self.rename = rename
        self._pending: dict[str, asyncio.Task[None]] = {}

    def later(self, person: UserRef, placeholder: str) -> None:
        """Name ``person`` (stored as ``placeholder``) once Slack answers."""
        if person.key in self._pending:
            return
        task = asyncio.get_running_loop().create_task(self._name(person, placeholder))
        self._pending[person.key] = task
        task.add_done_callback(lambda _: self._pending.pop(person.key, None))

    async def _name(self, person: UserRef, placeholder: str) -> None:
        for attempt in range(NAMING_TRIES):
            await asyncio.sleep(NAMING_DELAYS[min(attempt, len(NAMING_DELAYS) - 1)])
            try:
                profile = await self.people.look_up(person.user_id)
            except SlackApiError as err:  # Slack answers but will not name them
                log.warning("users.info %s: %s; the id stays their name", person.user_id,
                            err.response.get("error"))
                return
            except LOOKUP_FAILURES:
                continue
            try:
                renamed = await self.rename(person, placeholder, profile.name)
            except Exception:  # the store is down: try again after the next delay
                log.warning("renaming %s failed; trying again", person.user_id)
                continue
            log.info("slack.named user=%s rows=%s", person.user_id, renamed)
            return

    async def stop(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every pending name is filled in (tests)."""
        while self._pending:
            await asyncio.gather(*self._pending.values(), return_exceptions=True)
