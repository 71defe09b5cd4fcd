"""Discord interaction answers: ``helpthread run`` against a bare discord.py bot that
answers the same interactions at once (``bench/discord_bare.py``: ours without the
work), side by side in the same run.

Each bot is its own process, connected to its own wire-level fake Discord
(``bench/discord_wire.py``) hosted by this process, which plays the people: it sends
INTERACTION_CREATE frames on the gateway and times the interaction callback each bot
sends back — the answer Discord allows 3 seconds for. Measured: ``/ticket new`` (a
modal after the per-user limits are read), a card's Claim button, a Resolve form
submission and the priority select, at 1, 8 and 32 at once; ours also with about 200
deliveries (cards, thread messages, DMs of freshly opened tickets) in flight, against a
Discord that takes 250 ms per channel write. At 1 at once, one person acts at a time
(``--pace``): ``idle`` (the default) sends each interaction once the previous one's
result has come (its deferral's follow-up or edit) and then, for 10 ms, the bot has
made no channel write and its threads ran under 5 % of a CPU — nothing of it is in
flight, as "without deliveries in flight" says, as when people act seconds apart (in
the loaded rounds the ~200 deliveries stay in flight: each write takes 250 ms, and a
quiet 10 ms is a gap between them, not their end). ``result``: on the previous
one's result, so that its deliveries run beside the next answer. ``answer``: on its
first answer, so that its transaction and follow-up do too. The bare bot against
itself (two halves of
its rounds) is the noise floor. CPU: the bot process's CPU time per interaction, from a
round's first interaction until the bot has settled after it (ours answers a burst
first and does the desk work after; loaded rounds never settle: until their last
answer); wait:
the time its event loop's thread spent ready to run but waiting for a CPU (Linux
schedstat), per interaction — what other processes on a shared machine cost it.

With ``--gc`` each bot records its garbage collections (``bench/gcwatch``) and the
report ends with them: those made from the warm-up on, per generation — how many, CPU
ms in all and the longest.

    python -m bench.discord [--count 512] [--count-at-1 256] [--levels 1,8,32] [--rounds 3]
                            [--kinds new,claim] [--pace idle|result|answer] [--gc]
                            [--samples PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from bench.discord_report import IN_FLIGHT, WRITE_DELAY, Row, collections, report
from bench.discord_watch import (
    IDLE_SECONDS,
    idle,
    quiet,
    run_queue_seconds,
    settled,
    stopped,
)
from bench.slack import cpu_seconds, cpus, cpus_used, free_port, pct, pin
from tests.platform.discord.interactions_wire import (
    AGENT_ROLE,
    InteractionFake,
    button,
    command,
    modal_submit,
    select,
)

ROOT = Path(__file__).resolve().parent.parent
GUILD = 500_000_000_000_000_005
AGENT = 600_000_000_000_000_100
KINDS = ("new", "claim", "resolve", "priority")
DEFERRED, DEFERRED_UPDATE = 5, 6  # interaction callback types: a deferral
COUNT = 512  # interactions per kind, level and round at 8 and 32 at once: 1,536 in 3
# rounds, so that a p99 is the 16th slowest. One pause of either bot (a collection, the
# machine's own) delays all 8 or 32 in flight: at 32 a round (the slowest of 96) one
# pause decided it; at 256 (the 8th slowest of 768) one pause at 8 at once still did,
# and which cells passed moved from run to run (bench/RESULTS.md, eighth session)
COUNT_AT_1 = 256  # … at 1 at once, where one pause delays one answer: 768 in 3 rounds
FORM_PAUSE = 0.1  # seconds between the forms opened and the first submitted, loaded
# rounds: sent the moment the 256th form opened, the submissions met whatever the bot
# does after a stream of interactions (its collector's held collection, traced inside
# loaded Resolve at 32 at once) — a stream no person makes: a form takes seconds to fill
ROUNDS = 3  # each (kind, level) is measured in this many rounds, the bots alternating
# (--rounds: more, to see through a busy machine's noise)


# ---- the load ------------------------------------------------------------------------


class Load:
    """One bot behind its fake: sends interactions, ``level`` at once."""

    def __init__(self, fake: InteractionFake, team: int, pid: int) -> None:
        self.fake, self.team, self.pid = fake, team, pid
        self.next_ticket = 1
        self.rounds = 0

    def tickets(self, kind: str, count: int) -> list[int]:
        """Fresh tickets for claims and resolutions (each acts once on a ticket); the
        first ``count`` again for the priority select, which alternates high and low."""
        if kind in ("new", "priority"):
            return list(range(1, count + 1))
        numbers = list(range(self.next_ticket, self.next_ticket + count))
        self.next_ticket += count
        return numbers

    async def send(self, payload: dict[str, Any], pace: str = "answer",
                   loaded: bool = False) -> float:
        """Dispatch one interaction; the seconds until its first answer. Returns once
        that has come (``pace`` "answer"), once a deferred interaction's result has come
        too ("result"), and then once the bot is idle ("idle"; while deliveries are
        kept in flight, ``loaded``: once it has made no channel write for
        ``IDLE_SECONDS``)."""
        await self.fake.dispatch(payload)
        seen = self.fake.answered[payload["id"]]
        try:  # a guard against a silent bot, not a target
            await asyncio.wait_for(seen.answered.wait(), 30)
            if pace != "answer" and seen.kind in (DEFERRED, DEFERRED_UPDATE):
                await asyncio.wait_for(seen.resulted.wait(), 30)
            if pace == "idle" and loaded:
                await quiet(self.fake, IDLE_SECONDS, tick=0.001)
            elif pace == "idle":
                await idle(self.pid, self.fake)
        except TimeoutError:
            raise RuntimeError(f"no answer to interaction {payload['id']} in 30 s") from None
        assert seen.first is not None
        return seen.first - seen.sent

    async def prepare(self, kind: str, numbers: list[int]) -> list[dict[str, Any]]:
        """The interactions of one round; a form submission's modal is shown first (a
        modal is answerable only by whom it was shown to, in the process that showed
        it), not timed."""
        g, c = GUILD, self.team
        if kind == "new":
            return [command(g, c, AGENT + n, "new", agent=False, category="general")
                    for n in numbers]
        if kind == "claim":
            return [button(g, c, AGENT, f"ticket:claim:{n}") for n in numbers]
        if kind == "priority":
            self.rounds += 1
            return [select(g, c, AGENT, f"ticket:priority:{n}", ("high", "low")[self.rounds % 2])
                    for n in numbers]
        for n in numbers:  # resolve: press Resolve, then submit its form
            await self.send(button(g, c, AGENT, f"ticket:resolve:{n}"))
        return [modal_submit(g, c, AGENT, f"ticket:form:resolve:{n}:{AGENT}",
                             {"text": f"Fixed it for you ({n})."}) for n in numbers]

    async def round(self, kind: str, level: int, count: int, pace: str = "answer",
                    loaded: bool = False) -> tuple[list[float], float, float]:
        """Latencies (s), the bot's CPU seconds and its seconds waiting for a CPU. At 1 at
        once each interaction is sent as ``pace`` says (``send``; the module's notes)."""
        payloads = await self.prepare(kind, self.tickets(kind, count))
        if kind == "resolve" and not loaded:  # the forms were opened: the round begins
            await settled([self.pid])  # once the bot has done with that
        elif kind == "resolve":  # … or, with deliveries in flight (never settled), once
            await asyncio.sleep(FORM_PAUSE)  # as long as a person would take, at least
        queue = iter(payloads)
        latencies: list[float] = []
        pace = pace if level == 1 else "answer"

        async def sender() -> None:
            # ``level`` senders, each sending its next once its last is answered: one
            # task per payload (256 of them started at once) put a step of 3–6 ms of
            # this process before the round's first answers were read, and those
            # became the slowest of the round for either bot
            for payload in queue:
                latencies.append(await self.send(payload, pace, loaded))

        # this process times both bots: a collection of its own (its heap holds every
        # answer timed) would be charged to whichever bot's round it fell in
        gc.disable()
        before, waited = cpu_seconds(self.pid), run_queue_seconds(self.pid)
        try:
            await asyncio.gather(*(sender() for _ in range(level)))
        finally:
            gc.enable()
        return (latencies, cpu_seconds(self.pid) - before,
                run_queue_seconds(self.pid) - waited)


# ---- the desk's side: tickets to act on, deliveries to keep in flight ---------------


def bot_env(tmp: str, fake: InteractionFake, support: int, team: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if "PROXY" not in k.upper() and not k.startswith("HELPTHREAD_")}
    env.update({
        "HELPTHREAD_PORT": str(free_port()), "HELPTHREAD_LOG_FORMAT": "json",
        "HELPTHREAD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
        "DISCORD_TOKEN": "bench-token", "DISCORD_API_URL": fake.api_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "HELPTHREAD_DISCORD__GUILD_ID": str(GUILD),
        "HELPTHREAD_DISCORD__SUPPORT_CHANNEL_ID": str(support),
        "HELPTHREAD_DISCORD__TEAM_CHANNEL_ID": str(team),
        "HELPTHREAD_DISCORD__AGENT_ROLE_ID": str(AGENT_ROLE),
        "HELPTHREAD_DESK__MAX_NEW_PER_HOUR": "1000000",
        "HELPTHREAD_DESK__MAX_OPEN_PER_USER": "1000000",
    })
    return env


async def open_tickets(env: dict[str, str], count: int, first_requester: int) -> None:
    """``count`` tickets opened on the desk's database by Discord members, as the form
    would (their cards, threads and receipts are queued for the bot to deliver)."""
    from bot.runtime import build
    from bot.settings import Settings
    from core.desk import NewTicket
    from core.identity import Actor, UserRef

    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("HELPTHREAD_")})
    try:
        settings = Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    runtime = await build(settings, settings.desk_config())  # placed as the bot places
    try:
        for i in range(count):
            who = Actor(UserRef("discord", str(GUILD), str(first_requester + i)), f"r{i}")
            await runtime.desk.open_ticket(who, NewTicket(
                category="general", subject=f"Bench ticket {i}",
                description="Opened by the benchmark."))
    finally:
        await runtime.close()


