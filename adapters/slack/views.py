"""Block Kit for tickets: cards, thread messages, receipts and notifications.

Every string a user typed (subjects, descriptions, comments, names) goes
through ``text.escape`` before it is posted (PRODUCT.md §5). Cards are
re-rendered from the ticket as it is now and replace the old card in place.
Limits (Block Kit reference): ≤ 50 blocks a message, a section's text ≤ 3000
characters, ≤ 10 section fields of ≤ 2000 characters, ≤ 25 elements in an
actions block, button text ≤ 75.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, assert_never

from adapters.slack import ids
from adapters.slack.deflection import helpful_blocks, similar_blocks
from adapters.slack.forms import PRIORITY_WORDS, priority_options
from adapters.slack.levels import TARGETS, clock_lines, state_lines
from adapters.slack.text import FIELD_TEXT_MAX, chunks, date, escape, link, shorten
from core.capabilities import TICKET_ACTIONS
from core.events import (
    Assigned,
    Attachment,
    AutoClosed,
    Claimed,
    Closed,
    CloseDeclined,
    CloseRequested,
    Commented,
    Escalated,
    Event,
    EventKind,
    Held,
    InfoRequested,
    Linked,
    Noted,
    Opened,
    PriorityChanged,
    Rated,
    Reminded,
    Reopened,
    Resolved,
    Resumed,
    SlaBreached,
    SlaWarning,
    Unassigned,
    VisibilityChanged,
    WatcherAdded,
    WatcherRemoved,
)
from core.policy import Action
from core.tickets import DONE, LinkKind, Rating, Status, Visibility
from core.views import TicketView

Blocks = list[dict[str, Any]]
MESSAGE_BLOCKS_MAX = 50
WATCHERS_SHOWN_MAX = 1500  # of a context element's 3000 characters

STATUS_WORDS = {
    Status.OPEN: "Open",
    Status.IN_PROGRESS: "In progress",
    Status.WAITING: "Waiting on the requester",
    Status.ON_HOLD: "On hold",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}
STATUS_EMOJI = {
    Status.OPEN: ":large_blue_circle:",
    Status.IN_PROGRESS: ":large_yellow_circle:",
    Status.WAITING: ":hourglass_flowing_sand:",
    Status.ON_HOLD: ":double_vertical_bar:",
    Status.RESOLVED: ":white_check_mark:",
    Status.CLOSED: ":black_circle:",
}


def status_word(value: Status | str) -> str:
    return STATUS_WORDS[Status(value)]


def title(t: TicketView) -> str:
    """``#12 · Subject`` in mrkdwn, escaped."""
    return f"*#{t.number} · {escape(t.subject)}*"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _button(text: str, action_id: str, number: int, style: str | None = None,
            confirm: dict[str, Any] | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text},
                              "action_id": action_id, "value": str(number)}
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _confirm_close(number: int) -> dict[str, Any]:
    plain = {"type": "plain_text"}
    return {"title": {**plain, "text": f"Close #{number}?"},
            "text": _mrkdwn("It leaves the queue; the requester can still reopen it for a "
                            "while by replying."),
            "confirm": {**plain, "text": "Close it"}, "deny": {**plain, "text": "Keep it"}}


def _sla_field(t: TicketView, *, team: bool) -> str:
    """The card's SLA field: each clock (due, paused, met; agents: breached)."""
    lines = clock_lines(t, team=team)
    return "*SLA*\n" + ("\n".join(lines) if lines else date(t.sla_due))


def card_fields(t: TicketView, *, team: bool) -> list[dict[str, Any]]:
    assignee = escape(t.assignee.name) if t.assignee else "_nobody yet_"
    fields = [
        f"*Category*\n{escape(t.category_name)}",
        f"*Priority*\n{PRIORITY_WORDS.get(t.priority, t.priority)}",
        f"*Status*\n{STATUS_EMOJI[t.status]} {status_word(t.status)}",
        f"*Requester*\n{escape(t.requester.name)}",
        f"*Assignee*\n{assignee}",
        _sla_field(t, team=team),
    ]
    if t.escalation_level:
        fields.append(f"*Escalation*\nlevel {t.escalation_level}")
    if team and t.account:
        fields.append(f"*Account*\n{escape(t.account)}")
    for item in t.fields:
        if len(fields) < 10:
            fields.append(shorten(f"*{escape(item.label)}*\n{escape(item.value)}",
                                  FIELD_TEXT_MAX))
    return [_mrkdwn(f) for f in fields]


