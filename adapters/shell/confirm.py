"""What the shell says after a change made by ``/ticket`` (one line per command)."""

from __future__ import annotations

from adapters.shell import views
from core import commands as cmd
from core import grammar
from core.tickets import Ticket, Visibility


def done(command: grammar.Parsed, ticket: Ticket) -> str:
    """What the shell says after a change made by ``/ticket``."""
    number = ticket.number
    match command:
        case cmd.Reply():
            return f"Reply posted to #{number}."
        case cmd.Note():
            return f"Internal note added to #{number}."
        case cmd.Escalate():
            return f"Done: #{number} is escalated (level {ticket.escalation_level})."
        case cmd.SetPriority():
            return f"Done: #{number} is now {ticket.priority} priority."
        case cmd.Link(_, _, other):
            return f"Done: #{number} is linked to #{other}."
        case cmd.AskClose():
            return f"Asked {ticket.requester.name} to confirm closing #{number}."
        case cmd.KeepOpen():
            return f"Done: #{number} stays open; it is {views.status(ticket.status)}."
        case cmd.Rate(_, rating):
            return f"Thank you: you rated #{number} {rating}."
        case cmd.Watch():
            return f"Done: you are watching #{number}; you will hear of every public update."
        case cmd.Unwatch():
            return f"Done: you no longer watch #{number}."
        case cmd.SetVisibility():
            return (f"Done: #{number} is shared with {ticket.requester.name}'s organisation."
                    if ticket.visibility is Visibility.SHARED else
                    f"Done: #{number} is private.")
    return f"Done: #{number} is {views.status(ticket.status)}."