# ---- the run -------------------------------------------------------------------------


def start_bot(name: str, env: dict[str, str], fake: InteractionFake, tmp: str,
              cpu: set[int]) -> subprocess.Popen[bytes]:
    py = sys.executable
    if name == "ours":
        args = [str(Path(py).parent / "helpthread"), "run"]
    else:
        args = [py, "-m", "bench.discord", "--bare", fake.api_url, fake.gateway_url]
    proc = subprocess.Popen(args, cwd=tmp if name == "ours" else ROOT, env=env,
                            preexec_fn=pin(cpu), stdout=subprocess.DEVNULL,
                            stderr=Path(f"{tmp}/{name}.log").open("wb"))
    return proc




def summary(latencies: list[float], cpu: float,
            wait: float) -> tuple[float, float, float, float]:
    n = len(latencies)
    return statistics.median(latencies), pct(latencies, 99), cpu / n, wait / n


async def measure(args: argparse.Namespace) -> None:
    def per_round(level: int) -> int:
        return args.count_at_1 if level == 1 else args.count

    server, rest = cpus()
    pin(rest)()
    tmp = tempfile.mkdtemp(prefix="helpthread-bench-discord-")
    fakes = {name: InteractionFake(GUILD) for name in ("ours", "bare")}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    loads: dict[str, Load] = {}
    try:
        for name, fake in fakes.items():
            await fake.start()
            support, team = fake.text_channel("support"), fake.text_channel("team")
            env = bot_env(f"{tmp}/{name}" if name == "ours" else tmp, fake, support, team)
            if args.gc:
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(ROOT / "bench" / "gcwatch"), *filter(None, [env.get("PYTHONPATH")])])
                env["HELPTHREAD_BENCH_GC_LOG"] = f"{tmp}/gc-{name}"
            if name == "ours":
                os.makedirs(f"{tmp}/ours", exist_ok=True)
                # a ticket for each claim and resolution, unloaded and loaded, and the
                # warm-up's; the priority select acts on the first ``count`` again
                acting = len({"claim", "resolve"} & set(args.kinds))
                fresh = max(acting * (2 * args.rounds * sum(map(per_round, args.levels)) + 8),
                            max(map(per_round, args.levels)) + 8 if "priority" in args.kinds
                            else 0)
                await open_tickets(env, fresh, 10_000)
            procs[name] = start_bot(name, env, fake, f"{tmp}/{name}" if name == "ours"
                                    else tmp, server)
            await asyncio.wait_for(fake.identified.wait(), 60)  # a guard, not a measure
            loads[name] = Load(fake, team, procs[name].pid)
            if name == "ours":
                ours_env = env
        await quiet(fakes["ours"], 2.0)  # the seeded tickets' deliveries, made
        warm_up = time.time()
        for kind in args.kinds:  # warm up
            for load in loads.values():
                await load.round(kind, 4, 8)
        await quiet(fakes["ours"])
        rows: list[tuple[int, str, Row, float]] = []
        samples: list[dict[str, Any]] = []
        for level in args.levels:
            for kind in args.kinds:
                got: dict[str, list[float]] = {"ours": [], "loaded": [], "bare": [],
                                               "bare2": []}
                cpu = dict.fromkeys(got, 0.0)
                wait = dict.fromkeys(got, 0.0)
                writes = 0
                for r in range(args.rounds):
                    for name, other in (("bare", "ours"), ("ours", "bare")):
                        # both bots pinned to one CPU: neither measured while the
                        # other still works (ours' deliveries, a full collection), nor
                        # while the other's housekeeping could start (stopped)
                        await settled([load.pid for load in loads.values()])
                        with stopped(loads[other].pid):
                            began = cpu_seconds(loads[name].pid)
                            lat, _, w = await loads[name].round(kind, level,
                                                                per_round(level), args.pace)
                            await quiet(fakes[name], 0.2)
                            # CPU until the work after the answers is done too (ours
                            # answers a burst first and works after it)
                            await settled([loads[name].pid])
                            c = cpu_seconds(loads[name].pid) - began
                        key = name if name == "ours" or r % 2 == 0 else "bare2"
                        samples.append({"level": level, "kind": kind, "bot": name,
                                        "round": r, "ms": [x * 1e3 for x in lat]})
                        got[key] += lat
                        cpu[key] += c
                        wait[key] += w
                    # ours again, while ~200 deliveries are in flight
                    with stopped(loads["bare"].pid):
                        fakes["ours"].write_delay = WRITE_DELAY
                        await open_tickets(ours_env, IN_FLIGHT // 3,
                                           50_000_000 + len(rows) * 1000 + r * 100)
                        start = fakes["ours"].writes
                        fakes["ours"].wrote.clear()
                        await fakes["ours"].wrote.wait()  # the worker has begun
                        lat, c, w = await loads["ours"].round(kind, level, per_round(level),
                                                              args.pace, loaded=True)
                        writes += fakes["ours"].writes - start
                        got["loaded"] += lat
                        samples.append({"level": level, "kind": kind, "bot": "loaded",
                                        "round": r, "ms": [x * 1e3 for x in lat]})
                        cpu["loaded"] += c
                        wait["loaded"] += w
                        fakes["ours"].write_delay = 0.0  # the rest of the burst goes quickly
                        await quiet(fakes["ours"])
                bare_all = got["bare"] + got["bare2"]
                row: Row = {k: summary(v, cpu[k], wait[k]) for k, v in got.items()}
                row["bare all"] = summary(bare_all, cpu["bare"] + cpu["bare2"],
                                          wait["bare"] + wait["bare2"])
                rows.append((level, kind, row, writes / args.rounds))
        report(rows, f"{args.count} ({args.count_at_1} at 1 at once, "
               f"pace at 1 at once: {args.pace})",
               args.rounds, *cpus_used())
        if args.samples:
            await asyncio.to_thread(Path(args.samples).write_text, json.dumps(samples))
        if args.gc:
            for name in procs:
                print(f"{name}: {collections(f'{tmp}/gc-{name}.{procs[name].pid}', warm_up)}")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        for fake in fakes.values():
            await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=COUNT,
                        help=f"interactions per kind, level and round (default {COUNT})")
    parser.add_argument("--count-at-1", type=int, default=COUNT_AT_1,
                        help=f"… at 1 at once (default {COUNT_AT_1})")
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 8, 32])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=list(KINDS),
                        help=f"some of {','.join(KINDS)} (default: all)")
    parser.add_argument("--pace", choices=("idle", "result", "answer"), default="idle",
                        help="at 1 at once, send each interaction once the previous one's "
                        "result came and the bot is idle (default), once its result came, "
                        "or once its first answer came")
    parser.add_argument("--gc", action="store_true",
                        help="record each bot's garbage collections and report them")
    parser.add_argument("--samples", metavar="PATH",
                        help="write every round's latencies (ms, in sending order) as JSON")
    parser.add_argument("--bare", nargs=2, metavar=("API", "GATEWAY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds: at least 2 (the noise floor compares even and odd rounds)")
    if unknown := set(args.kinds) - set(KINDS):
        parser.error(f"--kinds: {', '.join(sorted(unknown))} is not one of {', '.join(KINDS)}")
    if args.bare:
        from bench.discord_bare import serve_bare

        serve_bare(*args.bare, GUILD)
        return
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()

