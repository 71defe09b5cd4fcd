"""``helpthread run`` as a subprocess on a fresh SQLite database, started, killed and
started again on the same database and port; what it stored, read from that file."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.conftest import HELPTHREAD, clean_env

WAIT_STEPS = 600  # bounded polling: 600 × 0.1 s at most, never a timing assertion


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HelpthreadProcess:
    """One ``helpthread run`` at a time on the same database and port."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        """``env``: the platform's settings and credentials, added to a clean one."""
        self.tmp, self.port = tmp, _free_port()
        self.env = {**clean_env(tmp), "HELPTHREAD_PORT": str(self.port),
                    "HELPTHREAD_HOST": "127.0.0.1", **env}
        self.env = {k: v for k, v in self.env.items() if "PROXY" not in k.upper()}
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.runs += 1
        log = (self.tmp / f"run{self.runs}.log").open("wb")
        self.process = await asyncio.create_subprocess_exec(
            HELPTHREAD, "run", cwd=self.tmp, env=self.env, stdout=log, stderr=log)
        async with aiohttp.ClientSession() as http:
            for _ in range(WAIT_STEPS):
                assert self.process.returncode is None, self.log()
                try:
                    async with http.get(f"{self.url}/healthz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("helpthread run did not start:\n" + self.log())

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.tmp.glob("run*.log")))

    def parked(self) -> bool:
        """No delivery is leased and the next is due more than a second from now."""
        with sqlite3.connect(self.tmp / "desk.db") as db:
            due, leased = db.execute(
                "SELECT min(next_attempt_at), max(leased_until) FROM deliveries "
                "WHERE state = 'pending'").fetchone()
        now = datetime.now(UTC).replace(tzinfo=None)
        return (due is not None and datetime.fromisoformat(due) > now + timedelta(seconds=1)
                and (leased is None or datetime.fromisoformat(leased) < now))

    def comments(self, kind: str = "commented") -> list[tuple[str, str]]:
        """(author, text) of every comment (or ``kind``), in the order they were stored."""
        with sqlite3.connect(self.tmp / "desk.db") as db:
            return list(db.execute("SELECT actor_name, body FROM events "
                                   "WHERE kind = ? ORDER BY id", (kind,)))


async def until(check: Any, what: str, process: HelpthreadProcess, seen: Any = "") -> None:
    """Wait (bounded) until ``check()``; else fail naming ``what``, with ``seen`` and the
    process's log."""
    for _ in range(WAIT_STEPS):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} never happened\n{seen() if callable(seen) else seen}\n"
                         + process.log())
