"""Telling a sender their message was not taken (issue 13, point 5; README "Connect
e-mail", bounces).

A bounce goes to the message's envelope sender (``Return-Path``, else From), with an
empty envelope sender of its own (``MAIL FROM:<>``) and ``Auto-Submitted:
auto-replied`` (RFC 3834), so no auto-responder answers it and no loop starts. Which
refusals bounce is decided in ``adapters.email.inbound`` / ``taking``: never automatic
mail, never a failed DMARC/SPF check, never a stranger or a forged token (the From of
those may be anyone's: answering them is backscatter).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from adapters.email.inbound import Mail
from adapters.email.settings import EmailSettings

Bouncer = Callable[[Mail, str], Awaitable[None]]
SMTP_TIMEOUT_SECONDS = 30.0


class BounceFailed(Exception):
    """The bounce could not be handed to the SMTP server; the message stays unprocessed
    (``mail-in`` exits 75, the poller leaves it in the mailbox) and is tried again."""


def bounce_message(mail: Mail, reason: str, settings: EmailSettings, desk_name: str
                   ) -> EmailMessage:
    """The bounce for ``mail``, refused for ``reason`` (a sentence)."""
    message = EmailMessage()
    message["From"] = settings.from_address or settings.address
    message["To"] = mail.bounce_to
    subject = " ".join(mail.subject.split())[:120]
    message["Subject"] = f"Not delivered: {subject}" if subject else "Not delivered"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.address.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    if not mail.message_id.startswith("sha256:"):
        message["In-Reply-To"] = f"<{mail.message_id}>"
        message["References"] = f"<{mail.message_id}>"
    message.set_content(
        f"Your message to {desk_name} was not added to any ticket:\n\n"
        f"    {reason}.\n\n"
        "Nothing of it was kept. You can send it again once that is fixed.\n")
    return message


def smtp_bouncer(settings: EmailSettings, desk_name: str) -> Bouncer:
    """Sends bounces through ``email.smtp_*`` with an empty envelope sender. Raises
    ``BounceFailed`` when the server cannot be reached or refuses."""

    async def send(mail: Mail, reason: str) -> None:
        message = bounce_message(mail, reason, settings, desk_name)
        password = settings.smtp_password.get_secret_value() if settings.smtp_password \
            else None
        try:
            await aiosmtplib.send(
                message, sender="", recipients=[mail.bounce_to],
                hostname=settings.smtp_host, port=settings.smtp_port,
                username=settings.smtp_user if password else None, password=password,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                timeout=SMTP_TIMEOUT_SECONDS)
        except (aiosmtplib.SMTPException, OSError) as err:
            raise BounceFailed(f"cannot send the bounce to {mail.bounce_to}: {err}") from err

    return send

