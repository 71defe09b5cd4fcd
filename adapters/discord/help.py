"""``/ticket help`` on Discord: every command, the top-level watcher ones included."""

from __future__ import annotations


def help_text(desk_name: str) -> str:
    """``/ticket help``, headed with ``desk.name``."""
    return HELP.replace("**Helpthread**", f"**{desk_name}**", 1)


HELP = """**Helpthread** — `/ticket` commands
`/ticket new` open a ticket (category, priority, account; agents: `for` someone)
`/ticket list` · `/ticket show` · `/ticket search` · `/ticket transcript`
`/ticket close` · `/ticket reopen` · `keep-open` · `rate` (your own tickets)
`/watch` · `/unwatch` follow a ticket you can see (you join its thread)
`/add` · `/remove` a watcher: a member or an e-mail address (the requester; agents)
`/share` · `/unshare` let the whole server see it, or not (the requester; agents)
Agents: `/ticket queue` · `reply` · `note` · `claim` · `assign` · `unassign` · `wait` · \
`hold` · `resume` · `priority` · `escalate` · `resolve` · `ask-close` · `panel` · `stats`
Inside a ticket or team thread the ticket number may be left out.
Messages typed in your ticket thread reach the team; in a team thread they are \
internal notes."""
