"""Polling an IMAP mailbox (issue 13, point 4): ``email.imap_host`` set, ``helpthread
run`` reads ``email.imap_folder`` and takes each message into the desk
(``adapters.email.taking``), then moves it out of the way — to ``imap_done_folder``
once taken (or a duplicate), to ``imap_refused_folder`` when refused. A message the
desk could not handle now (database down, bounce not sent) stays where it is and is
tried again on the next round.

Between rounds the poller waits in ``IDLE`` (RFC 2177) where the server offers it —
new mail is taken within moments — and re-polls at least every
``imap_poll_seconds``; without IDLE it polls every ``imap_poll_seconds``. A lost
connection is logged and made again with backoff (1 s doubling to 60 s).

The standard library's ``imaplib`` does the protocol, in a worker thread per call
(``asyncio.to_thread``), so the event loop never blocks; ``IDLE``, which ``imaplib``
lacks before Python 3.14, is spoken over its connection here.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import select
import ssl
import time
from dataclasses import dataclass
from typing import Any

from adapters.email.bounce import Bouncer
from adapters.email.settings import EmailSettings
from adapters.email.taking import Result, Temporary, take
from core.desk import Desk

log = logging.getLogger("helpthread.email")

TIMEOUT_SECONDS = 30.0  # each IMAP command
IDLE_MAX_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE within 29 minutes
BACKOFF_MAX_SECONDS = 60.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(Exception):
    """The IMAP server refused a command (login, select, move)."""


@dataclass
class Round:
    """What one pass over the folder did."""

    taken: int = 0
    refused: int = 0
    deferred: int = 0  # left for the next round (a temporary failure)


def quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def said(data: object) -> str:
    """What the server answered, as text: ``imaplib`` hands its responses out as bytes
    (or a list of them), which ``str`` would show as ``b'…'``."""
    items = data if isinstance(data, list | tuple) else [data]
    return " ".join(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
                    for item in items if item is not None)


def _ok(answer: tuple[str, list[Any]], doing: str) -> list[Any]:
    kind, data = answer
    if kind != "OK":
        raise MailboxError(f"{doing}: {kind} {said(data)}")
    return data


def logged_in(settings: EmailSettings, ssl_context: ssl.SSLContext | None,
              timeout: float) -> imaplib.IMAP4:
    """A connection to ``email.imap_host`` (TLS, STARTTLS or plain as
    ``imap_security`` says), logged in as ``imap_user`` (default: the desk's address);
    ``timeout``: seconds for each command. Blocking. Raises ``MailboxError`` for a
    refused login, ``OSError``/``ssl.SSLError``/``imaplib.IMAP4.error`` otherwise."""
    host = settings.imap_host or ""
    conn: imaplib.IMAP4
    if settings.imap_security == "tls":
        context = ssl_context or ssl.create_default_context()
        conn = imaplib.IMAP4_SSL(host, settings.imap_port, ssl_context=context,
                                 timeout=timeout)
    else:
        conn = imaplib.IMAP4(host, settings.imap_port, timeout=timeout)
    try:
        if settings.imap_security == "starttls":
            conn.starttls(ssl_context=ssl_context or ssl.create_default_context())
        user = settings.imap_user or settings.address
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
        try:
            answer = conn.login(user, password)
        except imaplib.IMAP4.error as err:  # imaplib raises on NO
            raise MailboxError(f"login as {user}: {said(err.args)}") from None
        _ok(answer, f"login as {user}")
    except BaseException:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.shutdown()
        raise
    return conn


class Mailbox:
    """One logged-in connection on ``email.imap_folder`` (blocking calls: run them in a
    thread). Raises ``MailboxError`` or ``OSError``."""

    def __init__(self, settings: EmailSettings, ssl_context: ssl.SSLContext | None = None
                 ) -> None:
        self.conn = logged_in(settings, ssl_context, TIMEOUT_SECONDS)
        try:
            self.capabilities = self._capabilities()
            for folder in (settings.imap_done_folder, settings.imap_refused_folder):
                self.conn.create(quoted(folder))  # NO when it exists: fine
            _ok(self.conn.select(quoted(settings.imap_folder)),
                f"select {settings.imap_folder}")
        except BaseException:
            self.close()
            raise

    def _capabilities(self) -> set[str]:
        data = _ok(self.conn.capability(), "capability")
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode().upper()
        return set(words.split())

    @property
    def idles(self) -> bool:
        return "IDLE" in self.capabilities

    def uids(self) -> list[str]:
        data = _ok(self.conn.uid("SEARCH", "ALL"), "search")
        first = data[0] if data and isinstance(data[0], bytes) else b""
        return first.decode().split()

    def fetch(self, uid: str, max_bytes: int) -> tuple[bytes, int] | None:
        """The message (only its head when bigger than ``max_bytes``) and its size; None
        when it is gone (expunged meanwhile)."""
        sized = _ok(self.conn.uid("FETCH", uid, "(RFC822.SIZE)"), "fetch size")
        match = next((_SIZE.search(d) for d in sized if isinstance(d, bytes)
                      and _SIZE.search(d)), None)
        if match is None:
            return None
        size = int(match.group(1))
        part = "BODY.PEEK[HEADER]" if size > max_bytes else "BODY.PEEK[]"
        data = _ok(self.conn.uid("FETCH", uid, f"({part})"), "fetch")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1], size
        return None

    def move(self, uid: str, folder: str) -> None:
        if "MOVE" in self.capabilities:
            _ok(self.conn.uid("MOVE", uid, quoted(folder)), f"move to {folder}")
            return
        _ok(self.conn.uid("COPY", uid, quoted(folder)), f"copy to {folder}")
        _ok(self.conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "flag deleted")
        _ok(self.conn.expunge(), "expunge")

    def idle(self, stopped: asyncio.Event, seconds: float) -> bool:
        """Wait in IDLE until the server announces mail, ``seconds`` pass or ``stopped``
        is set (checked twice a second); True when mail was announced."""
        conn = self.conn
        heard = conn.untagged_responses  # announced during the last commands
        if heard.pop("EXISTS", None) or heard.pop("RECENT", None):
            return True
        tag: bytes = conn._new_tag()
        conn.send(tag + b" IDLE\r\n")
        news = False
        while not (line := conn.readline()).startswith(b"+"):
            if not line.startswith(b"*"):
                raise MailboxError(f"the server refused IDLE: {line!r}")
            news = news or b"EXISTS" in line or b"RECENT" in line
        sock = conn.sock
        deadline = time.monotonic() + seconds
        while not news and not stopped.is_set() and time.monotonic() < deadline:
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if pending or select.select([sock], [], [], 0.5)[0]:
                line = conn.readline()
                if not line:
                    raise MailboxError("the server closed the connection")
                news = b"EXISTS" in line or b"RECENT" in line
        conn.send(b"DONE\r\n")
        while True:
            line = conn.readline()
            if not line:
                raise MailboxError("the server closed the connection")
            if line.startswith(tag):
                return news

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.logout()


class MailboxPoller:
    """Takes the mail of ``email.imap_folder`` into ``desk`` until stopped."""

    def __init__(self, desk: Desk, settings: EmailSettings, bounce: Bouncer | None, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.desk = desk
        self.settings = settings
        self.bounce = bounce
        self.ssl_context = ssl_context
        self.rounds = 0
        self.healthy = True  # the last attempt to reach the server worked (or none yet)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll (and IDLE) until ``stop`` is set; connection failures are logged and
        retried with backoff, never raised."""
        backoff = 1.0
        while not stop.is_set():
            try:
                await self._session(stop)
                backoff = 1.0
            except (OSError, imaplib.IMAP4.error, MailboxError) as err:
                self.healthy = False
                log.warning("imap.unavailable host=%s error=%s retry_in=%s",
                            self.settings.imap_host, err, backoff)
            except Exception:  # a bug must not end the polling: logged, tried again
                log.exception("imap.failed host=%s retry_in=%s", self.settings.imap_host,
                              backoff)
            else:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)

    async def poll_once(self) -> Round:
        """Connect, take everything in the folder, log out."""
        box = await asyncio.to_thread(Mailbox, self.settings, self.ssl_context)
        try:
            return await self._drain(box)
        finally:
            await asyncio.to_thread(box.close)

    async def _session(self, stop: asyncio.Event) -> None:
        box = await asyncio.to_thread(Mailbox, self.settings, self.ssl_context)
        self.healthy = True
        log.info("imap.connected host=%s folder=%s idle=%s", self.settings.imap_host,
                 self.settings.imap_folder, box.idles)
        try:
            while not stop.is_set():
                done = await self._drain(box)
                wait = self.settings.imap_poll_seconds
                if done.deferred:  # the desk could not take one: not in a tight loop
                    wait = min(wait, BACKOFF_MAX_SECONDS)
                elif box.idles:
                    await asyncio.to_thread(box.idle, stop, min(wait, IDLE_MAX_SECONDS))
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            await asyncio.to_thread(box.close)

    async def _drain(self, box: Mailbox) -> Round:
        done = Round()
        self.rounds += 1
        for uid in await asyncio.to_thread(box.uids):
            fetched = await asyncio.to_thread(box.fetch, uid,
                                              self.settings.max_message_bytes)
            if fetched is None:
                continue
            raw, size = fetched
            try:
                taken = await take(self.desk, raw, self.settings, self.bounce, size=size)
            except Temporary as err:
                log.warning("imap.deferred uid=%s error=%s", uid, err)
                done.deferred += 1
                break  # the database is down: the rest waits too, in order
            except Exception:  # a bug: the message stays for the next round, logged
                log.exception("imap.failed uid=%s", uid)
                done.deferred += 1
                break
            refused = taken.result is Result.REFUSED
            folder = self.settings.imap_refused_folder if refused \
                else self.settings.imap_done_folder
            await asyncio.to_thread(box.move, uid, folder)
            done.refused += refused
            done.taken += not refused
        return done
