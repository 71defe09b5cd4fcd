"""One inbound message, read and judged (issue 13, points 4–5): ``read`` parses the raw
RFC 5322 bytes into a ``Mail`` (never raising on bad charsets or broken MIME);
``decide`` names what it asks for — a comment on a ticket or a new ticket — or raises
``Refused`` with the reason and whether the sender is told (``bounce``).

Which ticket, in order (no fall-back between them):
1. a signed reply token — in the address it was sent to (``support+<token>@…``) or the
   ``In-Reply-To`` / ``References`` of the desk's message it answers. Tokens name their
   recipient, so the one that counts is the one signed for the sender's address;
   tokens that exist but none verifies refuse the message (a forged or forwarded
   token), without looking at the subject;
2. a ``[#N]`` tag in the subject;
3. neither: a new ticket when ``email.open_from_mail`` is on.
Whether the sender may comment on that ticket is core's decision
(``core.policy.Action.COMMENT_BY_MAIL``: its requester or a watcher), asked when it runs.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from adapters.email import headers, tokens
from adapters.email.automatic import authentication_failure, automatic
from adapters.email.quotes import reply_text
from adapters.email.settings import EmailSettings, check_address
from core.characters import BIDI_CONTROLS
from core.events import Attachment
from core.identity import display_name
from core.inbound import KEY_MAX

_TAG = re.compile(r"\[#([0-9]{1,9})\]")
_RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "to", "cc")
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                         + "".join(BIDI_CONTROLS) + "]")
FILE_NAME_MAX = 200
SUBJECT_MAX = 140


class Refused(Exception):
    """The message is not taken: ``reason`` for the log (and the bounce); ``bounce`` when
    the sender is told (never automatic mail or failed authentication: backscatter)."""

    def __init__(self, reason: str, *, bounce: bool = False, mail: Mail | None = None,
                 sender: str | None = None, message_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bounce = bounce
        self.mail = mail  # what was read of it, where a bounce needs it
        # For the log line when no Mail was made (automatic mail, a loop…): every
        # refusal names the sender and message id it could read (README, e-mail).
        self.sender = mail.sender if mail is not None else sender
        self.message_id = mail.message_id if mail is not None else message_id


@dataclass(frozen=True, slots=True)
class Mail:
    """A message as the desk reads it. ``sender`` is the From address, lower case;
    ``text`` the new part of the body (quote and signature removed, control characters
    shown as U+FFFD); ``size`` the raw message's bytes."""

    message: Message
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...]
    size: int
    return_path: str | None

    @property
    def request_key(self) -> str:
        """The desk's request key: the ``Message-ID`` (hashed when too long), so the same
        message twice — by the MTA and the poller, or retried — is stored once."""
        key = f"email:{self.message_id}"
        if len(key) > KEY_MAX:
            key = "email:sha256:" + hashlib.sha256(self.message_id.encode()).hexdigest()
        return key

    @property
    def bounce_to(self) -> str:
        """Where a bounce goes: the envelope sender (``Return-Path``) if given, else From."""
        return self.return_path or self.sender


@dataclass(frozen=True, slots=True)
class CommentOn:
    """Add the mail to ticket ``number`` as the sender's comment."""

    number: int
    by_token: bool


@dataclass(frozen=True, slots=True)
class OpenNew:
    """Open a ticket from the mail (``email.open_from_mail``)."""


Decision = CommentOn | OpenNew


def read(raw: bytes, settings: EmailSettings, size: int | None = None) -> Mail:
    """Parse ``raw`` (an mbox ``From `` line and leading blank lines are skipped). ``size``
    is the whole message's length when ``raw`` holds only its head (a message too big
    to fetch whole). Raises ``Refused`` for a message over ``max_message_bytes``
    (bounced), without one From address, from the desk itself, automatic, failing
    authentication, or with an attachment over ``max_attachment_bytes`` (bounced)."""
    size = len(raw) if size is None else size
    message = email.message_from_bytes(_strip_envelope(raw))
    headers.repair(message)
    message_id = _message_id(message, raw)
    try:
        sender, name = _sender(message)
    except Refused as refusal:
        raise Refused(refusal.reason, message_id=message_id) from None
    return_path = _return_path(message)
    if settings.from_address is not None and sender == settings.address.lower():
        raise Refused("it comes from the desk's own address (a loop)", sender=sender,
                      message_id=message_id)
    why = automatic(message, sender)
    if why is not None:
        raise Refused(f"automatic mail: {why}", sender=sender, message_id=message_id)
    failure = authentication_failure(message, settings.authserv_id)
    if failure is not None:
        raise Refused(f"{settings.authserv_id} reports {failure} for {sender}",
                      sender=sender, message_id=message_id)
    subject = _UNSHOWABLE.sub("\ufffd", " ".join(headers.text(message, "subject").split()))
    mail = Mail(message, message_id, sender, name, subject, "", (), size, return_path)
    if size > settings.max_message_bytes:
        raise Refused(f"the message is {_megabytes(size)}; this desk takes messages up to "
                      f"{_megabytes(settings.max_message_bytes)}", bounce=True, mail=mail)
    plain, html, attachments = _parts(message)
    for attachment in attachments:
        if attachment.size is not None and attachment.size > settings.max_attachment_bytes:
            raise Refused(f"the attachment {attachment.name!r} is "
                          f"{_megabytes(attachment.size)}; this desk takes attachments up "
                          f"to {_megabytes(settings.max_attachment_bytes)}", bounce=True,
                          mail=mail)
    text = _UNSHOWABLE.sub("\ufffd", reply_text(plain, html))
    return Mail(message, mail.message_id, sender, name, mail.subject, text,
                tuple(attachments), size, return_path)


