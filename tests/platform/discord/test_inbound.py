"""Issue 10, points 1–3 and 8 on Discord: a thread message is one comment whatever
envelope brings it, messages written while no bot ran are caught up in order on the
next READY, a message the desk could not store is read again once it can, and a
member of another server is nobody here."""

from __future__ import annotations

from pathlib import Path

from core.identity import Actor, UserRef
from core.policy import Action
from core.store.engine import make_engine
from core.store.sql import SqlStores
from tests.platform.discord.conftest import World, open_ticket


def _texts(channel) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.embeds[0].description or "" for m in channel.history() if m.embeds]


async def _comments(w: World, n: int) -> list[tuple[str, str]]:
    return [(e.actor.name if e.actor else "", e.text or "") for e in await w.history(n)
            if e.kind.value in ("commented", "noted")]


async def test_the_same_message_dispatched_twice_is_one_comment(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    sent = await w.alice.send(w.ticket_thread(n), "charged twice")
    stored = w.env.backend.messages[w.ticket_thread(n).id][sent.id]
    w.env.backend.announce_message_create(stored)  # a second MESSAGE_CREATE (a replay)
    await w.env.settle()
    await w.deliver()
    assert await _comments(w, n) == [("Alice", "charged twice")]
    assert _texts(w.team_thread(n)).count("charged twice") == 1


async def test_messages_written_while_no_bot_ran_are_caught_up_in_order_once(
        world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    await w.alice.send(w.ticket_thread(n), "before the crash")
    await w.deliver()
    # Written while the bot was away: stored by Discord, never dispatched to us.
    ticket, team = w.ticket_thread(n), w.team_thread(n)
    for i in range(5):
        w.env.backend.create_message(ticket.id, w.alice.id, f"while down {i}",
                                     broadcast=False)
    w.env.backend.create_message(team.id, w.bob.id, "note while down", broadcast=False)
    await w.restart()
    assert await w.bot.inbox.caught_up() == 6
    await w.deliver()
    assert await _comments(w, n) == [("Alice", "before the crash")] + [
        ("Alice", f"while down {i}") for i in range(5)] + [("Bob", "note while down")]
    mirrored = [t for t in _texts(w.team_thread(n)) if "while" in t or "crash" in t]
    assert mirrored == ["before the crash"] + [f"while down {i}" for i in range(5)]
    await w.restart()  # the next READY reads the same threads: nothing is added
    assert await w.bot.inbox.caught_up() == 0
    assert len(await _comments(w, n)) == 7


async def test_a_message_the_desk_could_not_store_is_read_again_once_it_can(
        world: World, tmp_path: Path) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    stores = w.runtime.desk.stores
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/desk.db")
    w.runtime.desk.stores = SqlStores(engine)  # no such file can be opened
    try:
        await w.alice.send(w.ticket_thread(n), "are you there?")
    finally:
        w.runtime.desk.stores = stores
        await engine.dispose()
    await w.alice.send(w.ticket_thread(n), "hello?")  # stored at once, after the first
    assert await w.bot.inbox.caught_up() == 1, "the first one, read again"
    assert sorted(await _comments(w, n)) == [("Alice", "are you there?"), ("Alice", "hello?")]


async def test_a_member_of_another_server_with_the_agents_user_id_is_nobody(
        world: World) -> None:
    """Bob is an agent here; in another server, with a role named Agents there, the
    same user id is nobody: Discord signs him with that server's id and roles."""
    w = world
    await open_ticket(w, w.alice)
    await w.deliver()
    other = w.env.create_guild("Elsewhere")
    there = other.create_role("Agents")
    other.add_member(w.bob.user, roles=[there])
    await w.env.settle()
    here = w.as_core_actor(w.bob, w.agents)
    elsewhere = Actor(UserRef("discord", str(other.id), str(w.bob.id)), "Bob",
                      frozenset({str(there.id), str(w.agents.id)}))
    assert w.runtime.desk.may(here, Action.CLAIM)
    assert not w.runtime.desk.may(elsewhere, Action.CLAIM), "even with this role's id"
