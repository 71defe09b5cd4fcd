"""E-mail as a platform plug-in (DESIGN.md, "Platforms are plug-ins"; issue 13).

Its section is ``[email]`` (``adapters.email.settings``), which also holds what it
needs to log in (the SMTP password from ``HELPTHREAD_EMAIL__SMTP_PASSWORD``): it has
no credentials of its own beside the section, so ``helpthread run`` starts it
whenever the section is ``configured`` (``smtp_host`` set) — beside Slack and
Discord, or beside the shell when no chat platform has credentials.

E-mail keeps no threads (``ThreadPlace.NONE``, no team thread): requesters and
watchers whose identity is an address hear of a ticket by mail, one message per
delivery, and agents work the ticket on the other platforms.

Background work: ``EmailPlatform.background`` lists coroutines run from ``start()``
until ``stop()``, each given the event that ends it — the sender's idle-connection
reaper is one; the mailbox poller (``adapters.email.imap``, with ``email.imap_host``)
is another.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from adapters.email.bounce import smtp_bouncer
from adapters.email.imap import MailboxPoller
from adapters.email.outbound import PLATFORM, EmailOutbound
from adapters.email.settings import EmailSettings
from adapters.email.smtp import SmtpSender
from core.checks import Check, Probe
from core.config import Category, DeskConfig, TranscriptsSection
from core.desk import Desk
from core.platforms import AgentRule, SettingError, ThreadPlace, Traits
from core.routing import PlatformRoute

Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
STOP_GRACE_SECONDS = 5.0  # background work gets this long to end after stop() asks


class EmailCredentials(BaseModel):
    """E-mail reads none beside its section (the SMTP password is ``[email]``'s)."""


@dataclass
class EmailPlatform:
    """E-mail's running parts: its route, the SMTP sender and the outbound port, and the
    ``background`` coroutines ``start()`` runs until ``stop()`` (each is handed an
    ``asyncio.Event`` set at stop, and should return soon after)."""

    route: PlatformRoute
    settings: EmailSettings
    sender: SmtpSender
    outbound: EmailOutbound = field(init=False)
    background: list[Background] = field(default_factory=list)
    poller: MailboxPoller | None = None  # with email.imap_host: run in the background
    _stop: asyncio.Event | None = field(default=None, init=False, repr=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.outbound = EmailOutbound(self.settings, self.sender)
        self.background.insert(0, self._reap_idle_connections)
        if self.poller is not None:
            self.background.append(self.poller.run)

    @property
    def connected(self) -> bool:
        """False when the last attempt to reach the SMTP server failed, or the mailbox
        poller's last attempt to reach the IMAP server (for /healthz)."""
        return self.sender.healthy and (self.poller is None or self.poller.healthy)

    def http_routes(self) -> list[object]:
        return []

    async def start(self) -> None:
        """Start the ``background`` coroutines. Nothing is sent until a delivery is due:
        an SMTP server that is down makes deliveries retry, not the start fail."""
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(work(self._stop)) for work in self.background]

    async def stop(self) -> None:
        """End the background work (cancelled after ``STOP_GRACE_SECONDS``) and close
        the SMTP connections."""
        if self._stop is not None:
            self._stop.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
        await self.sender.close()

    async def _reap_idle_connections(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.sender.idle_seconds / 2)
            await self.sender.close_idle()


class EmailPlugin:
    name = PLATFORM
    title = "e-mail"
    settings_model = EmailSettings
    credentials_model = EmailCredentials
    traits = Traits(team_thread=False, ticket_thread=ThreadPlace.NONE,
                    thread_reaches_requester=False)
    category_keys: tuple[str, ...] = ()
    transcript_keys: tuple[str, ...] = ()
    placed_alone = False
    runs_when_configured = True  # its section holds all it needs

    def agent_rule(self, settings: EmailSettings) -> AgentRule:
        """Nobody writing by e-mail is an agent: a From line proves nothing."""
        return AgentRule(workspace="")

    def configured(self, settings: EmailSettings) -> bool:
        return settings.configured

    def has_credentials(self, credentials: EmailCredentials) -> bool:
        return False  # none of its own: ``runs_when_configured`` starts it

    def check_credentials(self, credentials: EmailCredentials) -> None:
        return None

    def check_categories(self, categories: Iterable[Category]) -> None:
        return None

    def transcripts_channel(self, transcripts: TranscriptsSection) -> str | None:
        return None

    def route(self, settings: EmailSettings, categories: Iterable[Category]) -> PlatformRoute:
        """No threads anywhere: the route only names the platform, so notices to
        addresses are planned (``core.routing``). Raises ``SettingError`` for a login
        with half its parts (``smtp_user`` without a password, or the reverse)."""
        if settings.configured and (settings.smtp_user is None) != (
                settings.smtp_password is None):
            raise SettingError(
                "email.smtp_user: is set without HELPTHREAD_EMAIL__SMTP_PASSWORD"
                if settings.smtp_user else
                "email.smtp_password: is set without email.smtp_user (who logs in?)")
        return PlatformRoute.of(PLATFORM, "", self.traits)

    def doctor(self, settings: EmailSettings, credentials: EmailCredentials,
               config: DeskConfig, transcripts: TranscriptsSection) -> list[Check | Probe]:
        """What ``helpthread doctor`` checks of e-mail (``adapters.email.doctor``)."""
        from adapters.email.doctor import checks

        return checks(settings, config)

    async def build(self, desk: Desk, settings: EmailSettings, credentials: EmailCredentials,
                    *, tls_context: ssl.SSLContext | None = None) -> EmailPlatform:
        """The running platform; with ``email.imap_host`` set, its background work
        includes the mailbox poller (``adapters.email.imap``), started and stopped with
        it."""
        poller = None if settings.imap_host is None else MailboxPoller(
            desk, settings, smtp_bouncer(settings, desk.config.desk.name),
            ssl_context=tls_context)
        return EmailPlatform(self.route(settings, desk.config.categories), settings,
                             SmtpSender(settings, tls_context=tls_context), poller=poller)


PLUGIN = EmailPlugin()
