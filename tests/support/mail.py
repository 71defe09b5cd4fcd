"""Real mail for tests: the fixtures under tests/fixtures/mail (README there names each
one's source) and ways to aim one at a ticket without changing what its client wrote."""

from __future__ import annotations

from pathlib import Path

from adapters.email import tokens
from adapters.email.settings import EmailSettings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
KEY = "a-test-signing-key-of-32-chars!!"
DESK_ADDRESS = "support@example.com"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def settings(**overrides: object) -> EmailSettings:
    """``[email]`` for tests: SMTP on loopback (overridden by the test's server)."""
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1", "smtp_port": 2525, "security": "none",
        "from_address": f"Acme Support <{DESK_ADDRESS}>", "signing_key": KEY,
        "plus_addressing": True}
    values.update(overrides)
    return EmailSettings(**values)  # type: ignore[arg-type,unused-ignore]


def with_headers(raw: bytes, *lines: str) -> bytes:
    """``raw`` with header ``lines`` added on top (leading blank lines dropped first,
    which would otherwise end the head before it starts)."""
    head = "".join(f"{line}\r\n" for line in lines).encode()
    return head + raw.lstrip(b"\r\n")


def without_header(raw: bytes, name: str) -> bytes:
    """``raw`` without header ``name`` (and its folded lines) in the top-level head."""
    head, sep, body = raw.lstrip(b"\r\n").partition(b"\n\n")
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and dropping:
            continue
        dropping = line.lower().startswith(name.lower().encode() + b":")
        if not dropping:
            kept.append(line)
    return b"\n".join(kept) + sep + body


def reply_to(raw: bytes, number: int, recipient: str, *, key: str = KEY) -> bytes:
    """``raw`` as a reply to the desk's message on ticket ``number`` sent to ``recipient``:
    the token in ``In-Reply-To`` as the desk's ``Message-ID`` carries it."""
    token = tokens.sign(number, recipient, key.encode())
    return with_headers(without_header(raw, "In-Reply-To"), f"In-Reply-To: <{token}@example.com>")
