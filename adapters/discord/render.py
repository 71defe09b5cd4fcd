"""Every word Discord users read: cards, thread messages, DMs, answers (embeds and text).

Limits (Discord docs, "Embed Limits" and "Create Message"): embed title 256,
description 4096, field name 256 / value 1024, 25 fields, 6000 characters in all;
message content 2000; thread name 100. User text is never cut silently: where a card
has to be shorter, it says so and points at ``/ticket show``. Times are Discord
timestamps (``<t:unix:R>``), shown in each reader's own time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

import discord

from core.durations import spoken
from core.errors import DeskError, Invalid, every_problem
from core.events import (
    Assigned,
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
from core.tickets import DONE, LinkKind, Status, Visibility
from core.views import ClockView, Listed, TicketDetails, TicketView

CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELD_MAX = 1024
EMBED_TOTAL_MAX = 6000
THREAD_NAME_MAX = 100

STATUS_WORDS = {
    Status.OPEN: "Open",
    Status.IN_PROGRESS: "In progress",
    Status.WAITING: "Waiting on the requester",
    Status.ON_HOLD: "On hold",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}
STATUS_COLOURS = {
    Status.OPEN: discord.Colour.blue(),
    Status.IN_PROGRESS: discord.Colour.gold(),
    Status.WAITING: discord.Colour.orange(),
    Status.ON_HOLD: discord.Colour.light_grey(),
    Status.RESOLVED: discord.Colour.green(),
    Status.CLOSED: discord.Colour.dark_grey(),
}
NOTE_COLOUR = discord.Colour.dark_purple()


def status(value: Status | str) -> str:
    return STATUS_WORDS[Status(value)]


def when(moment: datetime | None) -> str:
    """A Discord timestamp: absolute and relative, in the reader's time zone."""
    if moment is None:
        return "—"
    unix = int(moment.timestamp())
    return f"<t:{unix}:f> (<t:{unix}:R>)"


def thread_url(guild_id: int | str, thread_id: int | str) -> str:
    return f"https://discord.com/channels/{guild_id}/{thread_id}"


def thread_name(t: TicketView) -> str:
    """``#42 subject``, at most 100 characters. Set once: status lives on the card, never
    in the name (Discord allows about two channel renames per 10 minutes)."""
    name = f"#{t.number} {t.subject}"
    return name if len(name) <= THREAD_NAME_MAX else name[: THREAD_NAME_MAX - 1] + "…"


def _shorten(text: str, limit: int, more: str) -> str:
    return text if len(text) <= limit else text[: limit - len(more) - 1] + "…" + more


TARGET_NAMES = {"first_response": "First response SLA", "resolution": "Resolution SLA"}


def clock_text(clock: ClockView, *, team: bool) -> str:
    """One SLA clock as a card shows it: due (a Discord timestamp), paused with the
    business time left, or met; for the team (``team``) a breach is marked. A requester
    never reads of breaches (PRODUCT.md §7)."""
    missed = "\U0001f534 breached" if team and clock.breached else ""
    if clock.met:
        return "met" + (f" ({missed} first)" if missed else "")
    if clock.paused:
        left = spoken(clock.left)  # rounded as Discord's own "in 2 days" is
        return f"paused, {left} left" + (f" · {missed}" if missed else "")
    if clock.due is None:
        return "—"
    return (f"{missed}, was due " if missed else "due ") + when(clock.due)


def _service_fields(embed: discord.Embed, t: TicketView, *, team: bool) -> None:
    """The SLA clocks, when it closes by itself, a pending close request and — for
    agents (the view carries it only for them) — the rating."""
    open_ = t.status not in (Status.RESOLVED, Status.CLOSED)
    for clock in t.clocks:
        if open_ or (team and clock.breached):
            embed.add_field(name=TARGET_NAMES.get(clock.target, clock.target),
                            value=clock_text(clock, team=team))
    if not t.clocks:
        embed.add_field(name="SLA due", value=when(t.sla_due) if t.sla_due else "—")
    if t.closes_at is not None:
        embed.add_field(name="Closes by itself", value=when(t.closes_at))
    if t.close_requested:
        embed.add_field(name="Close request", value=(
            "waiting for the requester's answer" if team else
            "Can we close it? Answer under the request in your ticket thread "
            f"(or `/ticket keep-open {t.number}`)"), inline=False)
    if t.rating is not None:
        mark = "\U0001f44d" if t.rating.value == "good" else "\U0001f44e"
        comment = f": {t.rating_comment}" if t.rating_comment else ""
        embed.add_field(name="Rating", value=_shorten(f"{mark} {t.rating.value}{comment}",
                                                      EMBED_FIELD_MAX, ""), inline=False)


