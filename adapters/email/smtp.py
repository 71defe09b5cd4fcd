"""Sending over SMTP with ``aiosmtplib``: a few connections kept open and reused.

The delivery worker sends (ticket, platform) queues side by side; an SMTP connection
carries one transaction at a time, so the sender keeps up to ``max_connections``
open and hands each send an idle one — a batch of deliveries goes over the
connections already open instead of a new TCP + TLS + AUTH handshake per message.
A connection idle for ``check_after`` seconds is checked with ``NOOP`` before it is
reused (servers drop idle clients); ``close_idle`` closes those idle longer than
``idle_seconds`` (the platform calls it in the background).

What the server says decides what the worker does:

- a ``5xx`` to ``MAIL FROM``, ``RCPT TO`` or ``DATA`` refuses this message for good
  (no such mailbox, content rejected): ``Undeliverable``, the delivery is parked;
- a ``4xx`` (greylisting, mailbox full, try later), a dropped connection, a timeout,
  a server that cannot be reached or refuses our login: ``RetryLater`` with backoff.
  A refused login or TLS handshake is the desk's setting, not the message's fault,
  so those retry too (and are logged) until ``delivery.max_attempts`` parks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from email.message import EmailMessage

import aiosmtplib

from adapters.email.settings import EmailSettings
from core.outbound import RetryLater, Undeliverable

log = logging.getLogger("helpthread.email")

MAX_CONNECTIONS = 4
CHECK_AFTER_SECONDS = 10.0  # an idle connection older than this gets a NOOP first
IDLE_SECONDS = 30.0  # close_idle closes connections idle longer than this
TIMEOUT_SECONDS = 30.0  # each SMTP command


class SmtpSender:
    """Sends messages through ``email.smtp_host`` as ``settings`` say (``security``:
    ``tls`` from the first byte, ``starttls`` required, ``none`` plain). ``tls_context``
    overrides the system's trusted certificates (tests, a private CA)."""

    def __init__(self, settings: EmailSettings, *, tls_context: ssl.SSLContext | None = None,
                 max_connections: int = MAX_CONNECTIONS, timeout: float = TIMEOUT_SECONDS,
                 check_after: float = CHECK_AFTER_SECONDS,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self.timeout = timeout
        self.check_after = check_after
        self.idle_seconds = idle_seconds
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, idle since)
        self.connections_made = 0
        self.healthy = True  # the last connection attempt worked (or none was made)

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Send ``message`` from ``sender`` (the envelope's ``MAIL FROM``) to
        ``recipient``. Raises ``Undeliverable`` on a 5xx refusal of the message,
        ``RetryLater`` on anything that may pass later."""
        async with self._slots:
            smtp = await self._connection()
            try:
                await smtp.send_message(message, sender=sender, recipients=[recipient])
            except BaseException as err:
                await _close(smtp)
                verdict = _verdict(err)
                if verdict is err:
                    raise
                raise verdict from err
            self._idle.append((smtp, time.monotonic()))

    async def close_idle(self) -> None:
        """Close the connections idle for more than ``idle_seconds``."""
        now = time.monotonic()
        stale = [c for c, since in self._idle if now - since > self.idle_seconds]
        self._idle = [(c, s) for c, s in self._idle if now - s <= self.idle_seconds]
        for smtp in stale:
            await _close(smtp, quit_first=True)

    async def close(self) -> None:
        """Say ``QUIT`` on every idle connection and close it."""
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            await _close(smtp, quit_first=True)

    async def _connection(self) -> aiosmtplib.SMTP:
        """An open connection: an idle one that still answers, else a new one."""
        while self._idle:
            smtp, since = self._idle.pop()
            if not smtp.is_connected:
                continue
            if time.monotonic() - since < self.check_after:
                return smtp
            try:
                await smtp.noop()
                return smtp
            except (aiosmtplib.SMTPException, OSError):
                await _close(smtp)
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        smtp = smtp_client(s, tls_context=self.tls_context, timeout=self.timeout)
        try:
            await smtp.connect()
        except BaseException as err:
            self.healthy = False
            await _close(smtp)
            if isinstance(err, aiosmtplib.SMTPAuthenticationError):
                log.error("email.smtp_user: the SMTP server refused the login (%s %s)",
                          err.code, err.message)
                raise RetryLater(f"SMTP login refused: {err.code} {err.message}") from err
            if isinstance(err, aiosmtplib.SMTPException | OSError | TimeoutError):
                log.warning("SMTP server %s:%s cannot be reached: %s", s.smtp_host,
                            s.smtp_port, err)
                raise RetryLater(f"SMTP server {s.smtp_host}:{s.smtp_port}: "
                                 f"{type(err).__name__}: {err}") from err
            raise
        self.healthy = True
        self.connections_made += 1
        return smtp


def smtp_client(settings: EmailSettings, *, tls_context: ssl.SSLContext | None,
                timeout: float) -> aiosmtplib.SMTP:
    """An unconnected client for ``email.smtp_host`` as ``settings`` say: TLS from the
    first byte (``tls``), STARTTLS required (``starttls``) or plain (``none``); its
    ``connect()`` also logs in when ``smtp_user`` is set. ``timeout``: seconds for each
    command."""
    assert settings.smtp_host is not None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_user,
        password=password if settings.smtp_user else None, timeout=timeout,
        use_tls=settings.security == "tls", start_tls=settings.security == "starttls",
        tls_context=tls_context)


def _verdict(err: BaseException) -> BaseException:
    """What the worker is told of a failed transaction."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused) and err.recipients:
        err = err.recipients[0]
    if isinstance(err, aiosmtplib.SMTPResponseException):
        said = f"SMTP {err.code} {err.message}".strip()
        if 500 <= err.code < 600:
            return Undeliverable(said)
        return RetryLater(said)
    if isinstance(err, aiosmtplib.SMTPException | OSError | TimeoutError):
        return RetryLater(f"SMTP: {type(err).__name__}: {err}")
    return err


async def _close(smtp: aiosmtplib.SMTP, *, quit_first: bool = False) -> None:
    if quit_first and smtp.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await smtp.quit()
            return
    smtp.close()
