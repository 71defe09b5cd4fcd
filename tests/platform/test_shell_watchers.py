"""Issue 13, points 1 and 2 on the shell, through the real session, desk and delivery
worker: ``/ticket watch|unwatch|cc|uncc|share|unshare``, the form's ``cc=``, refusals
by name, watchers on cards and in ``show``, and what a watcher is sent."""

from __future__ import annotations

from tests.platform.test_shell_sla import Shell, having

OPEN = ('/ticket new category=general subject="Printer on fire" '
        'description="It is smoking."')


async def test_cc_watch_and_share_by_command() -> None:
    shell = Shell()
    await shell.type(OPEN)
    out = await shell.type("/as marco", "/ticket show 1")
    assert having(out, "Refused: there is no ticket #1 you can see")
    out = await shell.type("/as lena", "/ticket cc 1 marco")
    assert having(out, "(to lena) Done: marco watches #1.")
    assert having(out, "lena added marco as a watcher of #1.")
    out = await shell.type("/as marco", "/ticket show 1")
    assert having(out, "  watchers: marco")
    out = await shell.type("/ticket cc 1 omar")
    assert having(out, "Refused: only agents or the requester of #1 can add watchers")
    out = await shell.type("/as sam --agent", "/ticket note 1 internal only",
                           "/ticket reply 1 On it")
    assert having(out, "[DM to marco] sam: On it")
    assert not having(out, "internal only", "[DM to marco]"), "never a note"
    out = await shell.type("/ticket cc 1 omar@@example.com")
    assert having(out, "cc: 'omar@@example.com' is not a valid e-mail address")
    out = await shell.type("/ticket cc 1 Omar@Example.com", "/ticket uncc 1 marco")
    assert having(out, "Done: omar@example.com watches #1.")
    assert having(out, "Done: marco no longer watches #1.")
    out = await shell.type("/as omar", "/ticket watch 1")
    assert having(out, "Refused: there is no ticket #1 you can see")
    out = await shell.type("/as lena", "/ticket share 1")
    assert having(out, "(to lena) Done: #1 is shared with lena's organisation.")
    out = await shell.type("/as omar", "/ticket list org", "/ticket watch 1",
                           "/ticket share 1")
    assert having(out, "#1")
    assert having(out, "(to omar) Done: you are watching #1")
    assert having(out, "Refused: you already follow #1") == []
    assert having(out, "Refused: only agents or the requester of #1 can share it")
    out = await shell.type("/ticket unwatch 1", "/ticket unwatch 1")
    assert having(out, "Done: you no longer watch #1.")
    assert having(out, "Refused: you do not watch #1")
    out = await shell.type("/as lena", "/ticket unshare 1", "/as omar", "/ticket show 1")
    assert having(out, "Done: #1 is private.")
    assert having(out, "(to omar) Refused: there is no ticket #1 you can see")


async def test_the_form_takes_cc_and_names_a_bad_one() -> None:
    shell = Shell()
    out = await shell.type(OPEN + " cc=marco,not-an-address@")
    assert having(out, "cc: 'not-an-address@' is not a valid e-mail address")
    assert not having(out, "Opened #")
    out = await shell.type(OPEN + " cc=marco,omar@example.com share=yes")
    assert having(out, "Opened #1")
    assert having(out, "  watchers: marco, omar@example.com")
    assert having(out, "  shared with lena's organisation")
    assert having(out, "[DM to marco] New ticket:"), "the watcher hears of it"
