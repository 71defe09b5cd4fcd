"""Who is who: platform identities as the platform signed them (DESIGN.md, "Actor")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME_MAX = 200  # the stores' name columns (tickets.requester_name, events.actor_name…)
# What no name column can hold alike on SQLite and PostgreSQL: NUL (PostgreSQL text
# cannot) and lone surrogates (no UTF-8); other C0/C1 controls would break a line.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def display_name(name: str) -> str:
    """A platform's display name as the desk keeps it. Names are not form fields, so they
    are never refused (a NUL in someone's profile must not lock them out of the desk):
    control characters and lone surrogates become U+FFFD, and past ``NAME_MAX``
    characters the name is cut, ending in "…"."""
    if _UNSTORABLE.search(name):
        name = _UNSTORABLE.sub("\ufffd", name)
    if len(name) > NAME_MAX:
        name = name[: NAME_MAX - 1] + "…"
    return name


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a name as ``display_name`` keeps it (a character it would
    replace, or too long), or None."""
    found = _UNSTORABLE.search(name)
    if found:
        return f"contains a control character (U+{ord(found.group()):04X})"
    if len(name) > NAME_MAX:
        return f"is {len(name)} characters long; the limit is {NAME_MAX}"
    return None


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user on one platform: ``platform`` (``slack``, ``discord``, ``shell``, ``email``),
    ``workspace`` (Slack team id, Discord guild id, ``local``; empty for e-mail) and
    ``user_id`` (platform user id or e-mail address)."""

    platform: str
    workspace: str
    user_id: str

    @property
    def key(self) -> str:
        """Stable text form ``platform:workspace:user_id`` used in storage."""
        return f"{self.platform}:{self.workspace}:{self.user_id}"

    @property
    def org(self) -> str:
        """The org a user belongs to: same platform and workspace (PRODUCT.md §1)."""
        return f"{self.platform}:{self.workspace}"

    @classmethod
    def parse(cls, key: str) -> UserRef:
        platform, workspace, user_id = key.split(":", 2)
        return cls(platform, workspace, user_id)

    @classmethod
    def email(cls, address: str) -> UserRef:
        return cls("email", "", address.strip().lower())


@dataclass(frozen=True, slots=True)
class Person:
    """A user with the display name we last saw for them (``display_name``)."""

    ref: UserRef
    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", display_name(self.name))


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: identity, display name, and the groups/roles the platform vouches for
    (Slack user-group ids, Discord role ids, the shell's ``agents``). ``system`` marks
    the desk itself (``SYSTEM``: the scheduler, e-mail intake), whose rights are a
    row of ``core.policy.PERMISSIONS`` like everyone's."""

    ref: UserRef
    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    locale: str | None = None
    system: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", display_name(self.name))

    @property
    def person(self) -> Person:
        return Person(self.ref, self.name)


SYSTEM = Actor(UserRef("desk", "", "system"), "the desk", system=True)
