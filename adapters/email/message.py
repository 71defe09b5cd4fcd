"""Building one outgoing e-mail with the standard library (``email.message.EmailMessage``).

Headers, and why:

- ``Subject: [#1042] <subject>``; ``To``: the recipient alone (one message each, so
  every message carries that recipient's own reply token).
- ``Message-ID: <TOKEN.STAMP@domain>`` on the first message a recipient gets about a
  ticket (the requester's receipt, a watcher's "copied on" notice): the **thread
  root**, derived from the token and the ticket's opening time, so it needs no
  storage. Every later message is ``<TOKEN.DELIVERY-ID.STAMP@domain>`` — unique per
  delivery and the same on every attempt of it, so a retry after a crash is the same
  message, which mail clients show once — with ``In-Reply-To`` and ``References``
  naming the root, so mail clients thread them. ``TOKEN`` is the signed reply token
  (``adapters.email.tokens``): a reply's ``In-Reply-To``/``References`` names its
  ticket and recipient even when the reply address was rewritten.
- ``Reply-To``: ``support+TOKEN@domain`` with ``email.plus_addressing``, else
  ``email.reply_to`` when set (else replies go to ``From``).
- ``Auto-Submitted: auto-generated`` (RFC 3834) on automatic notices — the receipt, a
  watcher's "copied on" notice and whatever the desk itself did (expiry, auto-close,
  reminders) — so well-behaved auto-responders stay quiet;
  ``X-Auto-Response-Suppress: OOF, AutoReply`` asks Exchange not to send
  out-of-office answers to any of them.
- ``Date``: when the delivery was queued; it and the MIME boundary are the same on
  every attempt, so a retry sends the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from adapters.email import tokens
from adapters.email.render import Mail
from adapters.email.settings import EmailSettings


@dataclass(frozen=True, slots=True)
class Envelope:
    """What makes one message unique: ticket ``number``, the ``recipient``'s bare
    address, the delivery's ``delivery_id`` and ``queued_at`` (UTC), the ticket's
    ``opened_at`` (UTC), and whether it is the ``first`` message this recipient gets
    about the ticket (the thread root)."""

    number: int
    recipient: str
    delivery_id: int
    queued_at: datetime
    opened_at: datetime
    first: bool


MAX_HEADER_LINE = 78  # RFC 5322's recommended line length


def base36(moment: datetime) -> str:
    """``moment`` as whole microseconds since the epoch, in base 36 (lower case)."""
    value = round(moment.timestamp() * 1_000_000)
    digits = ""
    while True:
        value, rest = divmod(value, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
        if value == 0:
            return digits


def domain_of(settings: EmailSettings) -> str:
    return settings.address.rsplit("@", 1)[1]


def thread_root(settings: EmailSettings, number: int, recipient: str,
                opened_at: datetime) -> str:
    """The ``Message-ID`` of the first message ``recipient`` gets about ticket
    ``number`` (opened at ``opened_at``), which every later one refers to."""
    token = tokens.sign(number, recipient, settings.key)
    return f"<{token}.{base36(opened_at)}@{domain_of(settings)}>"


def message_id(settings: EmailSettings, envelope: Envelope) -> str:
    """The delivery's ``Message-ID``: the thread root for the ``first`` message, else one
    unique per delivery and stable across its retries."""
    if envelope.first:
        return thread_root(settings, envelope.number, envelope.recipient, envelope.opened_at)
    token = tokens.sign(envelope.number, envelope.recipient, settings.key)
    return (f"<{token}.{envelope.delivery_id}.{base36(envelope.queued_at)}"
            f"@{domain_of(settings)}>")


def reply_address(settings: EmailSettings, number: int, recipient: str) -> str | None:
    """Where a reply should go: the plus address carrying the token, ``reply_to``, or
    None (``From``)."""
    base = parseaddr(settings.reply_to)[1] if settings.reply_to else settings.address
    if settings.plus_addressing:
        local, domain = base.rsplit("@", 1)
        return f"{local}+{tokens.sign(number, recipient, settings.key)}@{domain}"
    return base if settings.reply_to else None


def sender(settings: EmailSettings, desk_name: str) -> str:
    """``From``: ``email.from_address`` as configured, signed with ``desk.name`` when it
    has no display name of its own; RFC 2047-encoded where it is not ASCII."""
    name, address = parseaddr(settings.from_address or "")
    return formataddr((name or desk_name, address), charset="utf-8")


def encoded(name: str, value: str) -> str:
    """``value`` as RFC 2047 encoded words where it is not ASCII, folded at 76
    characters — by ``email.header.Header``, because the ``email`` package's default
    policy (Python 3.11) drops the space between two encoded words when it folds a
    long header (``… 77 — 払い戻し`` arrived as ``… 77 —払い戻し``)."""
    value = " ".join(value.splitlines())  # one line, whatever it held: no header injection
    if value.isascii() and len(value) + len(name) + 2 <= MAX_HEADER_LINE:
        return value
    charset = "us-ascii" if value.isascii() else "utf-8"  # long ASCII: folded, not encoded
    return Header(value, charset, header_name=name).encode()


def build(mail: Mail, envelope: Envelope, settings: EmailSettings,
          desk_name: str) -> EmailMessage:
    """The message for ``mail`` to ``envelope.recipient``: text and HTML alternatives,
    threading headers, reply token. Raises ``ValueError`` when e-mail is not set up
    (``email.from_address`` or ``email.signing_key`` missing)."""
    message = EmailMessage()
    message.set_raw("From", encoded("From", sender(settings, desk_name)))
    message["To"] = envelope.recipient
    message.set_raw("Subject", encoded("Subject", mail.subject))  # stored as encoded
    message["Date"] = format_datetime(envelope.queued_at)
    message["Message-ID"] = message_id(settings, envelope)
    if not envelope.first:
        root = thread_root(settings, envelope.number, envelope.recipient, envelope.opened_at)
        message["In-Reply-To"] = root
        message["References"] = root
    reply = reply_address(settings, envelope.number, envelope.recipient)
    if reply is not None:
        message["Reply-To"] = reply
    if mail.automatic:
        message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    # quoted-printable: 7-bit on the wire, whatever the text and the server's extensions
    message.set_content(mail.text, cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    message.set_boundary(_boundary(settings, str(message["Message-ID"])))
    return message


def _boundary(settings: EmailSettings, message_id: str) -> str:
    """The MIME boundary, derived (keyed) from the ``Message-ID``: the same on every
    attempt, and nothing a sender could predict and write into a comment."""
    mac = hmac.new(settings.key, f"boundary:{message_id}".encode(), hashlib.sha256)
    return f"=_helpthread_{mac.hexdigest()[:32]}"
