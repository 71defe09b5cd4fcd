"""``/ticket …`` (PRODUCT.md §4), answered ephemerally. A command that changes a ticket
is committed before Slack is acknowledged (issue 10, point 1: acknowledged means
stored); one that reads or opens a form is acknowledged at once.

Slack sends the command's text with ``&``, ``<``, ``>`` escaped and, with
``should_escape`` on in the manifest, user mentions as ``<@U123|name>``. The text
is read by the one grammar (``core.grammar``); texts are then decoded to plain
text. A slash command cannot be typed inside a thread (Slack does not send the
thread), so the ticket number is always needed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import fields, replace
from typing import Any, TypeVar, cast

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.slack import answers, forms, ids, stats
from adapters.slack.context import Shared
from adapters.slack.paging import Paging
from adapters.slack.text import escape, from_slack
from core import commands as cmd
from core import grammar
from core.characters import trim
from core.errors import DeskError, Invalid
from core.identity import Actor, Person
from core.policy import Action
from core.routing import Binding
from core.tickets import Ticket, Visibility
from core.validation import SUBJECT_MAX, clean_category
from core.watching import email_watcher, looks_like_email

log = logging.getLogger("helpthread.slack")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
M = TypeVar("M", bound=grammar.Mutation)


class Commands:
    def __init__(self, shared: Shared) -> None:
        self.s = shared
        self.paging = Paging(shared)

    def register(self, app: AsyncApp) -> None:
        app.command(ids.COMMAND)(self.s.inflight.track(self.on_ticket))
        self.paging.register(app)

    async def on_ticket(self, ack: Any, body: dict[str, Any]) -> None:
        text = trim(str(body.get("text") or ""))
        parsed: grammar.Parsed | None = None
        try:
            keys = {f.key for c in self.s.config.categories for f in c.fields}
            parsed = grammar.parse(text, field_keys=keys)  # a slash command has no thread
        except DeskError as err:
            await ack()
            await self.s.tell(body, answers.refusal(err))
            return
        if _changes(parsed):
            actor = await self.s.actor(body)
            try:
                said = await self.change(actor, parsed)
            except DeskError as err:
                said = answers.refusal(err)
            await ack()  # what it asked is stored (or refused) by now
            self.s.name_later(actor)
            await self.s.tell(body, said)
            return
        await ack()
        try:
            if isinstance(parsed, grammar.NewForm):
                await self.open_form(body, parsed)
            else:
                await self.dispatch(await self.s.actor(body), parsed, body)
        except DeskError as err:
            await self.s.tell(body, answers.refusal(err))
        except SlackClientError as err:  # e.g. the transcript's upload: say so, never silence
            response = getattr(err, "response", None)
            error = response.get("error") if response is not None else None
            log.warning("/ticket %s: Slack failed: %s", type(parsed).__name__, error or err)
            what = f"Slack refused part of that ({error})" if error else \
                "Part of that did not get through to Slack"
            await self.s.tell(body, f"{what}; please try again.")

    async def change(self, actor: Actor, parsed: grammar.Parsed) -> str:
        """Run a command that changes a ticket; returns what the person is told. Raises
        the desk's errors."""
        desk = self.s.desk
        if isinstance(parsed, grammar.AssignTo):
            number, who = parsed.number, parsed.assignee
            mention = MENTION.fullmatch(who)
            if not mention:
                raise Invalid("assignee",
                              "name the agent with a mention: /ticket assign 42 @agent")
            agent = await self.s.people.actor(actor.ref.workspace, mention.group(1))
            await desk.run(actor, cmd.Assign(number, agent))
            return f"Done: #{number} is assigned to {agent.name}."
        if isinstance(parsed, grammar.CcTo):
            watcher = await self.watcher(actor, parsed.who)
            number = parsed.number
            if parsed.remove:
                await desk.run(actor, cmd.RemoveWatcher(number, watcher))
                return f"Done: {escape(watcher.name)} no longer watches #{number}."
            await desk.run(actor, cmd.AddWatcher(number, watcher))
            return f"Done: {escape(watcher.name)} watches #{number} and will hear of " \
                   "every public update."
        command = cast(grammar.Mutation, parsed)
        outcome = await desk.run(actor, _plain(command))
        return _done(command, outcome.ticket)

    async def watcher(self, actor: Actor, who: str, field: str = "cc") -> Person:
        """A watcher as typed after ``cc``: a user mention (someone of the actor's
        workspace) or an e-mail address (Slack sends it as a ``mailto:`` link). Raises
        ``Invalid(field, …)``."""
        mention = MENTION.fullmatch(who)
        if mention:
            found = await self.s.people.actor(actor.ref.workspace, mention.group(1))
            return found.person
        typed = from_slack(who)
        if looks_like_email(typed):
            return email_watcher(typed, field)
        raise Invalid(field, "name a watcher with a mention or an e-mail address: "
                      "/ticket cc 42 @someone or name@example.com")

    async def dispatch(self, actor: Actor, parsed: grammar.Parsed, body: dict[str, Any]) -> None:
        """Run what ``core.grammar`` read: a read answered here, a change via ``Desk.run``."""
        desk = self.s.desk
        match parsed:
            case grammar.NewForm():
                await self.open_form(body, parsed)
            case grammar.Help():
                await self.s.answer(body, [answers.help_text(self.s.config.desk.name)])
            case grammar.ListTickets() | grammar.Queue():
                await self.paging.show(actor, parsed, body)
            case grammar.Search():
                await self.paging.show(actor, parsed, body)
            case grammar.Show(number):
                details = await desk.show(actor, number)
                urls = await self._thread_urls(details.bindings, details.sees_internal)
                await self.s.answer(body, answers.details(details, urls,
                                                          now=desk.clock.now()))
            case grammar.Transcript(number):
                await self._transcript(actor, number, body)
            case grammar.Stats(period):
                await stats.send_stats(self.s, actor, period, body)
            case _:
                await self.s.tell(body, await self.change(actor, parsed))

    # ---- the form ------------------------------------------------------------------

    async def open_form(self, body: dict[str, Any], request: grammar.NewForm) -> None:
        """``/ticket``, ``/ticket new [subject]``, ``/ticket new for:@user [subject]``;
        inline ``category=``, ``subject=``, ``description=`` fill the form in."""
        meta = forms.FormMeta()
        on_behalf_name = None
        unsupported = sorted(set(request.fields) - {"category", "description"})
        if unsupported:
            raise Invalid(request.named(unsupported[0]), "cannot be given on the /ticket "
                          "line in Slack; fill it in the form")
        if request.for_ is not None:
            mention = MENTION.fullmatch(request.for_)
            if not mention:
                raise Invalid("for", "name the requester with a mention, like for:@someone")
            actor = await self.s.actor(body)
            self.s.desk.require(actor, Action.OPEN_FOR_OTHERS)
            meta.on_behalf = mention.group(1)
            on_behalf_name = await self.s.people.name(meta.on_behalf)
        else:
            await self.s.desk.check_may_open(await self.s.actor(body))
        category = None
        if "category" in request.fields:
            category = clean_category(self.s.config, from_slack(request.fields["category"]))
        subject = trim(from_slack(request.subject or ""))
        description = trim(from_slack(request.fields.get("description", "")))
        if len(subject) > SUBJECT_MAX and not description:  # it starts the description
            subject, description = "", subject
        view = forms.ticket_form(self.s.config, meta, category=category, subject=subject,
                                 description=description, on_behalf_name=on_behalf_name)
        await self.s.open_view(body, view)

    # ---- answers -------------------------------------------------------------------

    async def _thread_urls(self, bindings: tuple[Binding, ...], agent: bool) -> dict[str, str]:
        urls: dict[str, str] = {}
        for b in bindings:
            if b.platform != "slack" or not b.thread or b.in_dm:
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

    async def _transcript(self, actor: Actor, number: int, body: dict[str, Any]) -> None:
        """The HTML page and the Markdown, uploaded to the asker's DM with the app (files
        upload v2: getUploadURLExternal, the transfer, completeUploadExternal)."""
        t = await self.s.desk.transcript(actor, number)
        opened = await self.s.client.conversations_open(users=actor.ref.user_id)
        channel = opened["channel"]["id"]
        await self.s.client.files_upload_v2(
            channel=channel, initial_comment=f"Transcript of #{number}, as of now.",
            file_uploads=[
                {"content": t.html, "filename": t.filename,
                 "title": f"Transcript of #{number} (HTML)"},
                {"content": t.markdown, "filename": t.markdown_filename,
                 "title": f"Transcript of #{number} (Markdown)"}])
        await self.s.tell(body, f"The transcript of #{number} is in your DMs with me.")


