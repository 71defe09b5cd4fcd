"""One of several OS processes opening tickets at once (test_concurrency_postgres.py).

    python -m tests.integration.open_tickets_worker URL WORKER COUNT

Builds the real ``Desk`` over ``SqlStores(make_engine(URL))``, warms one connection,
prints ``ready`` and waits for a line on stdin, so every process starts opening at the
same moment. Then an agent (``agent-WORKER``) opens COUNT tickets, one at a time, each
on behalf of a different requester (so no per-user limit or duplicate check applies),
and prints the numbers it got as one JSON line: ``{"numbers": [...]}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from sqlalchemy import text

from core.desk import Desk, NewTicket
from core.identity import Actor, UserRef
from core.routing import PlatformRoute
from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.support.people import desk_config

ROUTE = PlatformRoute(platform="shell", workspace="local", support_channel="ticket",
                      default_team_channel="team")


async def main(url: str, worker: int, count: int) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:  # connect before the start signal
            await conn.execute(text("SELECT 1"))
            await conn.rollback()
        desk = Desk(desk_config(), SqlStores(engine), [ROUTE])
        agent = Actor(UserRef("shell", "local", f"agent-{worker}"), f"Agent {worker}",
                      groups=frozenset({"agents"}))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        numbers = []
        for i in range(count):
            requester = Actor(UserRef("shell", "local", f"user-{worker}-{i}"),
                              f"User {worker}-{i}")
            opened = await desk.open_ticket(agent, NewTicket(
                category="general",
                subject=f"Question {i} from process {worker}",
                description=f"Opened by process {worker}, ticket {i} of {count}.",
                requester=requester,
            ))
            assert not opened.duplicate
            numbers.append(opened.ticket.number)
        print(json.dumps({"numbers": numbers}), flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