def _priority_select(n: int, current: str) -> dict[str, Any]:
    options = [{**o, "value": f"{n}:{o['value']}"} for o in priority_options()]
    select: dict[str, Any] = {"type": "static_select", "action_id": ids.PRIORITY,
                              "placeholder": {"type": "plain_text", "text": "Priority"},
                              "options": options}
    chosen = next((o for o in options if o["value"] == f"{n}:{current}"), None)
    if chosen is not None:
        select["initial_option"] = chosen
    return select


# The one map from core's actions to this adapter's card controls, in the order cards
# show them (``core.capabilities.TICKET_ACTIONS``). Actions without a control here
# (assign, unassign, wait, hold, resume, note, link, watchers, comments) are taken with
# ``/ticket`` commands and thread messages.
CONTROLS: dict[Action, Callable[[TicketView], dict[str, Any]]] = {
    Action.CLAIM: lambda t: _button("Claim", ids.CLAIM, t.number, "primary"),
    Action.REPLY: lambda t: _button("Reply", ids.REPLY, t.number),
    Action.RESOLVE: lambda t: _button("Resolve", ids.RESOLVE, t.number),
    Action.CLOSE: lambda t: _button("Close", ids.CLOSE, t.number,
                                    confirm=_confirm_close(t.number)),
    Action.REOPEN: lambda t: _button("Reopen", ids.REOPEN, t.number),
    Action.SET_PRIORITY: lambda t: _priority_select(t.number, t.priority),
    Action.ESCALATE: lambda t: _button("Escalate", ids.ESCALATE, t.number, "danger"),
    Action.ASK_CLOSE: lambda t: _button("Ask to close", ids.ASK_CLOSE, t.number),
}
ACTION_OF: dict[str, Action] = {  # a control's action_id → the action it takes
    ids.CLAIM: Action.CLAIM, ids.REPLY: Action.REPLY, ids.RESOLVE: Action.RESOLVE,
    ids.CLOSE: Action.CLOSE, ids.REOPEN: Action.REOPEN, ids.PRIORITY: Action.SET_PRIORITY,
    ids.ESCALATE: Action.ESCALATE, ids.ASK_CLOSE: Action.ASK_CLOSE,
}


def card_actions(t: TicketView) -> dict[str, Any] | None:
    """The controls for exactly ``t.actions`` — what core says the card's audience may
    do now (team card: any agent; ticket card: the requester). The desk authorises every
    press again."""
    elements = [CONTROLS[a](t) for a in TICKET_ACTIONS if a in t.actions and a in CONTROLS]
    if not elements:
        return None
    return {"type": "actions", "block_id": f"ticket:{t.number}:actions", "elements": elements}


