"""``/ticket stats`` on the shell (issue 12, point 4), through the real session and desk on
a migrated SQLite database: agents get the figures as tables and the chart's path (a
PNG that decodes); a requester is refused; a wrong period is named."""

from __future__ import annotations

import io
import re
from pathlib import Path

from adapters.shell.outbound import Printer
from adapters.shell.plugin import PLUGIN, ShellPlatform, ShellSettings
from adapters.shell.repl import ShellSession
from core.clock import FrozenClock
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores
from tests.support.people import desk_config
from tests.support.png import assert_png


def chart_is_a_png(path: Path) -> None:
    try:
        assert_png(path.read_bytes())
    finally:
        path.unlink()


async def test_agents_get_tables_and_a_chart_requesters_are_refused(sqlite_url: str) -> None:
    await upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    config, clock, out = desk_config(), FrozenClock(), io.StringIO()
    settings = ShellSettings()
    platform = ShellPlatform(PLUGIN.route(settings, config.categories), Printer(out),
                             settings=settings)
    stores = SqlStores(engine)
    desk = Desk(config, stores, [platform.route], clock=clock)
    worker = DeliveryWorker(SqlOutbox(engine), [platform.outbound], config, clock=clock)
    session = ShellSession(desk, worker, platform.printer, persona="lena", echo=True)

    async def typed(*lines: str) -> str:
        out.seek(0)
        out.truncate()
        for line in lines:
            assert await session.handle(line)
            await session.deliver()
        return out.getvalue()

    try:
        await typed('/ticket new category=billing subject="Invoice" description="Twice"')
        clock.advance(5400)
        said = await typed("/ticket stats")
        assert "stats" in said and "Chart:" not in said  # a requester: refused
        await typed("/as sam --agent", "/ticket reply 1 Refunded the second one",
                    "/ticket resolve 1 Refund sent")
        said = await typed("/ticket stats 7d")
        assert "Stats, 7d:" in said
        assert re.search(r"All tickets\s*│\s*1\s*│\s*1\s*│\s*0\s*│\s*1h 30m", said), said
        assert re.search(r"Billing & payments\s*│\s*1", said)
        assert re.search(r"│ sam\s*│", said)
        chart_is_a_png(Path(re.findall(r"Chart: (\S+\.png)", said)[0]))
        said = await typed("/ticket stats 365d")
        assert "period" in said and "Chart:" not in said
    finally:
        await engine.dispose()
