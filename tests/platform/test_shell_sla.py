"""Issue 11 on the shell, through the real session, desk, scheduler and delivery worker
on the in-memory store, with a clock that moves when told (no sleeps): SLA clocks on
cards and in ``show``/``list``/``queue``, notices in the team channel mentioning who
must act, escalations in the escalation channel, close requests, reminders and
ratings with how to answer them, and ``/ticket help``."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from adapters.shell.outbound import Printer
from adapters.shell.plugin import PLUGIN, ShellPlatform, ShellSettings
from adapters.shell.repl import ShellSession
from core.clock import FrozenClock
from core.config import DeskConfig
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.routing import PlatformRoute
from core.schedule import Scheduler
from tests.support.memory import MemoryStores
from tests.support.memory_outbox import MemoryOutbox
from tests.support.people import desk_config

MINUTE = 60.0
CONFIG = desk_config(sla={"normal": {"first_response": "10m", "resolution": "1h"}},
                     lifecycle={"waiting_expires_after": "3d",
                                "waiting_reminder_before": "1d"})


class Shell:
    """A shell session on a desk whose clock starts at the real time (the views' relative
    words — "in 2 days" — are then what a person would read)."""

    def __init__(self, settings: ShellSettings | None = None, config: DeskConfig = CONFIG,
                 start: datetime | None = None,
                 routes: tuple[PlatformRoute, ...] = ()) -> None:
        """``routes``: other configured platforms' (``MAIL_ROUTE``: ``[email]`` set up)."""
        self.clock = FrozenClock(start or datetime.now(UTC).replace(microsecond=0))
        self.stores = MemoryStores()
        settings = settings or ShellSettings()
        self.out = io.StringIO()
        platform = ShellPlatform(PLUGIN.route(settings, config.categories), Printer(self.out),
                                 settings=settings)
        self.desk = Desk(config, self.stores, [platform.route, *routes], clock=self.clock)
        worker = DeliveryWorker(MemoryOutbox(self.stores), [platform.outbound], config,
                                clock=self.clock)
        self.scheduler = Scheduler(self.desk, self.stores, self.clock)
        self.session = ShellSession(self.desk, worker, platform.printer, persona="lena",
                                    echo=True)
        self.read = 0

    async def type(self, *lines: str) -> list[str]:
        """Each line typed, delivering after each; returns what was printed."""
        for line in lines:
            assert await self.session.handle(line)
            await self.session.deliver()
        return self.printed()

    async def wait(self, minutes: float) -> list[str]:
        """Time passes; the scheduler fires what is due and its deliveries print."""
        self.clock.advance(minutes * MINUTE)
        await self.scheduler.run_once()
        await self.session.deliver()
        return self.printed()

    def printed(self) -> list[str]:
        text = self.out.getvalue()
        new, self.read = text[self.read:], len(text)
        return new.splitlines()


def having(lines: list[str], text: str, start: str = "") -> list[str]:
    return [line for line in lines if text in line and line.startswith(start)]


OPEN = ('/ticket new category=general subject="Printer on fire" '
        'description="It is smoking."')


async def test_sla_notices_mention_who_must_act_in_the_team_channel() -> None:
    shell = Shell()
    await shell.type(OPEN)
    warned = await shell.wait(8)  # 80% of the 10-minute first response
    assert having(warned, "@agents SLA warning: #1's first response is due", "[team channel]")
    assert having(warned, "SLA warning: #1's first response", "[#1 team thread]")
    assert not having(warned, "SLA", "[#1 ticket thread]")
    claimed = await shell.type("/as sam --agent", "/ticket claim 1", "/ticket show 1")
    assert [line for line in having(claimed, "SLA first response due") if "(at risk)" in line]
    breached = await shell.wait(3)
    assert having(breached, "@sam SLA breached: #1 missed its first response target",
                  "[team channel]"), breached
    assert not having(breached, "SLA", "[#1 ticket thread]")

    await shell.wait(1)
    team = await shell.type("/ticket show 1", "/ticket queue")
    assert having(team, "SLA first response BREACHED, not met yet")
    assert having(team, "SLA resolution due ")
    assert having(team, "#1 [in progress] Printer on fire — normal, sam, SLA BREACHED: "
                  "first response, resolution due ")
    mine = await shell.type("/as lena", "/ticket show 1", "/ticket list")
    assert not having(mine, "BREACHED"), mine  # never shown to the requester
    assert having(mine, "SLA first response overdue")
    assert having(mine, "#1 [in progress] Printer on fire — normal, sam, SLA overdue")
    assert having(mine, "you may escalate it (/ticket escalate 1 reason)")
    # closed unanswered, nothing is overdue any more; the team still sees the miss
    closed = await shell.type("/ticket close 1 never mind", "/ticket list all",
                              "/ticket show 1")
    assert not having(closed, "overdue") and not having(closed, "due "), closed
    team = await shell.type("/as sam --agent", "/ticket show 1")
    assert having(team, "SLA first response BREACHED, never met"), team
    assert not having(team, "not met yet") and not having(team, "resolution due"), team


async def test_escalations_reach_the_escalation_channel_naming_its_group() -> None:
    shell = Shell(ShellSettings(escalation_group="leads"))
    await shell.type(OPEN, "/thread")
    refused = await shell.type("/ticket escalate 1 Nobody answers")
    assert having(refused, "Refused: #1 can be escalated by its requester", "(to lena)")
    await shell.wait(11)
    done = await shell.type("/ticket escalate 1 Nobody answers")
    assert having(done, "@leads lena escalated #1 (level 1): Nobody answers",
                  "[escalation channel]"), done
    assert having(done, "lena escalated #1 (level 1).", "[#1 ticket thread]")