def card(t: TicketView, *, team: bool, receipt: bool = False, watching: bool = False,
         opened_by: str | None = None, now: datetime | None = None,
         opened: Opened | None = None) -> tuple[str, Blocks]:
    """The ticket card (PRODUCT.md §5): number, subject, category, priority, status,
    requester, assignee, SLA clocks, description, a pending close request and when the
    desk closes it ("closes in 2 days" from ``now``, UTC); ``team`` adds the account,
    breach marks and the rating; the controls are the card audience's ``t.actions``
    (``card_actions``); ``receipt`` words it for the requester (a private ticket's card
    in their DM); ``watching`` for a watcher (the card of their own thread in their DM).
    ``opened`` (the ticket's opening, ``DeliveryJob.opened``) adds its
    deflection: similar past tickets on the team card, "These may help" on a receipt."""
    blocks: Blocks = []
    if receipt and t.status in DONE:
        blocks.append(_section(
            f"Your ticket {title(t)} is {status_word(t.status).lower()}.\nReply in this "
            "thread if you still need help."))
    elif receipt:
        blocks.append(_section(
            f"We have your ticket {title(t)}\nAn agent will answer in this thread; reply "
            "here to add anything. You will see here who picks it up and every change."
            + (f"\n{escape(t.back_text)}" if t.back_text else "")))
    elif watching:
        blocks.append(_section(
            f"You watch ticket {title(t)}\nEvery public update comes into this thread; "
            "reply here to comment on the ticket."))
    else:
        heading = f"{title(t)}"
        if opened_by:
            heading += f"\n_opened by {escape(opened_by)} on behalf of " \
                       f"{escape(t.requester.name)}_"
        blocks.append(_section(heading))
    blocks.append({"type": "section", "fields": card_fields(t, team=team)})
    states = state_lines(t, team=team, now=now)
    if states:
        blocks.append({"type": "context", "elements": [_mrkdwn("\n".join(states))]})
    for piece in list(chunks(t.description))[:MESSAGE_BLOCKS_MAX - 8]:
        blocks.append(_section(piece))
    if t.resolution and t.status in DONE:
        blocks.append(_section("*Resolution*\n" + next(chunks(t.resolution, 2900), "")))
    if team:
        blocks += similar_blocks(opened)
    elif receipt and t.status not in DONE:
        blocks += helpful_blocks(opened, t.number)
    actions = card_actions(t)
    if actions:
        blocks.append(actions)
    footer = f"Ticket #{t.number} · {t.visibility.value} · opened {date(t.opened_at)}"
    if t.watchers:
        footer += " · watchers: " + shorten(", ".join(escape(w.name) for w in t.watchers),
                                            WATCHERS_SHOWN_MAX)
    blocks.append({"type": "context", "elements": [_mrkdwn(footer)]})
    fallback = f"#{t.number} {escape(t.subject)} — {status_word(t.status)}"
    return fallback, blocks


def attachment_lines(files: tuple[Attachment, ...]) -> list[str]:
    lines = []
    for item in files:
        label = f"{item.name or 'file'} ({item.size} bytes)" if item.size is not None \
            else item.name or "file"
        lines.append(":paperclip: " + link(item.url or None, label))
    return lines


AUTO_CLOSED = {
    AutoClosed.NO_REPLY: "no reply came to the question, so it expired",
    AutoClosed.RESOLVED: "it was resolved and nobody wrote since",
    AutoClosed.CLOSE_REQUEST: "nobody answered the request to close it",
}


def transcript_posted(t: TicketView) -> str:
    """The comment on a closed ticket's transcript in the transcripts channel."""
    return f"#{t.number} · {escape(t.subject)} is closed; its transcript, internal notes " \
        "included."


