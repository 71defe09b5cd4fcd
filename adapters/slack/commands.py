"""``/ticket …`` (PRODUCT.md §4): acknowledged at once, answered ephemerally.

Slack sends the command's text with ``&``, ``<``, ``>`` escaped and, with
``should_escape`` on in the manifest, user mentions as ``<@U123|name>``. Numbers
are written ``42`` or ``#42``; a slash command cannot be typed inside a thread
(Slack does not send the thread), so the number is always needed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.slack import answers, forms, ids
from adapters.slack.context import Shared
from adapters.slack.text import from_slack
from core.errors import DeskError, Invalid
from core.identity import Actor
from core.policy import Action
from core.routing import Binding
from core.validation import SUBJECT_MAX

log = logging.getLogger("helpthread.slack")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
Handler = Callable[[Actor, str, dict[str, Any]], Awaitable[None]]


class Commands:
    def __init__(self, shared: Shared) -> None:
        self.s = shared

    def register(self, app: AsyncApp) -> None:
        app.command(ids.COMMAND)(self.s.inflight.track(self.on_ticket))

    async def on_ticket(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        text = str(body.get("text") or "").strip()
        sub, rest = _first_word(text)
        sub = sub.lower()
        try:
            if sub in ("", "new") or sub.startswith("for:"):
                await self.open_form(body, text if sub.startswith("for:") else rest)
                return
            handler = self._handlers().get(sub)
            if handler is None:
                await self.s.tell(body, f"I don't know `/ticket {from_slack(sub)[:40]}`. "
                                  "Try `/ticket help`.")
                return
            await handler(await self.s.actor(body), rest, body)
        except DeskError as err:
            await self.s.tell(body, answers.refusal(err))
        except SlackClientError as err:  # e.g. the transcript's upload: say so, never silence
            response = getattr(err, "response", None)
            error = response.get("error") if response is not None else None
            log.warning("/ticket %s: Slack failed: %s", sub, error or err)
            what = f"Slack refused part of that ({error})" if error else \
                "Part of that did not get through to Slack"
            await self.s.tell(body, f"{what}; please try again.")

    def _handlers(self) -> dict[str, Handler]:
        return {
            "help": self._help, "list": self._list, "show": self._show, "search": self._search,
            "queue": self._queue, "reply": self._reply, "note": self._note,
            "transcript": self._transcript, "claim": self._simple("claim"),
            "unassign": self._simple("unassign"), "resume": self._simple("resume"),
            "reopen": self._simple("reopen"), "close": self._close,
            "resolve": self._with_text("resolve"), "wait": self._with_text("request_info"),
            "hold": self._with_text("hold"), "escalate": self._with_text("escalate"),
            "priority": self._priority, "assign": self._assign, "stats": self._stats,
        }

    # ---- the form ------------------------------------------------------------------

    async def open_form(self, body: dict[str, Any], rest: str) -> None:
        """``/ticket``, ``/ticket new [subject]``, ``/ticket new for:@user [subject]``."""
        meta = forms.FormMeta()
        on_behalf_name = None
        match = re.match(r"for:\s*(\S*)", rest)  # only first: "for:" in a subject is text
        if match:
            mention = MENTION.fullmatch(match.group(1))
            if not mention:
                raise Invalid("for", "name the requester with a mention, like for:@someone")
            actor = await self.s.actor(body)
            self.s.desk.require(actor, Action.OPEN_FOR_OTHERS)
            meta.on_behalf = mention.group(1)
            on_behalf_name = await self.s.people.name(meta.on_behalf)
            rest = rest[match.end():].strip()
        subject, description = from_slack(rest).strip(), ""
        if len(subject) > SUBJECT_MAX:  # too long for a subject: it starts the description
            subject, description = "", subject
        view = forms.ticket_form(self.s.config, meta, subject=subject, description=description,
                                 on_behalf_name=on_behalf_name)
        await self.s.open_view(body, view)

    # ---- answers -------------------------------------------------------------------

    async def _help(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        await self.s.answer(body, [answers.HELP])

    async def _list(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        words = rest.lower().split()
        allowed = ("open", "closed", "all", "mine", "org", "unread")
        unknown = [w for w in words if w not in allowed]
        if unknown:
            raise Invalid("list", f"{from_slack(unknown[0])[:40]!r} is not one of "
                          + ", ".join(allowed))
        scope = next((w for w in words if w in ("open", "closed", "all")), "open")
        items = await self.s.desk.list_tickets(actor, scope, mine="mine" in words,
                                               org="org" in words, unread="unread" in words)
        text = answers.listing(items, "No tickets." if scope == "all" else f"No {scope} tickets.")
        await self.s.answer(body, answers.chunks_of(text))

    async def _search(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        items = await self.s.desk.search(actor, from_slack(rest))
        await self.s.answer(body, answers.chunks_of(answers.listing(items, "Nothing found.")))

    async def _queue(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        items = await self.s.desk.queue(actor)
        text = answers.listing(items, "The queue is empty: nothing unassigned or overdue.")
        await self.s.answer(body, answers.chunks_of(text))

    async def _show(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, _ = _number(rest)
        details = await self.s.desk.show(actor, number)
        urls = await self._thread_urls(details.bindings, details.viewer_is_agent)
        await self.s.answer(body, answers.details(details, urls))

    async def _thread_urls(self, bindings: tuple[Binding, ...], agent: bool) -> dict[str, str]:
        urls: dict[str, str] = {}
        for b in bindings:
            if b.platform != "slack" or not b.thread or b.in_requester_dm:
                continue
            internal = b.audience.value == "internal"
            if internal and not agent:
                continue
            try:
                answer = await self.s.client.chat_getPermalink(channel=b.channel,
                                                               message_ts=b.thread)
            except SlackApiError as err:  # app removed from the channel: no link, still an answer
                log.warning("no permalink for %s: %s", b.channel, err.response.get("error"))
                continue
            urls["Team thread" if internal else "Ticket thread"] = str(answer["permalink"])
        return urls

    async def _transcript(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, _ = _number(rest)
        details = await self.s.desk.show(actor, number)
        opened = await self.s.client.conversations_open(users=actor.ref.user_id)
        channel = opened["channel"]["id"]
        await self.s.client.files_upload_v2(
            channel=channel, content=answers.transcript(details),
            filename=f"ticket-{number}-transcript.txt", title=f"Transcript of #{number}",
            initial_comment=f"Transcript of #{number}, as of now.")
        await self.s.tell(body, f"The transcript of #{number} is in your DMs with me.")

    async def _stats(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        self.s.desk.require(actor, Action.STATS)
        await self.s.tell(body, "`/ticket stats` is not built yet. `/ticket queue` shows "
                                "what is unassigned or overdue.")

    # ---- changes -------------------------------------------------------------------

    async def _reply(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, text = _number(rest)
        await self.s.desk.reply(actor, number, from_slack(text))
        await self.s.tell(body, f"Reply posted to #{number}.")

    async def _note(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, text = _number(rest)
        await self.s.desk.note(actor, number, from_slack(text))
        await self.s.tell(body, f"Internal note added to #{number}.")

    def _simple(self, method: str) -> Handler:
        async def run(actor: Actor, rest: str, body: dict[str, Any]) -> None:
            number, _ = _number(rest)
            ticket = await getattr(self.s.desk, method)(actor, number)
            await self.s.tell(body, f"Done: #{number} is {ticket.status.value.replace('_', ' ')}.")
        return run

    def _with_text(self, method: str) -> Handler:
        async def run(actor: Actor, rest: str, body: dict[str, Any]) -> None:
            number, text = _number(rest)
            ticket = await getattr(self.s.desk, method)(actor, number, from_slack(text))
            await self.s.tell(body, f"Done: #{number} is {ticket.status.value.replace('_', ' ')}.")
        return run

    async def _close(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, reason = _number(rest)
        await self.s.desk.close(actor, number, from_slack(reason) or None)
        await self.s.tell(body, f"Done: #{number} is closed.")

    async def _priority(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, priority = _number(rest)
        await self.s.desk.set_priority(actor, number, priority)
        await self.s.tell(body, f"Done: #{number} is now {priority.strip().lower()} priority.")

    async def _assign(self, actor: Actor, rest: str, body: dict[str, Any]) -> None:
        number, who = _number(rest)
        mention = MENTION.search(who)
        if not mention:
            raise Invalid("assignee", "name the agent with a mention: /ticket assign 42 @agent")
        agent = await self.s.people.actor(actor.ref.workspace, mention.group(1))
        await self.s.desk.assign(actor, number, agent)
        await self.s.tell(body, f"Done: #{number} is assigned to {agent.name}.")


def _first_word(text: str) -> tuple[str, str]:
    """``(first word, the rest)``; any whitespace separates them, a tab too."""
    parts = text.split(None, 1)
    return (parts[0], parts[1].strip() if len(parts) > 1 else "") if parts else ("", "")


def _number(args: str) -> tuple[int, str]:
    """``(ticket number, the rest)`` of ``42 text`` / ``#42 text``."""
    first, rest = _first_word(args)
    number = ids.ticket_number(first)
    if number is None:
        raise Invalid("number", "say which ticket, like 42 or #42")
    return number, rest