def decide(mail: Mail, settings: EmailSettings) -> Decision:
    """Which ticket ``mail`` names (see the module's order), or ``OpenNew``. Raises
    ``Refused`` for tokens none of which verifies for the sender, or a message naming no
    ticket while ``open_from_mail`` is off."""
    found = _tokens(mail.message)
    if found:
        key = settings.key
        for token in found:
            if token.verify(mail.sender, key):
                return CommentOn(token.number, by_token=True)
        raise Refused(f"its reply token does not verify for {mail.sender} (forged, or "
                      "forwarded from another recipient); the subject is not consulted")
    tag = _TAG.search(mail.subject)
    if tag is not None:
        return CommentOn(int(tag.group(1)), by_token=False)
    if settings.open_from_mail:
        return OpenNew()
    raise Refused("it names no ticket and email.open_from_mail is off")


def new_subject(mail: Mail) -> str:
    """The subject a ticket opened from ``mail`` gets: one line, control characters
    dropped, at most ``SUBJECT_MAX`` characters (longer ones end in "…"), "(no subject)"
    when empty."""
    subject = " ".join(_UNSHOWABLE.sub(" ", mail.subject).split())
    subject = re.sub(r"[\u2028\u2029\u0085]", " ", subject).strip() or "(no subject)"
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


# ---- parsing ------------------------------------------------------------------------

def _strip_envelope(raw: bytes) -> bytes:
    """Without an mbox ``From `` line (Postfix ``pipe`` flag F) or leading blank lines,
    which would hide every header from the parser."""
    raw = raw.lstrip(b"\r\n")
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def _sender(message: Message) -> tuple[str, str]:
    addresses = [(name, addr) for name, addr in getaddresses(
        [str(v) for v in message.get_all("from", [])]) if addr]
    if len(addresses) != 1:
        raise Refused("it does not name exactly one sender (From)")
    name, address = addresses[0]
    try:
        checked = check_address(address, field_name="From").lower()
    except ValueError as err:
        raise Refused(str(err)) from None
    decoded = headers.words(name).strip() or checked.split("@")[0]
    return checked, display_name(decoded)


def _return_path(message: Message) -> str | None:
    value = str(message.get("return-path", "")).strip().strip("<>").strip()
    if not value:
        return None
    try:
        return check_address(value, field_name="Return-Path").lower()
    except ValueError:
        return None


def _message_id(message: Message, raw: bytes) -> str:
    value = str(message.get("message-id", "")).strip().strip("<>").strip()
    if value and not _UNSHOWABLE.search(value) and " " not in value:
        return value
    return "sha256:" + hashlib.sha256(raw).hexdigest()  # none: the bytes name it


def _tokens(message: Message) -> list[tokens.ReplyToken]:
    """Token-shaped strings where the desk puts them: the address the mail was sent to,
    then ``In-Reply-To``, then ``References`` (newest first)."""
    found: list[tokens.ReplyToken] = []
    for header in _RECIPIENT_HEADERS:
        for _, address in getaddresses([str(v) for v in message.get_all(header, [])]):
            local = address.split("@")[0]
            if "+" in local:
                found += tokens.find_all(local.split("+", 1)[1])
    found += tokens.find_all(str(message.get("in-reply-to", "")))
    for reference in reversed(str(message.get("references", "")).split()):
        found += tokens.find_all(reference)
    return found


def _decode(payload: bytes, charset: str | None) -> str:
    """Text in its declared charset; an unknown charset or plain ASCII holding 8-bit
    bytes is tried as UTF-8; what still does not decode becomes U+FFFD. Never raises."""
    name = (charset or "us-ascii").strip().strip('"').lower()
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = "utf-8"
    if codec == "ascii":
        codec = "utf-8"  # a superset: 8-bit mail that forgot to say so is usually UTF-8
    return payload.decode(codec, errors="replace")


def _parts(message: Message) -> tuple[str | None, str | None, list[Attachment]]:
    """The first text and HTML bodies and the attachments (name, size in bytes), without
    descending into attached messages."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    stack = [message]
    while stack:
        part = stack.pop(0)
        kind = part.get_content_type()
        if part.is_multipart() and not kind.startswith("message/"):
            stack[0:0] = [p for p in part.get_payload() if isinstance(p, Message)]
            continue
        name = _file_name(part)
        disposition = str(part.get("content-disposition", "")).split(";")[0].strip().lower()
        if name is None and disposition != "attachment" and kind == "text/plain":
            if plain is None:
                plain = _decode(_payload(part), part.get_content_charset())
            continue
        if name is None and disposition != "attachment" and kind == "text/html":
            if html is None:
                html = _decode(_payload(part), part.get_content_charset())
            continue
        if kind.startswith("multipart/"):
            continue
        default = "message.eml" if kind == "message/rfc822" else "attachment"
        attachments.append(Attachment(name or default, len(_payload(part))))
    return plain, html, attachments


def _payload(part: Message) -> bytes:
    if part.get_content_type().startswith("message/"):
        return part.as_bytes() if not part.is_multipart() else b"".join(
            p.as_bytes() for p in part.get_payload() if isinstance(p, Message))
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _file_name(part: Message) -> str | None:
    headers.repair(part)
    try:
        name = part.get_filename()
    except (LookupError, UnicodeError, ValueError):
        return "attachment"
    if not name:
        return None
    name = headers.words(name).strip().replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSHOWABLE.sub("\ufffd", name).strip() or "attachment"
    return name if len(name) <= FILE_NAME_MAX else name[: FILE_NAME_MAX - 1] + "…"


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 104_858 else f"{size} bytes"
