"""A real SMTP server for tests: ``aiosmtpd`` on a loopback port, in its own thread.

``MailSink`` keeps every message it accepted (parsed with the standard library) and
counts the connections (``EHLO``s) it served; ``refuse_rcpt`` scripts its answers to
the next ``RCPT TO`` commands (``451 4.3.0 try later``, ``550 5.1.1 no such user``),
as a real server under greylisting or with a mailbox gone would answer.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MailSink:
    """The server's handler: what it accepted, and what it will refuse next."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_answers: list[str] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse_rcpt(self, *answers: str) -> None:
        with self.lock:
            self.rcpt_answers.extend(answers)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.lock:
            if self.rcpt_answers:
                return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, seconds: float = 10.0) -> list[EmailMessage]:
        """The messages once at least ``count`` arrived (bounded wait, not a timing
        assertion)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"{count} messages expected, {len(self.messages)} arrived")


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user \
            and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(*, tls_context: ssl.SSLContext | None = None,
                login: tuple[str, str] | None = None,
                auth_without_tls: bool = False) -> Iterator[tuple[MailSink, int]]:
    """An SMTP server on 127.0.0.1 (a free port), offering STARTTLS — and requiring it —
    when ``tls_context`` is given, and AUTH for ``login`` (user, password): only over
    TLS, as aiosmtpd and most servers have it, unless ``auth_without_tls``."""
    sink = MailSink()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if login is not None:
        kwargs.update(authenticator=_Authenticator(*login), auth_required=True,
                      auth_require_tls=not auth_without_tls)
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for ``127.0.0.1``, made with the ``openssl``
    command (the test skips, naming it, where it is absent)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command (Debian package openssl) is not installed")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key
