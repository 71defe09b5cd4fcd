"""Issue 11, point 9, with real processes: two ``helpthread run`` on one PostgreSQL
database; the first leads the scheduler and fires a ticket's SLA warning and breach;
``kill -9`` it; the second leads within 5 s and fires the next ticket's; every notice
fired exactly once."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from core.clock import SystemClock
from core.config import SlaTarget
from core.desk import Desk
from core.events import EventKind
from core.store.engine import make_engine
from core.store.leader import LOCK_KEY
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.e2e.test_processes import SLACK_CONFIG, _free_ports, _wait_up
from tests.support.databases import drop_postgres, fresh_postgres_url, require_postgres
from tests.support.fake_slack import FakeSlack
from tests.support.people import desk_config, form, person

SLA = '[sla.normal]\nfirst_response = "3s"\nresolution = "60s"\n'
HANG_GUARD_SECONDS = 120  # only stops a hung run


async def _leader_pid(engine: object) -> int | None:
    """The PostgreSQL backend holding the scheduler's lock, if one does."""
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return (await conn.execute(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objid = :key"), {"key": LOCK_KEY})).scalar()


async def _notices(engine: object, number: int) -> list[str]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = await conn.execute(text(
            "SELECT kind FROM events WHERE ticket_number = :n AND kind IN "
            "('sla_warning', 'sla_breached') ORDER BY id"), {"n": number})
        return [row.kind for row in rows]


async def _until(check: object, seconds: float) -> float:
    """Polls the coroutine function ``check`` until it returns true; how long it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():  # type: ignore[operator]
        if loop.time() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.1)
    return loop.time() - start


async def test_kill_9_the_leading_scheduler_and_another_process_takes_over(
        tmp_path: Path) -> None:
    await require_postgres()
    url, name = await fresh_postgres_url()
    fake = await FakeSlack().start()
    await upgrade_async(url)
    engine = make_engine(url)
    (tmp_path / "helpthread.toml").write_text(SLACK_CONFIG + SLA)
    ports = _free_ports(2)
    base = {**clean_env(tmp_path), "HELPTHREAD_DATABASE_URL": url,
            "HELPTHREAD_HOST": "127.0.0.1", "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.api_url}
    procs: list[asyncio.subprocess.Process] = []
    # The test's own desk writes tickets with the same targets (no threads: no routes).
    config = desk_config(sla={"normal": SlaTarget(first_response="3s",  # type: ignore[arg-type]
                                                  resolution="60s")})  # type: ignore[arg-type]
    desk = Desk(config, SqlStores(engine), [], clock=SystemClock())
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            for port in ports:  # the first is up and leading before the second starts
                procs.append(await asyncio.create_subprocess_exec(
                    HELPTHREAD, "run", env={**base, "HELPTHREAD_PORT": str(port)},
                    cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))
                assert await _wait_up(procs[-1], port)
                await _until(lambda: _has_leader(engine), 10)
            first_leader = await _leader_pid(engine)

            await desk.open_ticket(person("lena"), form(subject="first"))
            await _until(lambda: _fired(engine, 1), 20)

            procs[0].send_signal(signal.SIGKILL)
            await procs[0].wait()
            killed_at = datetime.now(UTC)
            await desk.open_ticket(person("omar"), form(subject="second"))
            took = await _until(lambda: _other_leads(engine, first_leader), 10)
            assert took < 5, f"no process led for {took:.1f} s after the leader died"
            await _until(lambda: _fired(engine, 2), 20)
            assert (datetime.now(UTC) - killed_at).total_seconds() < 20

            for number in (1, 2):
                assert await _notices(engine, number) == [
                    EventKind.SLA_WARNING.value, EventKind.SLA_BREACHED.value]
            procs[1].send_signal(signal.SIGTERM)
            _, err = await procs[1].communicate()
            assert procs[1].returncode == 0, err.decode()
            assert "Traceback" not in err.decode()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await engine.dispose()
        await fake.stop()
        await drop_postgres(name)


async def _has_leader(engine: object) -> bool:
    return await _leader_pid(engine) is not None


async def _other_leads(engine: object, old: int | None) -> bool:
    pid = await _leader_pid(engine)
    return pid is not None and pid != old


async def _fired(engine: object, number: int) -> bool:
    return len(await _notices(engine, number)) == 2
