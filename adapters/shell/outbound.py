"""The shell platform's outbound port: every delivery becomes printed lines.

Thread messages print under ``[#N ticket thread]`` / ``[#N team thread]``, direct
messages under ``[DM to NAME]``; the channels' own messages under ``[team channel]``
(SLA warnings and breaches, mentioning the assignee or else the agents' group) and
``[escalation channel]`` (escalations, mentioning the escalation group). What a
requester is asked (a close request, a rating) is followed by how to answer it.
"""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.shell.views import answer_hints, channel_notice, event_lines, hanging, where
from core.events import Audience
from core.identity import UserRef
from core.outbound import Delivered, DeliveryJob
from core.routing import Purpose, Target

PLATFORM = "shell"
WORKSPACE = "local"


class Printer:
    """Where the shell writes. One place, so answers and deliveries interleave in order."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def lines(self, prefix: str, lines: list[str]) -> None:
        """``lines`` under ``prefix``, every line after the first indented by its width;
        a line holding newlines (a multi-line description or comment) continues at its
        own first line's indentation, never at column 0."""
        lines = hanging(lines, deeper=0)  # whatever was not hung already (views)
        if not lines:
            return
        self.out.write(f"{prefix} {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"{' ' * len(prefix)} {line}\n")
        self.out.flush()


class ShellOutbound:
    """Prints each delivery. ``agents`` is the group an SLA notice on an unassigned
    ticket mentions (``shell.agent_groups``' first); ``escalation_group`` the one an
    escalation mentions (``shell.escalation_group``)."""

    platform = PLATFORM

    def __init__(self, printer: Printer, *, agents: str = "agents",
                 escalation_group: str = "managers") -> None:
        self.printer = printer
        self.agents = agents
        self.escalation_group = escalation_group

    async def deliver(self, job: DeliveryJob) -> Delivered:
        d = job.delivery
        public = d.audience is Audience.PUBLIC
        if d.target is Target.CHANNEL:
            mention = self.escalation_group if d.purpose is Purpose.ESCALATION else (
                job.ticket.assignee.name if job.ticket.assignee else self.agents)
            lines = channel_notice(job.event, job.ticket, d.purpose, mention, job.desk_name)
            self.printer.lines(where(d.target, d.ticket_number, public, None, d.purpose),
                               lines)
            return Delivered()
        recipient = UserRef.parse(d.address).user_id if d.address else None
        prefix = where(d.target, d.ticket_number, public, recipient, d.purpose)
        lines = event_lines(job.event, job.ticket, d.purpose, job.desk_name)
        if public:
            lines += answer_hints(job.event, job.ticket)
        self.printer.lines(prefix, lines)
        if job.binding is not None and job.binding.thread is None:
            return Delivered(thread=str(d.ticket_number), card_message=f"card-{d.id}")
        return Delivered()
