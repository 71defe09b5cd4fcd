"""Issue 10, point 11 on Discord: ``/healthz`` counts the bot connected while its gateway
session is ready, and unavailable (503) once the client is closed."""

from __future__ import annotations

from bot.health import health
from tests.platform.discord.conftest import World


async def test_the_gateway_session_is_the_platforms_health(world: World) -> None:
    platforms = {"discord": world.platform}
    healthy, report = await health(world.runtime.engine, platforms)
    assert healthy, report
    assert report["platforms"] == {"discord": "connected"} and report["database"] == "ok"

    await world.platform.bot.close()  # the gateway gone: the process cannot hear Discord
    healthy, report = await health(world.runtime.engine, platforms)
    assert not healthy
    assert report["platforms"] == {"discord": "disconnected"}
    assert report["status"] == "unavailable" and report["database"] == "ok"
