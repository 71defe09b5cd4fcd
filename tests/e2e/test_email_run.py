"""``helpthread run`` with ``[email]`` configured and no chat credentials (issue 13): the
shell runs beside e-mail, so a desk works from a terminal and a mailbox. A script on
stdin opens a ticket for someone who writes by e-mail; the mail reaches a real SMTP
server (``aiosmtpd`` on loopback) — the receipt, the agent's reply, never the note."""

from __future__ import annotations

import subprocess
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from adapters.email import tokens
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.support.smtp_server import smtp_server

KEY = "an-e2e-signing-key-0123"
SCRIPT = """\
/as sam --agent
/ticket new for:Ana@Example.com category=general subject="Printer on fire" \
description="It smokes & beeps <loudly>."
/ticket reply 1 Unplug it and keep the window open.
/ticket note 1 Third printer this month from this office; bill them.
/ticket resolve 1 Replaced the fuser unit.
/ticket new for:not-an-address@ category=general subject="x" description="y"
"""


def text_of(message: EmailMessage) -> str:
    return "\n".join(str(part.get_content()) for part in message.walk()
                     if not part.is_multipart())


def test_run_with_email_and_no_chat_platform_runs_the_shell_and_sends_mail(
        tmp_path: Path) -> None:
    with smtp_server() as (sink, port):
        config = tmp_path / "helpthread.toml"
        config.write_text(f"""
[desk]
name = "Acme Support"

[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
from_address = "Acme Support <support@example.com>"
plus_addressing = true
""")
        env = {**clean_env(tmp_path), "HELPTHREAD_CONFIG": str(config),
               "HELPTHREAD_EMAIL__SIGNING_KEY": KEY}
        done = subprocess.run([HELPTHREAD, "run"], input=SCRIPT, text=True,
                              capture_output=True, cwd=tmp_path, env=env, timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        # the shell printed the team's side: threads and the ticket card
        assert "[#1 team thread] New ticket" in done.stdout, done.stdout
        assert "for: 'not-an-address@' is not a valid e-mail address" in done.stdout
        messages = sink.wait_for(3)

    assert len(messages) == 3  # receipt, reply, resolution; the note never
    assert all(parseaddr(m["To"])[1] == "ana@example.com" for m in messages)
    assert all(m["Subject"] == "[#1] Printer on fire" for m in messages)
    receipt, reply, resolved = messages
    assert receipt["Auto-Submitted"] == "auto-generated"
    assert "It smokes & beeps <loudly>." in text_of(receipt)
    assert reply["In-Reply-To"] == receipt["Message-ID"] == resolved["References"]
    assert "Unplug it and keep the window open." in text_of(reply)
    assert "Replaced the fuser unit." in text_of(resolved)
    assert not any("bill them" in text_of(m) for m in messages)
    token = tokens.find(reply["Reply-To"])
    assert token is not None and token.verify("ana@example.com", KEY.encode())
