"""Reply tokens: which ticket and which recipient a reply answers, signed (issue 13).

A token is ``<number>-<recipient>-<signature>``: the ticket number, 8 hex digits of a
hash of the recipient's address, and 20 characters of an HMAC-SHA256 over both in
lower-case base32. Every part survives a mail server that folds the local part of an
address to lower case, and fits in a plus address (``support+1042-3f2a9c1e-…@…``) and
in a ``Message-ID``'s left side. Only the desk's ``email.signing_key`` makes one that
verifies, so knowing a ticket's number never lets a stranger post to it (the
django-helpdesk flaw issue 13 names).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

SIGNATURE_CHARS = 20  # 100 bits of the HMAC
_TOKEN = re.compile(r"(?<![0-9a-z])([0-9]{1,9})-([0-9a-f]{8})-([a-z2-7]{20})(?![0-9a-z])")


@dataclass(frozen=True, slots=True)
class ReplyToken:
    """A token as read from mail: not yet verified."""

    number: int
    recipient_digest: str  # 8 hex digits
    signature: str

    def __str__(self) -> str:
        return f"{self.number}-{self.recipient_digest}-{self.signature}"

    def verify(self, address: str, key: bytes) -> bool:
        """True when this token was signed with ``key`` for ticket ``number`` and the
        recipient ``address`` (compared case-insensitively), in constant time."""
        expected = sign(self.number, address, key)
        return hmac.compare_digest(str(self), expected)


def digest(address: str) -> str:
    """8 hex digits naming ``address`` (lower-cased) inside a token."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:8]


def sign(number: int, address: str, key: bytes) -> str:
    """The token for ticket ``number`` sent to ``address``, signed with ``key``."""
    recipient = digest(address)
    mac = hmac.new(key, f"{number}:{recipient}".encode(), hashlib.sha256).digest()
    signature = base64.b32encode(mac).decode().lower()[:SIGNATURE_CHARS]
    return f"{number}-{recipient}-{signature}"


def find_all(text: str) -> list[ReplyToken]:
    """Every token-shaped string in ``text``, in order (shape only, like ``find``)."""
    return [ReplyToken(int(n), r, sig) for n, r, sig in _TOKEN.findall(text.lower())]


def find(text: str) -> ReplyToken | None:
    """The first token-shaped string in ``text`` (an address, a ``Message-ID``, a
    ``References`` header), case-insensitively; None when there is none. Shape only:
    call ``ReplyToken.verify``."""
    match = _TOKEN.search(text.lower())
    if match is None:
        return None
    number, recipient, signature = match.groups()
    return ReplyToken(int(number), recipient, signature)
