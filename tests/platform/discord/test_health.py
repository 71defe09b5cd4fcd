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


async def test_metrics_count_discord_interactions_and_messages(world: World) -> None:
    """Point 11: requests by platform and kind, with the time to an interaction's first
    answer, read back with prometheus-client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    from bot.metrics import count_requests
    from tests.platform.discord.conftest import open_ticket

    w = world
    count_requests(w.platform, w.runtime.metrics)
    n = await open_ticket(w, w.alice)  # a command (the form) and a modal submission
    await w.deliver()
    await w.bob.click(w.team_card(n), label="Claim")  # a component
    await w.alice.send(w.ticket_thread(n), "any news?")  # a thread message
    families = {f.name: f for f in text_string_to_metric_families(
        (await w.runtime.metrics.render()).decode())}
    counted = {(s.labels["platform"], s.labels["kind"]): s.value
               for s in families["helpthread_requests"].samples
               if s.name == "helpthread_requests_total"}
    assert counted == {("discord", "command"): 1, ("discord", "modal_submit"): 1,
                       ("discord", "component"): 1, ("discord", "message"): 1}
    timed = [s for s in families["helpthread_acknowledgement_seconds"].samples
             if s.name.endswith("_count") and s.labels["platform"] == "discord"]
    assert [s.value for s in timed] == [3]  # each interaction's first answer, timed
