"""Issue 10, point 9: several real ``helpthread run`` processes started at once on one
fresh database all come up (Slack HTTP mode against FakeSlack, each on its own
HELPTHREAD_PORT): the first migrates under a lock, the others wait and find the schema
at head. None exits with a traceback; each stops cleanly on SIGTERM. Point 11 for the
shell run: ``/healthz`` and ``/metrics`` on HELPTHREAD_PORT while it reads stdin."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from core.store.migrate import MIGRATIONS
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.databases import drop_postgres, fresh_postgres_url, require_postgres
from tests.support.fake_slack import FakeSlack

SLACK_CONFIG = '[slack]\nsupport_channel = "C1"\nteam_channel = "C2"\n'
ROUNDS = 3  # a race shows in some tries only: it failed 6 of 9 before the lock
HANG_GUARD_SECONDS = 120  # only stops a hung run; nothing here asserts on time


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


async def _wait_up(proc: asyncio.subprocess.Process, port: int) -> bool:
    """True once ``/healthz`` answers on ``port``; False when the process exits first."""
    async with aiohttp.ClientSession() as http:
        while proc.returncode is None:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    return answer.status == 200
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    return False


async def _start_together(tmp_path: Path, url: str, count: int, fake: FakeSlack) -> None:
    """``count`` processes on ``url`` started at once: all up, all stop cleanly."""
    (tmp_path / "helpthread.toml").write_text(SLACK_CONFIG)
    ports = _free_ports(count)
    base = {**clean_env(tmp_path), "HELPTHREAD_DATABASE_URL": url,
            "HELPTHREAD_HOST": "127.0.0.1", "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.api_url}
    procs = [await asyncio.create_subprocess_exec(
        HELPTHREAD, "run", env={**base, "HELPTHREAD_PORT": str(port)}, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE) for port in ports]
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            up = await asyncio.gather(*(_wait_up(p, port) for p, port in zip(procs, ports,
                                                                             strict=True)))
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            outputs = await asyncio.gather(*(p.communicate() for p in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for proc, is_up, (_, err) in zip(procs, up, outputs, strict=True):
        stderr = err.decode()
        assert is_up, stderr
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr


def _head() -> str:
    versions = sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))
    return versions[-1].split("_", 1)[0]


async def test_three_processes_start_at_once_on_a_fresh_postgres(tmp_path: Path) -> None:
    await require_postgres()
    fake = await FakeSlack().start()
    try:
        for _ in range(ROUNDS):
            url, name = await fresh_postgres_url()
            try:
                await _start_together(tmp_path, url, 3, fake)
            finally:
                await drop_postgres(name)
    finally:
        await fake.stop()


async def test_two_processes_start_at_once_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    fake = await FakeSlack().start()
    try:
        for round_ in range(ROUNDS):
            path = tmp_path / f"desk-{round_}.db"
            await _start_together(tmp_path, f"sqlite+aiosqlite:///{path}", 2, fake)
            with sqlite3.connect(path) as db:  # one schema, not two half-applied ones
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                assert db.execute("SELECT version_num FROM alembic_version").fetchall() \
                    == [(_head(),)]
    finally:
        await fake.stop()


async def test_the_shell_run_serves_healthz_and_metrics_on_helpthread_port(
        tmp_path: Path) -> None:
    """With no platform credentials ``helpthread run`` is the shell desk; with
    HELPTHREAD_PORT set it serves ``/healthz`` and ``/metrics`` while it reads stdin."""
    (port,) = _free_ports(1)
    env = {**clean_env(tmp_path), "HELPTHREAD_PORT": str(port), "HELPTHREAD_HOST": "127.0.0.1"}
    proc = await asyncio.create_subprocess_exec(
        HELPTHREAD, "run", env=env, cwd=tmp_path, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            proc.stdin.write(b'/as priya\n/ticket new category=general subject="No payout" '
                             b'description="The payout for May is missing."\n')
            await proc.stdin.drain()
            assert await _wait_up(proc, port)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    report = await answer.json()
                while True:  # until the line above is handled: the ticket is counted
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                        text = await answer.text()
                    tickets = {tuple(s.labels.items()): s.value
                               for f in text_string_to_metric_families(text)
                               if f.name == "helpthread_tickets" for s in f.samples}
                    if tickets.get((("status", "open"),)):  # every status shows, at 0 too
                        break
                    await asyncio.sleep(0.1)
            proc.stdin.close()  # end of input: the shell run ends
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert report["platforms"] == {"shell": "connected"} and report["database"] == "ok"
    # every status is shown, at 0 too (a gauge that drops out reads as "no data")
    assert tickets == {(("status", status),): 1.0 if status == "open" else 0.0 for status in
                       ("open", "in_progress", "waiting", "on_hold", "resolved", "closed")}
    assert proc.returncode == 0, err.decode()
    assert "#1" in out.decode()