def card_embed(t: TicketView, *, team: bool) -> discord.Embed:
    """The ticket card: number, subject, category, priority, status, requester, assignee,
    the SLA clocks and automation (``_service_fields``), the description and the
    non-sensitive fields."""
    more = f"\n(continued: /ticket show {t.number})"
    embed = discord.Embed(
        title=_shorten(f"#{t.number} · {t.subject}", EMBED_TITLE_MAX, ""),
        description=_shorten(t.description, 3000, more),
        colour=STATUS_COLOURS[t.status],
    )
    embed.add_field(name="Status", value=status(t.status))
    embed.add_field(name="Priority", value=t.priority)
    embed.add_field(name="Category", value=t.category_name)
    embed.add_field(name="Requester", value=t.requester.name)
    embed.add_field(name="Assignee", value=t.assignee.name if t.assignee else "nobody yet")
    _service_fields(embed, t, team=team)
    if t.account:
        embed.add_field(name="Account", value=t.account)
    if t.escalation_level:
        embed.add_field(name="Escalation", value=f"level {t.escalation_level}")
    for f in t.fields:
        embed.add_field(name=f.label, value=f.value or "—", inline=False)
    if t.resolution:
        embed.add_field(name="Resolution", value=_shorten(t.resolution, EMBED_FIELD_MAX, ""),
                        inline=False)
    if t.watchers:
        embed.add_field(name="Watchers", value=_shorten(
            ", ".join(w.name for w in t.watchers), EMBED_FIELD_MAX, ""), inline=False)
    footer = "Team card · internal" if team else "Your ticket · agents answer in this thread"
    shared = " · shared with the server" if t.visibility is Visibility.SHARED else ""
    embed.set_footer(text=f"{footer}{shared} · via {t.source}")
    return embed


def _author(embed: discord.Embed, name: str, icon: str | None) -> discord.Embed:
    return embed.set_author(name=name[:EMBED_TITLE_MAX], icon_url=icon)


TARGETS = {"first_response": "first response", "resolution": "resolution"}
AUTO_CLOSED = {
    AutoClosed.NO_REPLY: "no reply came to the question, so it expired",
    AutoClosed.RESOLVED: "it was resolved and nobody wrote since",
    AutoClosed.CLOSE_REQUEST: "nobody answered the request to close it",
}


def event_text(event: Event, t: TicketView, desk_name: str = "Helpthread") -> str:
    """What a delivered event says (a thread message's or a DM's body)."""
    who = event.actor.name if event.actor else desk_name
    n = t.number
    match event.payload:
        case Opened(on_behalf=on_behalf):
            opener = f" (opened by {who} for {t.requester.name})" if on_behalf else ""
            return f"New ticket #{n}{opener}: {t.subject}"
        case Commented(text=text) | Noted(text=text):
            return text
        case Claimed(to=to):
            return f"{who} claimed #{n}; it is now {status(to).lower()}."
        case Assigned(assignee=assignee):
            return f"{who} assigned #{n} to {assignee}."
        case Unassigned():
            return f"{who} handed #{n} back to the queue."
        case InfoRequested(question=question):
            return f"{who} needs more information:\n{question}\n\nReply in this thread."
        case Held(reason=reason):
            return f"{who} put #{n} on hold" + (f": {reason}" if reason else ".")
        case Resumed(to=to):
            return f"#{n} is {status(to).lower()} again."
        case Resolved(note=note):
            return f"{who} resolved #{n}:\n{note}"
        case Closed(why=why) if why is not None:
            return f"{desk_name} closed #{n}: {AUTO_CLOSED[why]}."
        case Closed(reason=reason, by_system=by_system):
            closer = desk_name if by_system else who
            return f"{closer} closed #{n}" + (f": {reason}" if reason else ".")
        case Reopened(to=to):
            return f"{who} reopened #{n}; it is {status(to).lower()}."
        case PriorityChanged(previous=previous, to=to):
            return f"{who} changed the priority of #{n} from {previous} to {to}."
        case Escalated(level=level, reason=reason):
            return f"{who} escalated #{n} (level {level})" + (f": {reason}" if reason else ".")
        case Linked(link=LinkKind.FOLLOWED_UP_BY, number=other):
            return f"#{n} continues in follow-up ticket #{other}; please write there."
        case Linked(link=link, number=other):
            return f"{who} linked #{n} to #{other} ({link.words})."
        case WatcherAdded(own=True):
            return f"{who} is watching #{n}."
        case WatcherAdded(watcher=watcher):
            return f"{who} added {watcher} as a watcher of #{n}."
        case WatcherRemoved(own=True):
            return f"{who} stopped watching #{n}."
        case WatcherRemoved(watcher=watcher):
            return f"{who} removed {watcher} as a watcher of #{n}."
        case VisibilityChanged(to=Visibility.SHARED):
            return f"{who} shared #{n} with the whole server."
        case VisibilityChanged():
            return f"{who} made #{n} private: its requester, watchers and agents see it."
        case SlaWarning(target=target, due=due):
            return f"\u23f3 SLA warning: #{n}'s {TARGETS[target]} is due {when(due)}."
        case SlaBreached(target=target, due=due):
            return f"\U0001f534 SLA breached: #{n} missed its {TARGETS[target]} target " \
                   f"(due {when(due)})."
        case Reminded(closes_at=closes_at):
            return f"#{n} is still waiting for your answer; it closes {when(closes_at)} " \
                   "unless you reply in this thread."
        case CloseRequested(message=message, closes_at=closes_at):
            return f"{who} asks whether #{n} can be closed" + \
                (f": {message}" if message else ".") + \
                f"\nWithout an answer it closes {when(closes_at)}."
        case CloseDeclined():
            return f"{who} still needs help with #{n}; it stays open."
        case Rated(rating=rating, comment=comment, previous=previous):
            changed = f" (was {previous.value})" if previous else ""
            return f"{who} rated #{n} {rating.value}{changed}" + \
                (f": {comment}" if comment else ".")
        case unreachable:
            assert_never(unreachable)