async def test_waiting_pauses_the_clocks_reminds_then_closes() -> None:
    shell = Shell()
    await shell.type(OPEN, "/as sam --agent", "/ticket claim 1")
    await shell.wait(5)
    await shell.type("/ticket wait 1 Which model is it?")
    await shell.wait(30)  # paused: the 1-hour resolution clock stands at 55 minutes left
    shown = await shell.type("/ticket show 1")
    assert having(shown, "SLA first response met")
    assert having(shown, "SLA resolution paused while waiting on the requester, "
                  "55 minutes left")
    # 2 days 23.5 hours to go: the nearest is 3 days (core.durations.spoken)
    assert having(shown, "closes in 3 days (") and having(shown, "unless the requester "
                                                                 "replies")
    assert having(await shell.type("/ticket list"), "SLA paused, closes in 3 days")
    reminded = await shell.wait(2 * 24 * 60)
    assert having(reminded, "Reminder: #1 is still waiting for lena's answer",
                  "[#1 ticket thread]")
    assert having(reminded, "Reply in its thread (/thread 1) to keep it open.")
    closed = await shell.wait(24 * 60)
    assert having(closed, "Helpthread closed #1: no reply came to the question",
                  "[#1 ticket thread]")


async def test_close_request_and_rating_show_how_to_answer() -> None:
    shell = Shell()
    await shell.type(OPEN, "/as sam --agent", "/ticket claim 1")
    asked = await shell.type("/ticket ask-close 1 Is the fire out?")
    assert having(asked, "Asked lena to confirm closing #1.", "(to sam)")
    hint = "Yes, close it: /ticket close 1 · No, I still need help: /ticket keep-open 1"
    assert [line for line in asked if hint in line] and not having(
        asked, "keep-open", "[#1 team thread]")
    assert having(await shell.type("/ticket show 1"), "close requested: waiting for lena")
    kept = await shell.type("/as lena", "/ticket show #1", "/ticket keep-open #1")
    assert having(kept, "close requested: /ticket close 1 to close it, /ticket keep-open 1")
    assert having(kept, "Done: #1 stays open; it is in progress.", "(to lena)")

    resolved = await shell.type("/as sam --agent", "/ticket resolve 1 Unplugged it.")
    assert having(resolved, "How did we do? /ticket rate 1 good|bad [comment]")
    assert not having(resolved, "rate", "[#1 team thread]")
    rated = await shell.type("/as lena", "/ticket rate #1 bad Too slow",
                             "/ticket show #1")
    assert having(rated, "Thank you: you rated #1 bad.", "(to lena)")
    assert having(rated, "lena rated #1 bad: Too slow", "[#1 team thread]")
    assert not having(rated, "rated bad by")  # the requester's show never shows it
    team = await shell.type("/as sam --agent", "/ticket show 1", "/ticket list all")
    assert having(team, "rated bad by lena: Too slow")
    assert having(team, "closes in 3 days (")
    assert having(team, "#1 [resolved] Printer on fire — normal, sam, closes in 3 days, "
                  "rated bad")


async def test_help_lists_the_new_commands() -> None:
    said = "\n".join(await Shell().type("/ticket help"))
    for command in ("/ticket ask-close N [message]", "/ticket keep-open N",
                    "/ticket rate N good|bad [comment]"):
        assert command in said


async def test_the_receipt_says_when_the_team_is_back() -> None:
    hours = {"timezone": "Europe/Berlin", "hours": ["mon-fri 09:00-17:00"]}
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    closed = await Shell(config=desk_config(business_hours=hours), start=saturday).type(OPEN)
    receipt = having(closed, "", "[DM to lena]")
    assert having(closed, "We're back Monday at 09:00 (Europe/Berlin)")
    assert receipt and closed[closed.index(receipt[0]) + 2].strip().startswith("We're back")
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    open_ = await Shell(config=desk_config(business_hours=hours), start=monday).type(OPEN)
    assert not having(open_, "We're back")
    shown = await Shell(config=desk_config(business_hours=hours), start=saturday).type(
        OPEN, "/ticket show 1")
    assert having(shown, "  We're back Monday at 09:00 (Europe/Berlin)")


async def test_time_left_when_paused_is_rounded_as_the_due_time_is() -> None:
    """A 2-day resolution target: "in 2 days" when due, and paused a minute later with
    47 h 59 m left it is still "2 days left" — not "a day" (both round to the nearest);
    an hour later the clock shows what is left past the day."""
    shell = Shell(config=desk_config(sla={"normal": {"first_response": "1h",
                                                     "resolution": "2d"}}))
    await shell.type(OPEN, "/as sam --agent", "/ticket claim 1")
    shown = await shell.type("/ticket show 1")
    assert having(shown, "SLA resolution due "), shown
    assert [line for line in having(shown, "SLA resolution due ") if "(in 2 days)" in line]
    await shell.wait(1)
    await shell.type("/ticket wait 1 Which model is it?")
    shown = await shell.type("/ticket show 1")
    assert having(shown, "SLA resolution paused while waiting on the requester, "
                  "2 days left"), shown
    await shell.type("/as lena", "/thread 1", "The X200.", "/thread", "/as sam --agent")
    await shell.wait(60)
    await shell.type("/ticket wait 1 And the serial?")
    shown = await shell.type("/ticket show 1")
    assert having(shown, "SLA resolution paused while waiting on the requester, "
                  "1 day 23 hours left"), shown