def event_text(event: Event, t: TicketView, desk_name: str = "Helpthread") -> str:
    """What a delivered event says in a thread or a DM (mrkdwn, user text escaped)."""
    who = escape(event.actor.name if event.actor else desk_name)
    n = f"#{t.number}"
    match event.payload:
        case Opened():
            return f"New ticket {title(t)}"
        case Commented(text=text, attachments=files):
            return "\n".join([escape(text), *attachment_lines(files)])
        case Noted(text=text, attachments=files):
            return "\n".join([f":lock: _internal note_\n{escape(text)}",
                              *attachment_lines(files)])
        case Claimed(to=to):
            return f":raising_hand: *{who}* is handling {n}. Status: *{status_word(to)}*."
        case Assigned(assignee=assignee, to=to):
            return f":bust_in_silhouette: *{who}* assigned {n} to *{escape(assignee)}*. " \
                   f"Status: *{status_word(to)}*."
        case Unassigned(to=to):
            return f"*{who}* handed {n} back to the queue. Status: *{status_word(to)}*."
        case InfoRequested(question=question):
            return f":question: *{who}* needs more information:\n{escape(question)}\n_{n} " \
                   "is waiting on the requester: reply in this thread._"
        case Held(reason=reason):
            return f":double_vertical_bar: *{who}* put {n} on hold" + \
                (f": {escape(reason)}" if reason else ".")
        case Resumed(to=to):
            return f"{n} is back to work. Status: *{status_word(to)}*."
        case Resolved(note=note, to=to):
            return f":white_check_mark: *{who}* resolved {n}. Status: *{status_word(to)}*.\n" \
                   f"*Resolution:* {escape(note)}"
        case Closed(why=why) if why is not None:
            return f":black_circle: *{escape(desk_name)}* closed {n}: {AUTO_CLOSED[why]}."
        case Closed(reason=reason, by_system=by_system):
            closer = escape(desk_name) if by_system else who
            return f":black_circle: *{closer}* closed {n}" + \
                (f": {escape(reason)}" if reason else ".")
        case Reopened(to=to):
            return f":arrows_counterclockwise: *{who}* reopened {n}. " \
                   f"Status: *{status_word(to)}*."
        case PriorityChanged(previous=previous, to=to):
            return f"*{who}* changed the priority of {n} from *{escape(previous)}* to " \
                   f"*{escape(to)}*."
        case Escalated(level=level, reason=reason):
            return f":rotating_light: *{who}* escalated {n} (level {level})" + \
                (f": {escape(reason)}" if reason else ".")
        case Linked(link=LinkKind.FOLLOWED_UP_BY, number=other):
            return f"{n} continues in follow-up ticket #{other}; please write there."
        case Linked(link=kind, number=other):
            return f"*{who}* linked {n} to #{other} ({kind.words})."
        case WatcherAdded(own=True):
            return f":eyes: *{who}* is watching {n}."
        case WatcherAdded(watcher=watcher):
            return f":eyes: *{who}* added *{escape(watcher)}* as a watcher of {n}."
        case WatcherRemoved(own=True):
            return f"*{who}* stopped watching {n}."
        case WatcherRemoved(watcher=watcher):
            return f"*{who}* removed *{escape(watcher)}* as a watcher of {n}."
        case VisibilityChanged(to=Visibility.SHARED):
            return f":busts_in_silhouette: *{who}* shared {n} with " \
                   f"{escape(t.requester.name)}'s organisation."
        case VisibilityChanged():
            return f":lock: *{who}* made {n} private: only its requester, watchers and " \
                   "agents see it."
        case SlaWarning(target=target, due=due):
            return f":hourglass_flowing_sand: *SLA warning:* {n}'s {TARGETS[target]} is due " \
                   f"{date(due)}."
        case SlaBreached(target=target, due=due):
            return f":red_circle: *SLA breached:* {n} missed its {TARGETS[target]} target " \
                   f"(due {date(due)})."
        case Reminded(closes_at=closes_at):
            return f":alarm_clock: {n} is still waiting for your answer; it closes " \
                   f"{date(closes_at)} unless you reply in this thread."
        case CloseRequested(message=message, closes_at=closes_at):
            return f":wave: *{who}* asks whether {n} can be closed" + \
                (f": {escape(message)}" if message else ".") + \
                f"\n_Without an answer it closes {date(closes_at)}._"
        case CloseDeclined():
            return f"*{who}* still needs help with {n}; it stays open."
        case Rated(rating=rating, comment=comment, previous=previous):
            face = ":+1:" if rating is Rating.GOOD else ":-1:"
            changed = f" (was {previous.value})" if previous else ""
            return f"{face} *{who}* rated {n} *{rating.value}*{changed}" + \
                (f": {escape(comment)}" if comment else ".")
        case unreachable:
            assert_never(unreachable)