def event_embed(event: Event, t: TicketView, icon: str | None = None,
                desk_name: str = "Helpthread") -> discord.Embed:
    """A thread message: the author's name (and avatar) above what they said or did —
    the bot quotes people instead of impersonating them through a webhook."""
    name = event.actor.name if event.actor else desk_name
    if event.actor and event.actor.ref.platform != "discord":
        name += f" (via {event.actor.ref.platform})"
    colour = NOTE_COLOUR if event.kind is EventKind.NOTED else STATUS_COLOURS[t.status]
    embed = discord.Embed(description=event_text(event, t, desk_name), colour=colour)
    _author(embed, name, icon)
    if event.kind is EventKind.NOTED:
        embed.set_footer(text="Internal note · agents only")
    files = getattr(event.payload, "attachments", ())
    if files:
        lines = [f"[{f.name}]({f.url}) · {f.size if f.size is not None else '?'} bytes"
                 for f in files]
        embed.add_field(name="Attachments", value=_shorten("\n".join(lines), EMBED_FIELD_MAX,
                                                             ""), inline=False)
    return embed


def ask_to_rate(embed: discord.Embed) -> discord.Embed:
    """Under a resolution the requester reads, above the rating buttons."""
    return embed.add_field(name="How did we do?",
                           value="One click to rate; you can add a comment after.",
                           inline=False)


def receipt_embed(t: TicketView, link: str | None,
                  desk_name: str = "Helpthread") -> discord.Embed:
    """The requester's receipt (PRODUCT.md §6): what they opened and what happens next —
    outside business hours, when the team is back (``back_text``)."""
    where = f"[its private thread]({link})" if link else "its private thread"
    embed = discord.Embed(
        title=_shorten(f"We have your ticket #{t.number}: {t.subject}", EMBED_TITLE_MAX, ""),
        description=(f"{t.category_name} · {t.priority} priority. {desk_name} will "
                     f"answer in {where}; first response due {when(t.sla_due)}.\n"
                     + (f"{t.back_text}\n" if t.back_text else "")
                     + f"See it any time with `/ticket show {t.number}`."),
        colour=STATUS_COLOURS[t.status],
    )
    return embed


def notice_embed(event: Event, t: TicketView, link: str | None) -> discord.Embed:
    """A DM about a ticket (status, reply, assignment) for someone no thread reaches."""
    embed = event_embed(event, t)
    embed.title = _shorten(f"#{t.number} · {t.subject}", EMBED_TITLE_MAX, "")
    if link:
        embed.url = link
    return embed


def escalation_text(event: Event, t: TicketView, role_id: int | None,
                    link: str | None = None) -> str:
    """The escalation channel's notice, opening with the escalation role's mention."""
    return notice_text(f"<@&{role_id}>" if role_id else "", event, t, link)


def notice_text(mention: str, event: Event, t: TicketView, link: str | None,
                desk_name: str = "Helpthread") -> str:
    """A team-channel notice (SLA, escalation): the mention of who must act, what
    happened (Discord timestamps), the team thread's link. At most 2000 characters;
    whatever user text it carries pings nobody (the message's allowed mentions are
    exactly ``mention``)."""
    where = f"\nTeam thread: {link}" if link else ""
    head = f"{mention} " if mention else ""
    body = event_text(event, t, desk_name)
    return head + _shorten(body, CONTENT_MAX - len(head) - len(where), "") + where


