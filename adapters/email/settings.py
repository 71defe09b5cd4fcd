"""``[email]``: the e-mail platform's section (PRODUCT.md §9–10).

Off without ``smtp_host`` — and then no other key may be set: a section that sets
some keys but not ``smtp_host`` is refused, not silently off. Secrets come from the
environment under the settings' nested names: ``HELPTHREAD_EMAIL__SMTP_PASSWORD``,
``HELPTHREAD_EMAIL__IMAP_PASSWORD``, ``HELPTHREAD_EMAIL__SIGNING_KEY`` (or the config
file, for a throwaway desk).
"""

from __future__ import annotations

import unicodedata
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.utils import parseaddr
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from core.config_types import NamingKeys
from core.errors import Invalid
from core.watching import email_address

Security = Literal["starttls", "tls", "none"]

MIB = 1024 * 1024
SIGNING_KEY_MIN_CHARS = 16  # an HMAC key a person can guess protects nothing


def check_address(value: str, *, field_name: str) -> str:
    """``value`` as a bare, normalised e-mail address (``name@example.com``), checked by
    ``email-validator`` without a DNS lookup. Raises ``ValueError`` naming ``field_name``."""
    try:
        return email_address(value, field_name)
    except Invalid as err:
        raise ValueError(str(err)) from None


_HEADERS = HeaderRegistry()
_BREAKS = frozenset({"Cc", "Zl", "Zp"})  # control characters, line and paragraph separators


def check_mailbox(value: str, *, field_name: str) -> str:
    """``value`` as one mailbox for a header: a bare address or ``Name <address>``, the
    address normalised (``check_address``). Raises ``ValueError`` naming ``field_name``
    for a line break or control character (it would start a header of its own), more
    than one address, or text the address parser does not take whole."""
    value = value.strip()
    if any(unicodedata.category(ch) in _BREAKS for ch in value):
        raise ValueError(f"{field_name}: {value!r} holds a line break or control "
                         "character; give one address, like \"Acme <support@example.com>\"")
    parsed = _HEADERS("From", value)
    header = cast(AddressHeader, parsed)  # a "From" header is an address header
    mailboxes = header.addresses
    if len(mailboxes) > 1 or any(group.display_name is not None for group in header.groups):
        raise ValueError(f"{field_name}: {value!r} holds more than one address or a group; "
                         "give exactly one")
    if len(mailboxes) != 1 or parsed.defects:
        why = "; ".join(str(defect) for defect in parsed.defects) or "no address in it"
        raise ValueError(f"{field_name}: {value!r} is not one e-mail address ({why}); "
                         "write it like \"Acme <support@example.com>\"")
    name, address = mailboxes[0].display_name, mailboxes[0].addr_spec
    checked = check_address(address, field_name=field_name)
    return str(Address(display_name=name, addr_spec=checked)) if name else checked


class EmailSettings(BaseModel):
    """The ``[email]`` keys. ``from_address`` may carry a display name
    (``"Acme Support <support@example.com>"``); ``reply_to`` defaults to its address.
    Sizes are bytes; ``imap_poll_seconds`` is seconds between polls where the server
    offers no IDLE."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Security = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    from_address: str | None = None
    reply_to: str | None = None
    signing_key: SecretStr | None = None
    plus_addressing: bool = False
    open_from_mail: bool = False
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "tls"
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = Field(default="INBOX", min_length=1)
    imap_done_folder: str = Field(default="Helpthread", min_length=1)  # taken mail moves here
    imap_refused_folder: str = Field(default="Helpthread-refused", min_length=1)
    imap_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    authserv_id: str | None = None  # trust Authentication-Results from this server only
    max_message_bytes: int = Field(default=25 * MIB, gt=0)
    max_attachment_bytes: int = Field(default=10 * MIB, gt=0)

    @field_validator("from_address", "reply_to")
    @classmethod
    def _mailbox(cls, value: str | None, info: object) -> str | None:
        if value is None:
            return None
        return check_mailbox(value, field_name=f"email.{_name(info)}")

    @field_validator("smtp_host", "authserv_id")
    @classmethod
    def _not_blank(cls, value: str | None, info: object) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(f"email.{_name(info)}: is blank; give a host name, or leave the "
                             "key out")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _complete(self) -> EmailSettings:
        if self.smtp_host is None:
            others = sorted(self.model_fields_set - {"smtp_host"})
            if others:  # only the keys set: the loader names where each was
                raise NamingKeys(
                    "email.smtp_host: is needed when other e-mail keys are set ({keys}); "
                    "without it e-mail is off — set it, or remove those",
                    [f"email.{key}" for key in others])
            return self
        if self.from_address is None:
            raise ValueError("email.from_address: is needed when email.smtp_host is set")
        key = self.signing_key.get_secret_value() if self.signing_key else ""
        if len(key) < SIGNING_KEY_MIN_CHARS:
            raise ValueError(f"email.signing_key: needs at least {SIGNING_KEY_MIN_CHARS} "
                             "characters (set HELPTHREAD_EMAIL__SIGNING_KEY); it signs the "
                             "reply tokens that let a reply reach its ticket")
        if self.max_attachment_bytes > self.max_message_bytes:
            raise ValueError("email.max_attachment_bytes: exceeds email.max_message_bytes")
        return self

    @property
    def configured(self) -> bool:
        """E-mail is on: ``smtp_host`` is set (PRODUCT.md §10)."""
        return self.smtp_host is not None

    @property
    def address(self) -> str:
        """The desk's bare address (``support@example.com``). Raises ``ValueError`` when
        e-mail is off."""
        if self.from_address is None:
            raise ValueError("email.from_address: is not set")
        return parseaddr(self.from_address)[1]

    @property
    def key(self) -> bytes:
        """The signing key's bytes. Raises ``ValueError`` when it is not set."""
        if self.signing_key is None:
            raise ValueError("email.signing_key: is not set")
        return self.signing_key.get_secret_value().encode()


def _name(info: object) -> str:
    return str(getattr(info, "field_name", "address"))
