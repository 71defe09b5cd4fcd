"""A desk on a real database (SQLite, PostgreSQL) whose e-mail goes, through the real outbox and
delivery worker, to a real SMTP server (``aiosmtpd``) on a loopback port."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from adapters.email.plugin import PLUGIN as EMAIL
from adapters.email.plugin import EmailCredentials, EmailPlatform
from adapters.email.settings import EmailSettings
from core.clock import FrozenClock
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.outbox import SqlOutbox
from core.store.sql import SqlStores
from tests.support.people import SHELL_ROUTE, desk_config, make_desk
from tests.support.recording import RecordingOutbound
from tests.support.smtp_server import MailSink, smtp_server

KEY = "a-signing-key-for-tests-only"


def email_settings(port: int, **keys: object) -> EmailSettings:
    return EmailSettings.model_validate({
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
        "from_address": "Acme Support <support@example.com>", "signing_key": SecretStr(KEY),
        "plus_addressing": True, **keys})


@dataclass
class MailDesk:
    desk: Desk
    worker: DeliveryWorker
    shell: RecordingOutbound
    email: EmailPlatform
    sink: MailSink
    clock: FrozenClock
    stores: SqlStores
    settings: EmailSettings


@pytest.fixture
def sink_and_port() -> Iterator[tuple[MailSink, int]]:
    with smtp_server() as served:
        yield served


async def wire(url: str, settings: EmailSettings, sink: MailSink,
               tls_context: ssl.SSLContext | None = None) -> tuple[MailDesk, object]:
    await upgrade_async(url)
    engine = make_engine(url)
    clock = FrozenClock()
    stores = SqlStores(engine)
    config = desk_config()
    routes = [SHELL_ROUTE, EMAIL.route(settings, config.categories)]
    desk = make_desk(stores, config, clock=clock, routes=routes)
    email = await EMAIL.build(desk, settings, EmailCredentials(), tls_context=tls_context)
    shell = RecordingOutbound()
    worker = DeliveryWorker(SqlOutbox(engine), [shell, email.outbound], config, clock=clock)
    return MailDesk(desk, worker, shell, email, sink, clock, stores, settings), engine


@pytest.fixture
async def mail_desk(database_url: str, sink_and_port: tuple[MailSink, int]
                    ) -> AsyncIterator[MailDesk]:
    """On SQLite and on PostgreSQL."""
    sink, port = sink_and_port
    wired, engine = await wire(database_url, email_settings(port), sink)
    await wired.email.start()
    try:
        yield wired
    finally:
        await wired.email.stop()
        await engine.dispose()  # type: ignore[attr-defined]
