"""A real IMAP server for tests: Debian's Dovecot on a loopback port with a throwaway
configuration (TESTING.md, "IMAP"): plaintext login on loopback, one passwd-file user,
maildir under the test's directory. Skips, naming the package, where it is absent."""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "support@example.com", "secret"
START_STEPS = 100  # × 0.05 s at most
SPARE_USERS = 40
LOGIN_ATTEMPTS = 25


@dataclass
class Imap:
    port: int
    user: str = USER
    password: str = PASSWORD
    spare: list[str] = field(default_factory=list)
    tls_port: int | None = None

    def new_user(self) -> Imap:
        """Another user with an empty mailbox on the same server: a fresh mailbox
        without a new server (``SPARE_USERS`` of them)."""
        return Imap(self.port, self.spare.pop(0), PASSWORD, tls_port=self.tls_port)

    def connect(self) -> imaplib.IMAP4:
        """Logged in; a "temporary authentication failure" (Dovecot's auth process slow
        to answer on a loaded machine) is tried again, a bounded number of times."""
        for attempt in range(LOGIN_ATTEMPTS):
            conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
            try:
                conn.login(self.user, self.password)
                return conn
            except imaplib.IMAP4.error as err:
                conn.shutdown()
                if b"UNAVAILABLE" not in str(err).encode() or attempt == LOGIN_ATTEMPTS - 1:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver ``raw`` to ``folder``, as the MTA would."""
        conn = self.connect()
        try:
            kind, data = conn.append(folder, None, None, raw)
            assert kind == "OK", data
        finally:
            conn.logout()

    def count(self, folder: str) -> int:
        """Messages in ``folder``; -1 when there is no such folder."""
        conn = self.connect()
        try:
            kind, data = conn.select(f'"{folder}"', readonly=True)
            if kind != "OK":
                return -1
            return int(data[0] or 0)
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_dovecot() -> None:
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's throwaway server needs root to switch to its own users "
                    "(package dovecot-imapd is installed)")


@contextmanager
def dovecot(tmp: Path, tls: tuple[Path, Path] | None = None) -> Iterator[Imap]:
    """Dovecot on 127.0.0.1:<free port> until the block ends. With ``tls`` (certificate,
    key): STARTTLS offered on that port, and implicit TLS on ``Imap.tls_port``."""
    require_dovecot()
    tmp.mkdir(parents=True, exist_ok=True)
    tmp.chmod(0o755)
    for parent in tmp.parents:  # traversable for Dovecot's own users
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    port, tls_port = _free_port(), _free_port()
    for sub in ("state", "mail"):
        (tmp / sub).mkdir()
    # Dovecot's sockets live in base_dir, and a Unix socket's path has ~107 bytes: a
    # pytest tmp path (longer under xdist or another user's name) does not fit.
    run = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    run.chmod(0o755)
    spare = [f"desk{i}@example.com" for i in range(SPARE_USERS)]
    (tmp / "users").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n"
                                       for user in [USER, *spare]))
    config = tmp / "dovecot.conf"
    config.write_text("\n".join([
        "protocols = imap", "listen = 127.0.0.1", f"base_dir = {run}",
        f"state_dir = {tmp}/state", f"log_path = {tmp}/dovecot.log",
        *([] if tls else ["ssl = no"]),
        "disable_plaintext_auth = no", "auth_mechanisms = plain login",
        f"mail_location = maildir:{tmp}/mail/%u", "default_internal_user = dovecot",
        "default_login_user = dovenull", "default_internal_group = dovecot",
        "first_valid_uid = 1",
        "passdb {", "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {tmp}/users", "}",
        "userdb {", "  driver = static",
        f"  args = uid=dovecot gid=dovecot home={tmp}/mail/%u", "}",
        "service imap-login {", "  inet_listener imap {", "    address = 127.0.0.1",
        f"    port = {port}", "  }",
        *(["  inet_listener imaps {", "    address = 127.0.0.1", f"    port = {tls_port}",
           "    ssl = yes", "  }"] if tls else []), "}",
        *(["ssl = yes", f"ssl_cert = <{tls[0]}", f"ssl_key = <{tls[1]}"] if tls else []),
        ""]))
    shutil.chown(tmp / "mail", "dovecot", "dovecot")
    subprocess.run([DOVECOT, "-c", str(config)], check=True, timeout=30)
    try:
        imap = Imap(port, spare=spare, tls_port=tls_port if tls else None)
        for _ in range(START_STEPS):
            try:
                imap.connect().logout()
                break
            except OSError:
                time.sleep(0.05)
        yield imap
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], timeout=30, check=False)
        shutil.rmtree(run, ignore_errors=True)
