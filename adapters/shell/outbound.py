"""The shell platform's outbound port: every delivery becomes printed lines."""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.shell.views import event_lines, where
from core.events import Audience
from core.identity import UserRef
from core.outbound import Delivered, DeliveryJob

PLATFORM = "shell"
WORKSPACE = "local"


class Printer:
    """Where the shell writes. One place, so answers and deliveries interleave in order."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def lines(self, prefix: str, lines: list[str]) -> None:
        if not lines:
            return
        self.out.write(f"{prefix} {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"{' ' * len(prefix)} {line}\n")
        self.out.flush()


class ShellOutbound:
    platform = PLATFORM

    def __init__(self, printer: Printer) -> None:
        self.printer = printer

    async def deliver(self, job: DeliveryJob) -> Delivered:
        d = job.delivery
        recipient = UserRef.parse(d.address).user_id if d.address else None
        prefix = where(d.target, d.ticket_number, d.audience is Audience.PUBLIC, recipient)
        self.printer.lines(prefix, event_lines(job.event, job.ticket, d.purpose, job.desk_name))
        if job.binding is not None and job.binding.thread is None:
            return Delivered(thread=str(d.ticket_number), card_message=f"card-{d.id}")
        return Delivered()
