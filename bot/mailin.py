"""``helpthread mail-in``: one message on stdin, for an MTA pipe (issue 13, point 4).

Exit status, as an MTA reads it (sysexits): 0 when the message was taken, was a
duplicate, or was refused (with a bounce where the sender is told); 75 (``EX_TEMPFAIL``)
when it could not be handled now — the database unreachable or failing, the settings
unreadable, the bounce not sent — so the MTA keeps it queued and tries again. Nothing
else: a permanent failure status would make the MTA bounce to the sender itself, which
is the backscatter the desk's own bounce rules avoid.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

from adapters.email.bounce import smtp_bouncer
from adapters.email.taking import Taken, Temporary, take
from bot import registry
from bot.settings import Settings
from core.config import DeskConfig
from core.desk import Desk
from core.platforms import SettingError
from core.store.engine import make_engine
from core.store.migrate import CannotOpenDatabase, upgrade_async
from core.store.sql import SqlStores

__all__ = ["EX_OK", "EX_TEMPFAIL", "Temporary", "log_temporary", "mail_in", "read_limited",
           "refuse_setup", "report"]

EX_OK = 0
EX_TEMPFAIL = 75
CHUNK = 1 << 16


def read_limited(stream: BinaryIO, limit: int) -> tuple[bytes, int]:
    """At most ``limit + 1`` bytes of ``stream`` kept, the rest read and dropped (the MTA
    wants its pipe drained); returns them and the whole size in bytes."""
    kept = bytearray()
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if len(kept) <= limit:
            kept += chunk[: limit + 1 - len(kept)]
    return bytes(kept), size


async def mail_in(settings: Settings, config: DeskConfig, raw: bytes, size: int) -> Taken:
    """Take one message into the desk this config names (migrated first, as ``run``
    does; the running process's delivery worker sends what it queues). Raises
    ``Temporary``. Only what one message needs is built: no worker, no scheduler."""
    try:
        routes = registry.routes(settings, config.categories)
        await upgrade_async(settings.database_url)
    except (SettingError, CannotOpenDatabase) as err:
        raise Temporary(f"HELPTHREAD_DATABASE_URL: {err}" if isinstance(
            err, CannotOpenDatabase) else str(err)) from err
    engine = make_engine(settings.database_url)
    try:
        desk = Desk(config, SqlStores(engine), routes)
        bounce = smtp_bouncer(settings.email, config.desk.name)
        return await take(desk, raw, settings.email, bounce, size=size)
    finally:
        await engine.dispose()


def refuse_setup(settings: Settings) -> str | None:
    """Why ``mail-in`` cannot run with these settings (one line), or None."""
    if not settings.email.configured:
        return ("email.smtp_host: [email] is not configured; mail-in needs it (and "
                "email.signing_key) to read replies and send bounces")
    return None


def report(taken: Taken) -> str:
    """The one line ``mail-in`` prints on stderr for the MTA's log."""
    if taken.reason is not None:
        told = "; the sender was told" if taken.bounced else ""
        return f"helpthread: mail-in: refused: {taken.reason}{told}"
    return f"helpthread: mail-in: {taken.result.value} on #{taken.number}"


def log_temporary(err: Temporary) -> None:
    print(f"helpthread: mail-in: not taken now, try again later: {err}", file=sys.stderr)
