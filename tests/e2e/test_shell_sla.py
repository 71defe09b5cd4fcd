"""Issue 11 on the shell: ``helpthread run`` with targets of a few seconds, fed on stdin
while its scheduler runs — the SLA warning and breach reach the team (never the
requester), the requester may escalate only after the breach, a waiting ticket is
reminded and then closed, and a resolution is rated and shown to the agent.

The script waits for what the process prints (bounded) before it goes on, so a slow
machine only makes it slower; nothing asserts a duration, only the order of lines.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from tests.e2e.conftest import HELPTHREAD, clean_env

CONFIG = """\
[sla.normal]
first_response = "5s"
resolution = "1h"

[lifecycle]
waiting_expires_after = "4s"
waiting_reminder_before = "2s"
resolved_closes_after = "1h"
"""
PATIENCE = 45.0  # seconds to wait for one expected line before failing (never reached)

OPEN_AND_WAIT = """\
/as lena
/ticket new category=general subject="Printer on fire" description="It is smoking."
/thread
/ticket escalate 1 Nobody has answered
/ticket new category=general priority=low subject="Toner" description="Which toner?"
/thread
/as sam --agent
/ticket claim 2
/ticket wait 2 Which printer model is it?
"""
AFTER_THE_BREACH = """\
/as lena
/ticket escalate 1 Still nobody has answered
/as sam --agent
/ticket claim 1
/ticket reply 1 Unplug it, please.
/ticket resolve 1 Unplugged; the fire is out.
/as lena
/ticket rate 1 good Quick help once it came
/as sam --agent
/ticket show 1
"""


class Transcript:
    """The process's stdout, read line by line as it comes (a thread), so the script
    can wait for a line before typing on."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(process.stdout,),
                                        daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + PATIENCE
        with self._changed:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                assert left > 0 and self._reader.is_alive(), \
                    f"never printed: {text!r}\n" + "\n".join(self.lines)
                self._changed.wait(min(left, 0.5))

    def finish(self) -> str:
        self._reader.join(PATIENCE)
        return "\n".join(self.lines)


def index(lines: list[str], text: str, start: str = "") -> int:
    """The first line holding ``text`` (and starting with ``start``)."""
    found = [i for i, line in enumerate(lines) if text in line and line.startswith(start)]
    assert found, f"{start}…{text} not in the transcript:\n" + "\n".join(lines)
    return found[0]


def test_sla_escalation_expiry_and_rating_on_the_shell(tmp_path: Path) -> None:
    (tmp_path / "sla.toml").write_text(CONFIG)
    env = {**clean_env(tmp_path), "HELPTHREAD_CONFIG": str(tmp_path / "sla.toml")}
    log = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen([HELPTHREAD, "run"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=log, text=True,
                               cwd=tmp_path, env=env)
    assert process.stdin is not None
    try:
        transcript = Transcript(process)
        process.stdin.write(OPEN_AND_WAIT)
        process.stdin.flush()
        transcript.wait_for("Helpthread closed #2")  # the scheduler, no input meanwhile
        transcript.wait_for("SLA breached: #1")
        process.stdin.write(AFTER_THE_BREACH)
        process.stdin.close()
        out = transcript.finish()
        assert process.wait(PATIENCE) == 0, (tmp_path / "stderr.log").read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    lines = out.splitlines()

    # Warning, then breach: in the team thread and, mentioning the agents (#1 is
    # unassigned then), in the team channel; never in the requester's thread or DMs.
    warned = index(lines, "@agents SLA warning: #1's first response is due", "[team channel]")
    breached = index(lines, "@agents SLA breached: #1 missed its first response target",
                     "[team channel]")
    assert warned < breached
    assert index(lines, "SLA warning: #1", "[#1 team thread]") < \
        index(lines, "SLA breached: #1", "[#1 team thread]")
    assert not [line for line in lines if "SLA" in line and line.startswith(
        ("[#1 ticket thread] SLA", "[DM to lena] SLA"))]

    # The requester escalates: refused before the breach, allowed after it, and the
    # escalation channel hears of it mentioning the escalation group.
    refused = index(lines, "Refused: #1 can be escalated by its requester", "(to lena)")
    assert refused < breached
    escalated = index(lines, "Done: #1 is escalated (level 1).", "(to lena)")
    assert breached < escalated
    assert escalated < index(lines, "@managers lena escalated #1 (level 1): Still nobody",
                             "[escalation channel]")

    # The waiting ticket: reminded, then closed by the desk, each in its ticket thread.
    reminded = index(lines, "Reminder: #2 is still waiting for lena's answer",
                     "[#2 ticket thread]")
    assert "Reply in its thread (/thread 2) to keep it open." in lines[reminded + 1]
    assert reminded < index(lines, "Helpthread closed #2: no reply came to the question",
                            "[#2 ticket thread]")

    # The resolution asks the requester for a rating; they give one; the agent's show
    # displays it (the requester's ticket thread never hears of it).
    resolved = index(lines, "sam resolved #1: Unplugged; the fire is out.",
                     "[#1 ticket thread]")
    assert "How did we do? /ticket rate 1 good|bad [comment]" in lines[resolved + 1]
    rated = index(lines, "Thank you: you rated #1 good.", "(to lena)")
    assert resolved < rated
    assert rated < index(lines, "lena rated #1 good: Quick help once it came",
                         "[#1 team thread]")
    shown = index(lines, "#1 Printer on fire", "(to sam)")
    card = lines[shown:shown + 8]
    assert any("rated good by lena: Quick help once it came" in line for line in card), card
    assert any("SLA first response met late" in line for line in card), card
    assert not [line for line in lines
                if line.startswith("[#1 ticket thread]") and "rated" in line]