def receipt(t: TicketView, thread_url: str | None, desk_name: str = "Helpthread",
            opened: Opened | None = None) -> tuple[str, Blocks]:
    """The requester's receipt (PRODUCT.md §6): number, subject, category, priority,
    what happens next, a link to the thread; signed with ``desk.name``; then what may
    help (``opened``'s deflection)."""
    where = link(thread_url, "its thread") if thread_url else "its thread"
    text = (f"We have your ticket {title(t)}\n{escape(t.category_name)} · "
            f"{PRIORITY_WORDS.get(t.priority, t.priority)} priority. {escape(desk_name)} will "
            f"answer in {where} (first response due {date(t.sla_due)}). You will hear here "
            "who picks it up, every status change and the resolution.")
    if t.back_text:
        text += f"\n:crescent_moon: {escape(t.back_text)}"
    return f"We have your ticket #{t.number}", [_section(text),
                                                *helpful_blocks(opened, t.number)]


def notification(event: Event, t: TicketView, thread_url: str | None,
                 buttons: Blocks | None = None) -> tuple[str, Blocks]:
    """A DM about ``event`` to a requester or watcher whom no thread reaches; ``buttons``
    (the requester's, ``levels.requester_buttons``) follow the text."""
    head = f"{title(t)} — {STATUS_EMOJI[t.status]} {status_word(t.status)}"
    body = event_text(event, t)
    if event.kind is EventKind.COMMENTED:
        who = escape(event.actor.name) if event.actor else "Helpthread"
        body = f"*{who}* wrote:\n{body}"
    blocks: Blocks = [_section(head)]
    blocks += [_section(piece) for piece in _split_mrkdwn(body)]
    blocks += buttons or []
    if thread_url:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            link(thread_url, f"Open the thread of #{t.number}") + " to answer.")]})
    return f"#{t.number} {escape(t.subject)}: update", blocks


def assigned(event: Event, t: TicketView, thread_url: str | None) -> tuple[str, Blocks]:
    who = escape(event.actor.name) if event.actor else "Helpthread"
    where = link(thread_url, "team thread") if thread_url else "team thread"
    text = f"*{who}* assigned {title(t)} to you. See the {where}."
    return f"#{t.number} is assigned to you", [_section(text)]


def thread_message(event: Event, t: TicketView, buttons: Blocks) -> tuple[str, Blocks | None]:
    """A thread post of ``event``: its text, and blocks only when ``buttons`` follow it
    (the requester's, ``levels.requester_buttons``)."""
    text = event_text(event, t)
    if not buttons:
        return text, None
    return text, [*(_section(piece) for piece in _split_mrkdwn(text)), *buttons]


def sla_notice(event: Event, t: TicketView, mention: str,
               thread_url: str | None) -> tuple[str, Blocks]:
    """The team channel's SLA warning or breach (PRODUCT.md §7): which ticket, which
    target, when it is or was due, who must act (``mention``, the app's own words) and
    a link to the team thread."""
    where = link(thread_url, "team thread") if thread_url else "team thread"
    who = escape(t.assignee.name) if t.assignee else "unassigned"
    head = f"{mention} {event_text(event, t)}" if mention else event_text(event, t)
    text = f"{head}\n{title(t)} · {PRIORITY_WORDS.get(t.priority, t.priority)} · " \
           f"{status_word(t.status)} · {who} · {where}"
    kind = "breached" if event.kind is EventKind.SLA_BREACHED else "warning"
    return f"SLA {kind}: #{t.number}", [_section(text)]


def escalation(event: Event, t: TicketView, group: str | None,
               thread_url: str | None) -> tuple[str, Blocks]:
    """The escalation channel's message, mentioning the escalation group (config)."""
    mention = f"<!subteam^{group}> " if group else ""
    where = link(thread_url, "team thread") if thread_url else "team thread"
    text = f"{mention}{event_text(event, t)}\n{title(t)} · " \
           f"{PRIORITY_WORDS.get(t.priority, t.priority)} · {status_word(t.status)} · {where}"
    return f"#{t.number} escalated", [_section(text)]


def _split_mrkdwn(text: str, limit: int = 3000) -> list[str]:
    """Already-escaped mrkdwn in section-sized pieces, cut at line ends where possible."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        while cut > 0 and "&" in text[max(0, cut - 5):cut] and ";" not in \
                text[text.rfind("&", 0, cut):cut]:
            cut -= 1  # never split an entity
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces
