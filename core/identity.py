"""Who is who: platform identities as the platform signed them (DESIGN.md, "Actor")."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    """A user with the display name we last saw for them."""

    ref: UserRef
    name: str


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

    @property
    def person(self) -> Person:
        return Person(self.ref, self.name)


SYSTEM = Actor(UserRef("desk", "", "system"), "the desk", system=True)