READS = (grammar.NewForm, grammar.Help, grammar.ListTickets, grammar.Search, grammar.Queue,
         grammar.Show, grammar.Transcript, grammar.Stats)


def _changes(parsed: grammar.Parsed) -> bool:
    """Whether ``parsed`` changes a ticket (it is committed before the acknowledgement)."""
    return not isinstance(parsed, READS)


def _plain(command: M) -> M:
    """``command`` with its texts as plain text (Slack's markup and entities decoded)."""
    texts: dict[str, Any] = {f.name: from_slack(value) for f in fields(command)
                             if type(value := getattr(command, f.name)) is str}
    return replace(command, **texts)


def _done(command: grammar.Mutation, ticket: Ticket) -> str:
    """What the person is told after a change made by ``/ticket``."""
    number = ticket.number
    match command:
        case cmd.Reply():
            return f"Reply posted to #{number}."
        case cmd.Note():
            return f"Internal note added to #{number}."
        case cmd.SetPriority():
            return f"Done: #{number} is now {ticket.priority} priority."
        case cmd.Link(_, _, other):
            return f"Done: #{number} is linked to #{other}."
        case cmd.AskClose():
            return f"Done: the requester of #{number} is asked to confirm closing it."
        case cmd.KeepOpen():
            return f"Done: #{number} stays open; the team will follow up."
        case cmd.Rate():
            return f"Thank you: you rated #{number} {ticket.rating.value if ticket.rating else ''}."
        case cmd.Watch():
            return f"Done: you are watching #{number}; every public update comes to your DMs."
        case cmd.Unwatch():
            return f"Done: you no longer watch #{number}."
        case cmd.SetVisibility():
            return (f"Done: #{number} is shared with {escape(ticket.requester.name)}'s "
                    "workspace." if ticket.visibility is Visibility.SHARED
                    else f"Done: #{number} is private.")
    return f"Done: #{number} is {ticket.status.value.replace('_', ' ')}."
