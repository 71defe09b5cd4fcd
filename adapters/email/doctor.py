"""What ``helpthread doctor`` checks of e-mail (``core.checks``), when ``[email]`` is
configured: the section (a login with half its parts is refused as ``run`` refuses
it) and the signing key's length; then the SMTP server — connect, TLS or STARTTLS as
``email.security`` says, and the login when ``smtp_user`` is set, with the sender's
own client (``smtp.smtp_client``) — and, with ``email.imap_host``, the IMAP login and
``email.imap_folder`` (opened read-only: nothing is moved or made).
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import ipaddress
import ssl
import time

import aiosmtplib

from adapters.email.imap import MailboxError, logged_in, quoted, said
from adapters.email.plugin import PLUGIN
from adapters.email.settings import EmailSettings
from adapters.email.smtp import smtp_client
from core.checks import Check, Outcome, Probe, failed, ok, warning
from core.config import DeskConfig
from core.platforms import SettingError

SECTION = "E-mail [email]"
KEY = "E-mail signing_key"
SMTP = "SMTP"
IMAP = "IMAP"
GOOD_KEY_CHARS = 32  # a random key this long is out of guessing's reach
IMAP_LOGINS = 3  # attempts while the server answers [UNAVAILABLE]
IMAP_RETRY_SECONDS = 1.0
IMAP_PASSWORD_VARIABLE = "HELPTHREAD_EMAIL__IMAP_PASSWORD"


class _NoFolder(Exception):
    """``email.imap_folder`` could not be opened; the server's answer."""


def checks(settings: EmailSettings, config: DeskConfig, *,
           tls_context: ssl.SSLContext | None = None) -> list[Check | Probe]:
    """E-mail's checks; none when ``[email]`` is off. ``tls_context`` overrides the
    system's trusted certificates (tests, a private CA), as the sender's does."""
    if not settings.configured:
        return []
    try:
        PLUGIN.route(settings, config.categories)
        imap = (f"; IMAP {settings.imap_host}:{settings.imap_port} "
                f"({settings.imap_security}), folder {settings.imap_folder}"
                if settings.imap_host else "; no IMAP (replies come by `helpthread mail-in`)")
        section = ok(SECTION, f"from {settings.from_address}; SMTP {settings.smtp_host}:"
                     f"{settings.smtp_port} ({settings.security}){imap}")
    except SettingError as err:
        section = failed(SECTION, str(err))
    length = len(settings.key)
    key = ok(KEY, f"{length} characters") if length >= GOOD_KEY_CHARS else warning(
        KEY, f"{length} characters; {GOOD_KEY_CHARS} or more random ones are safer "
        "(openssl rand -hex 32): it signs the reply tokens that let a reply reach its ticket")
    found: list[Check | Probe] = [section, key]
    if section.outcome is Outcome.OK:
        found.append(Probe(SMTP, lambda seconds: _smtp(settings, tls_context, seconds)))
        if settings.imap_host:
            found.append(Probe(IMAP, lambda seconds: _imap(settings, tls_context, seconds)))
    return found


async def _smtp(settings: EmailSettings, tls_context: ssl.SSLContext | None,
                seconds: float) -> list[Check]:
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    smtp = smtp_client(settings, tls_context=tls_context, timeout=seconds)
    try:
        await smtp.connect()
    except aiosmtplib.SMTPAuthenticationError as err:
        return [failed(SMTP, f"email.smtp_user: the SMTP server at {where} refused the "
                       f"login ({err.code} {err.message})")]
    except ssl.SSLError as err:  # before OSError, which it is
        return [failed(SMTP, f"email.security = {settings.security}: the TLS handshake "
                       f"with {where} failed ({_first(err)})")]
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, OSError) as err:
        return [failed(SMTP, f"email.smtp_host: cannot connect to {where} ({_first(err)})")]
    except aiosmtplib.SMTPException as err:
        return [failed(SMTP, f"email.security = {settings.security}: {where} "
                       f"answered: {_first(err)}")]
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            if smtp.is_connected:
                await smtp.quit()
        smtp.close()
    login = f"logged in as {settings.smtp_user}" if settings.smtp_user \
        else "no login (email.smtp_user not set)"
    if settings.security == "none":
        plain = f"connected to {where} without TLS, {login}"
        if not _loopback(settings.smtp_host or ""):
            return [warning(SMTP, plain + "; security = none sends mail and the password "
                            "in clear: use starttls or tls")]
        return [ok(SMTP, plain)]
    return [ok(SMTP, f"connected to {where} ({settings.security.upper()}), {login}")]


async def _imap(settings: EmailSettings, tls_context: ssl.SSLContext | None,
                seconds: float) -> list[Check]:
    where = f"{settings.imap_host}:{settings.imap_port}"
    try:
        messages = await asyncio.to_thread(_examine, settings, tls_context, seconds)
    except _NoFolder as err:
        return [failed(IMAP, f"email.imap_folder: the IMAP server at {where} cannot open "
                       f"{settings.imap_folder!r}: {err}")]
    except MailboxError as err:  # the login: with no password, that is why
        if settings.imap_password is None:
            return [failed(IMAP, f"email.imap_password: not set ({IMAP_PASSWORD_VARIABLE});"
                           f" the IMAP server at {where} refused: {err}")]
        return [failed(IMAP, f"email.imap_user: the IMAP server at {where} refused: {err}")]
    except ssl.SSLError as err:
        return [failed(IMAP, f"email.imap_security = {settings.imap_security}: the TLS "
                       f"handshake with {where} failed ({_first(err)})")]
    except (OSError, imaplib.IMAP4.error) as err:
        return [failed(IMAP, f"email.imap_host: cannot use {where} ({_first(err)})")]
    user = settings.imap_user or settings.address
    return [ok(IMAP, f"logged in to {where} as {user}; {settings.imap_folder} holds "
               f"{messages} message{'' if messages == '1' else 's'}")]


def _examine(settings: EmailSettings, tls_context: ssl.SSLContext | None,
             seconds: float) -> str:
    """Log in and open ``imap_folder`` read-only (EXAMINE); its message count. Raises
    ``MailboxError`` for a refused login, ``_NoFolder`` for a folder it cannot open. A login
    answered ``[UNAVAILABLE]`` (RFC 5530: a temporary failure, e.g. Dovecot's auth
    process slow to answer) is tried again, ``IMAP_LOGINS`` times in all."""
    for attempt in range(IMAP_LOGINS):
        try:
            conn = logged_in(settings, tls_context, seconds)
            break
        except MailboxError as err:
            if "[UNAVAILABLE]" not in str(err) or attempt == IMAP_LOGINS - 1:
                raise
            time.sleep(IMAP_RETRY_SECONDS)
    try:
        kind, data = conn.select(quoted(settings.imap_folder), readonly=True)
        if kind != "OK":
            raise _NoFolder(f"{kind} {said(data)}")
        first = data[0] if data else b"?"
        return first.decode() if isinstance(first, bytes) else str(first)
    finally:
        with contextlib.suppress(Exception):
            conn.logout()


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _first(err: BaseException) -> str:
    text = said(err.args) if err.args and isinstance(err.args[0], bytes) else str(err)
    lines = text.strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