def refusal(err: DeskError, labels: dict[str, str] | None = None) -> str:
    """How every refusal reads: an ``Invalid`` names its field — by the label the form
    showed, when there is one, and its key; several bad fields, one line each."""
    if isinstance(err, Invalid):
        return "\n".join(_field_refusal(p, labels or {}) for p in every_problem(err))
    return f"Refused: {err.message}"


def _field_refusal(err: Invalid, labels: dict[str, str]) -> str:
    label = labels.get(err.field)
    name = f"**{label}** ({err.field})" if label else f"**{err.field}**"
    return f"{name}: {err.reason}"


def attachments_only(count: int) -> str:
    """The comment text of a message that only carries files."""
    if count == 0:
        return ""
    return f"(sent {count} attachment{'s' if count > 1 else ''})"


NOT_RECORDED_YET = ("The desk's database cannot be reached right now, so this message is "
                    "not on the ticket yet. It will be added when the desk is back; there "
                    "is no need to send it again.")

FAILED = "That did not work, and nothing was changed. Please try again in a moment."


def not_recorded(err: DeskError) -> str:
    """Said under a thread message the desk refused (it was not recorded)."""
    return f"This message was not recorded on the ticket. {refusal(err)}"


def opened_text(number: int, subject: str, duplicate: bool) -> str:
    if duplicate:
        return (f"You already opened this as #{number}; nothing new was opened. "
                f"See it with `/ticket show {number}`.")
    return (f"Opened #{number}: {subject}. Your private ticket thread is being created; "
            "a receipt is on its way to your direct messages.")


def details_embed(d: TicketDetails, guild_id: int | str) -> discord.Embed:
    """``/ticket show``: the card, the sensitive fields for agents, where it lives and the
    latest of its history."""
    t = d.ticket
    embed = card_embed(t, team=d.sees_internal)
    embed.add_field(name="Opened", value=when(t.opened_at))
    for f in d.sensitive:
        embed.add_field(name=f"{f.label} (sensitive)", value=f.value, inline=False)
    threads = [
        f"[{'team' if b.audience.value == 'internal' else 'ticket'} thread]"
        f"({thread_url(guild_id, b.thread)})"
        for b in d.bindings
        if b.platform == "discord" and b.thread and b.workspace == str(guild_id)
        and (d.sees_internal or b.audience.value == "public")
    ]
    if threads:
        embed.add_field(name="Threads", value=" · ".join(threads), inline=False)
    recent = [f"{e.actor.name if e.actor else 'Helpthread'}: {event_text(e, t)}"
              for e in d.events[-5:] if e.kind is not EventKind.OPENED]
    if recent:
        embed.add_field(name="Latest", value=_shorten("\n".join(recent), EMBED_FIELD_MAX, ""),
                        inline=False)
    return embed


def panel_embed(desk_name: str) -> discord.Embed:
    """The ``/ticket panel`` message."""
    return discord.Embed(
        title=f"{desk_name}: open a ticket",
        description=("Need help? Press **Open a ticket**, choose what it is about and fill "
                     "in the form. You get a private thread with our team."),
        colour=discord.Colour.blurple(),
    )


def _plain(text: str) -> str:
    """User text shown as itself: no markdown, no mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def listing(items: list[Listed], empty: str) -> str:
    """``/ticket list``, ``search`` and ``queue``: one line per ticket (a search hit
    also its snippet, quoted), at most 2000 characters; what does not fit is counted."""
    if not items:
        return empty
    lines: list[str] = []
    for n, item in enumerate(items):
        line = listed_line(item)
        rest = f"\n… and {len(items) - n} more; narrow it with /ticket search."
        if sum(len(x) + 1 for x in lines) + len(line) + len(rest) > CONTENT_MAX:
            lines.append(rest.strip())
            break
        lines.append(line)
    return "\n".join(lines)


def listed_line(item: Listed) -> str:
    """One ticket of a list: unread dot, number, status, subject, priority, assignee,
    SLA (a search hit also its snippet, quoted)."""
    t = item.ticket
    return (f"{'• ' if item.unread else ''}**#{t.number}** [{status(t.status)}] "
            f"{discord.utils.escape_markdown(t.subject)} — {t.priority}, "
            f"{t.assignee.name if t.assignee else 'unassigned'}"
            + (", SLA paused" if t.paused else
               f", SLA due {when(t.sla_due)}" if t.sla_due else "")
            + (" \U0001f534" if t.breached and t.status not in DONE else "")
            + (f"\n> {_plain(item.snippet)}" if item.snippet else ""))


def transcript_posted(t: TicketView) -> str:
    """The message above a closed ticket's transcript in the transcripts channel."""
    return (f"#{t.number} · {discord.utils.escape_markdown(t.subject)} is closed; its "
            "transcript, internal notes included.")
