"""What the app answers a person: ephemeral command answers, refusals, the App Home.

Ephemeral answers go through the request's ``response_url`` (valid 30 minutes,
5 uses — Slack docs, "Handling user interaction"); they are mrkdwn with user
text escaped. The App Home is a ``home`` view (≤ 100 blocks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.slack import ids
from adapters.slack.forms import PRIORITY_WORDS
from adapters.slack.levels import clock_lines, state_lines
from adapters.slack.text import chunks, date, escape, link
from adapters.slack.views import STATUS_EMOJI, event_text, status_word, title
from core.errors import DeskError, Invalid
from core.events import EventKind
from core.grammar import ListTickets, Queue, Search
from core.tickets import Ticket
from core.views import Listed, Page, TicketDetails

HOME_BLOCKS_MAX = 100

def help_text(desk_name: str) -> str:
    """``/ticket help``, headed with ``desk.name``."""
    return HELP.replace("*Helpthread*", f"*{escape(desk_name)}*", 1)


HELP = """*Helpthread* — `/ticket` commands
• `/ticket` or `/ticket new [subject]` — open the ticket form
• `/ticket list [open|closed|all] [mine|org] [unread] [page N]` — your tickets, newest \
activity first, 20 a page
• `/ticket show 42` · `/ticket transcript 42`
• `/ticket watch 42` · `unwatch 42` — follow a ticket you can see: every public update by DM
• `/ticket cc 42 @someone|name@example.com` · `uncc …` — add or remove a watcher \
(the requester; agents)
• `/ticket share 42` · `unshare 42` — visible to the requester's workspace, or not \
(the requester; agents)
• `/ticket search words "a phrase" -word #42` with filters `status:open` `category:…` \
`priority:…` `assignee:me|NAME` `requester:NAME` `before:/after:YYYY-MM-DD`
*Agents*
• `/ticket queue [page N]` — breached, at risk, then unassigned tickets, by SLA due
• `/ticket stats [7d|30d|90d]` — volume, response times, SLA met and satisfaction, with a chart
• `/ticket reply 42 <text>` (to the requester) · `/ticket note 42 <text>` (internal)
• `/ticket new for:@someone` — open a ticket on someone's behalf
• `/ticket claim 42` · `assign 42 @agent` · `unassign 42` · `wait 42 <question>` · \
`hold 42 <reason>` · `resume 42`
• `/ticket priority 42 urgent` · `escalate 42 <reason>` · `resolve 42 <resolution note>`
• `/ticket close 42 [reason]` · `reopen 42` (also the requester, for their own)
• `/ticket ask-close 42 [message]` — ask the requester to confirm closing
*Requesters*
• `/ticket keep-open 42` — you still need help after being asked to close
• `/ticket rate 42 good|bad [comment]` — how did we do? (once resolved)
Shortcuts: *Open a ticket* (global) and *Create ticket from message* (on a message).
Every ticket has a thread: write there to talk to the requester (team thread: internal notes)."""


def refusal(err: DeskError) -> str:
    """The one way every refusal reads (DESIGN.md: same error, same rendering)."""
    if isinstance(err, Invalid):
        return f":warning: {escape(err.field)}: {escape(err.reason)}"
    return f":no_entry: {escape(err.message[:1].upper() + err.message[1:])}."


NOT_STORED_YET = (":hourglass: The desk's database cannot be reached right now, so this "
                  "message is not on the ticket yet. It will be added when the desk is "
                  "back; there is no need to send it again.")


def already_opened(ticket: Ticket) -> str:
    """The answer to a form that repeats one sent moments ago (PRODUCT.md §8)."""
    return (f"You already opened this as *#{ticket.number}* ({escape(ticket.subject)}, "
            f"{status_word(ticket.status)}); nothing new was opened. "
            f"`/ticket show {ticket.number}` has its details and thread.")


def listing(items: list[Listed], empty: str) -> str:
    if not items:
        return empty
    lines = []
    for item in items:
        t = item.ticket
        who = escape(t.assignee.name) if t.assignee else "unassigned"
        due = " · SLA paused" if t.paused and t.sla_due else \
            f" · SLA due {date(t.sla_due)}" if t.sla_due else ""
        dot = ":small_orange_diamond: " if item.unread else ""
        lines.append(f"{dot}{STATUS_EMOJI[t.status]} *#{t.number}* {escape(t.subject)} — "
                     f"{status_word(t.status)}, {PRIORITY_WORDS.get(t.priority, t.priority)}, "
                     f"{who}{due}")
        if item.snippet:  # a search hit: the words around the match, as plain text
            lines.append(f">{escape(item.snippet)}")
    return "\n".join(lines)


def details(d: TicketDetails, thread_urls: dict[str, str],
            now: datetime | None = None) -> list[str]:
    """``/ticket show``: every field, its SLA clocks, when it closes by itself (from
    ``now``, UTC), a pending close request, for agents the rating, where its threads
    are, the conversation (mrkdwn pieces of ≤ 3000 characters, one section each)."""
    t = d.ticket
    team = d.sees_internal
    lines = [
        title(t),
        f"{STATUS_EMOJI[t.status]} {status_word(t.status)} · {escape(t.category_name)} · "
        f"{PRIORITY_WORDS.get(t.priority, t.priority)} priority · {t.visibility.value}",
        f"Requester {escape(t.requester.name)} · assignee "
        f"{escape(t.assignee.name) if t.assignee else 'nobody yet'}",
        f"Opened {date(t.opened_at)} from {escape(t.source)}",
        *(f"SLA · {line}" for line in clock_lines(t, team=team)),
        *state_lines(t, team=team, now=now),
    ]
    if t.escalation_level:
        lines.append(f"Escalation level {t.escalation_level}")
    if t.account:
        lines.append(f"Account: {escape(t.account)}")
    for f in (*t.fields, *d.sensitive):
        lines.append(f"{escape(f.label)}: {escape(f.value)}")
    if t.resolution:
        lines.append(f"Resolution: {escape(t.resolution)}")
    for item in t.links:
        lines.append(f"{item.kind.words} #{item.number}")
    if t.watchers:
        lines.append("Watchers: " + ", ".join(escape(w.name) for w in t.watchers))
    for label, url in thread_urls.items():
        lines.append(link(url, label))
    head = "\n".join(lines)
    description = list(chunks(t.description, 2900)) or [""]
    pieces = [*chunks_of(head), "*Description*\n" + description[0], *description[1:]]
    history = [
        f"• {e.at:%Y-%m-%d %H:%M} *{escape(e.actor.name) if e.actor else 'Helpthread'}*: "
        + event_text(e, t).replace("\n", " ")
        for e in d.events if e.kind is not EventKind.OPENED
    ]
    if history:
        pieces += chunks_of("*Conversation*\n" + "\n".join(history[-40:]))
    return pieces


def page_pieces(page: Page, empty: str) -> list[str]:
    """A page of ``/ticket list``/``queue`` as mrkdwn pieces; from page 2 on, its number
    first."""
    text = listing(list(page.items), empty)
    if page.number > 1:
        text = f"_Page {page.number}_\n{text}"
    return chunks_of(text)


def more_button(page: Page, request: ListTickets | Queue | Search) -> list[dict[str, Any]]:
    """Under a page that goes on: "More", carrying the next page's words."""
    if not page.more:
        return []
    return [{"type": "actions", "block_id": "more", "elements": [{
        "type": "button", "action_id": ids.MORE, "value": request.words(page.number + 1),
        "text": {"type": "plain_text", "text": "More"}}]}]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def home(name: str, mine: Page, queue: Page | None) -> dict[str, Any]:
    """The App Home tab: my open tickets (the first page of ``/ticket list mine``); for
    agents also the queue (the first page of ``/ticket queue``), each saying the command
    for the rest when it goes on."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Helpthread"}},
        _section(f"Hello {escape(name)}. Open a ticket here or with `/ticket`; answer in "
                 "each ticket's thread."),
        {"type": "actions", "elements": [{
            "type": "button", "action_id": ids.HOME_NEW, "style": "primary",
            "text": {"type": "plain_text", "text": "Open a ticket"}, "value": "new"}]},
        {"type": "divider"},
        _section("*My open tickets*"),
    ]
    blocks += [_section(p) for p in chunks_of(listing(list(mine.items),
                                                      "_None — all quiet._"))]
    blocks += _rest(mine, ListTickets(mine=True))
    if queue is not None:
        blocks += [{"type": "divider"},
                   _section("*The queue* (breached, at risk, then unassigned; by SLA due)")]
        blocks += [_section(p) for p in chunks_of(listing(list(queue.items),
                                                          "_The queue is empty._"))]
        blocks += _rest(queue, Queue())
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS_MAX]}


def _rest(page: Page, request: ListTickets | Queue) -> list[dict[str, Any]]:
    """Under a Home list that goes on: the command that shows the rest."""
    if not page.more:
        return []
    return [{"type": "context", "elements": [{
        "type": "mrkdwn", "text": f"More: `/ticket {request.words(page.number + 1)}`"}]}]


def chunks_of(mrkdwn: str, limit: int = 3000) -> list[str]:
    """Already-escaped mrkdwn lines grouped into pieces of ≤ ``limit`` characters."""
    pieces: list[str] = []
    current = ""
    for line in mrkdwn.split("\n"):
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces
