"""Discord components: card buttons and selects (persistent ``DynamicItem``s), the panel,
and the modals (ticket form, reply, resolution, escalation, close request). The
requester's answers and ratings are in ``closing``; which controls a card shows, in
``cards``.

Card controls carry their ticket in the ``custom_id`` (``ticket:claim:1042``), so they
work after a restart; every press is authorised again in core from the presser's
identity, with the interaction's id as request key (a redelivered interaction acts
once). A card shows the controls for exactly the actions core allows its audience
(``cards.card_view``). Limits (Discord docs, "Component Reference"): ``custom_id`` ≤ 100
characters, a modal ≤ 5 inputs and a 45-character title, a text input ≤ 4000
characters and a 45-character label, a select ≤ 25 options, 5 buttons per row.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import discord

from adapters.discord import render
from adapters.discord.acting import (
    Deferral,
    act,
    answer,
    bot_of,
    on_error,
    request_key,
)
from adapters.discord.watchers import form_watchers
from core.config import Category
from core.desk import NewTicket
from core.errors import DeskError
from core.identity import Actor, Person
from core.policy import Action
from core.tickets import PRIORITIES
from core.validation import COMMENT_MAX, DESCRIPTION_MAX, SUBJECT_MAX
from core.views import TicketView

MODAL_MAX_COMPONENTS = 5
MODAL_TITLE_MAX = 45
SELECT_MAX_OPTIONS = 25
CC = "cc"  # the ticket form's watchers field (core's field name too)
CC_MAX = 1000
FORM_TIMEOUT = 1800.0  # seconds a shown form stays answerable (then Discord says it failed)

Button = discord.ui.Button[discord.ui.View]
Select = discord.ui.Select[discord.ui.View]


Self = TypeVar("Self")
Callback = Callable[[Self, discord.Interaction[Any]], Coroutine[Any, Any, None]]


def answered(callback: Callback[Self]) -> Callback[Self]:
    """The card controls' error hook: discord.py only logs what a ``DynamicItem``'s
    callback raises, so the person would be left with "This interaction failed";
    this hands it to ``on_error`` like every other error."""
    @functools.wraps(callback)
    async def hooked(self: Self, interaction: discord.Interaction[Any]) -> None:
        try:
            await callback(self, interaction)
        except Exception as err:
            await on_error(interaction, err)
    return hooked


class AnsweredView(discord.ui.View):
    """A view whose items' errors are answered by ``on_error``."""

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception,
                       item: discord.ui.Item[Any], /) -> None:
        await on_error(interaction, error)


def _title(text: str) -> str:
    return text if len(text) <= MODAL_TITLE_MAX else text[: MODAL_TITLE_MAX - 1] + "…"


# ---- the ticket form ------------------------------------------------------------


class TicketForm(discord.ui.Modal):
    """``/ticket new`` and the panel: subject, description and the category's own fields
    (at most 5 inputs; ``platform.config_problems`` refuses bigger categories). The
    options chosen before the form (priority, account, visibility, on whose behalf) are
    kept here until it is submitted."""

    def __init__(self, category: Category, *, priority: str | None = None,
                 account: str | None = None, shared: bool = False,
                 requester: Actor | None = None,
                 values: Mapping[str, str] | None = None,
                 watcher: Person | None = None) -> None:
        super().__init__(title=_title(f"New ticket: {category.name}"), timeout=FORM_TIMEOUT)
        self.category = category
        self.options: dict[str, Any] = {"priority": priority, "account": account,
                                        "shared": shared, "requester": requester,
                                        "watcher": watcher}
        values = values or {}
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {
            "subject": discord.ui.TextInput(
                label="Subject", custom_id="subject", max_length=SUBJECT_MAX,
                default=values.get("subject"), placeholder="One line: what is it about?"),
            "description": discord.ui.TextInput(
                label="Description", custom_id="description", max_length=DESCRIPTION_MAX,
                style=discord.TextStyle.paragraph, default=values.get("description")),
        }
        for spec in category.fields:
            self.inputs[spec.key] = discord.ui.TextInput(
                label=spec.label, custom_id=spec.key, required=spec.required,
                max_length=spec.max_length, default=values.get(spec.key))
        if len(self.inputs) < MODAL_MAX_COMPONENTS:  # room left: the watchers field
            self.inputs[CC] = discord.ui.TextInput(
                label="Watchers (optional)", custom_id=CC, required=False,
                max_length=CC_MAX, default=values.get(CC),
                placeholder="Members or e-mail addresses, separated by commas")
        for item in self.inputs.values():
            self.add_item(item)

    def values(self) -> dict[str, str]:
        return {key: item.value for key, item in self.inputs.items()}

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        values = self.values()
        opts = self.options
        cc = values.get(CC) or ""
        form = NewTicket(
            category=self.category.key, subject=values["subject"],
            description=values["description"], priority=opts["priority"],
            account=opts["account"], visibility="shared" if opts["shared"] else "private",
            fields={f.key: values[f.key] for f in self.category.fields},
            requester=opts["requester"])
        bot = bot_of(interaction)

        async def work(actor: Actor) -> str:
            watchers = await form_watchers(interaction, cc) if cc.strip() else ()
            if opts["watcher"] is not None:  # /ticket new's watcher option
                watchers = (opts["watcher"], *watchers)
            opened = await bot.desk.open_ticket(actor, replace(form, watchers=watchers),
                                                request_key=request_key(interaction))
            if not opened.duplicate:
                bot.remember_receipt(opened.ticket.number, interaction)
            return render.opened_text(opened.ticket.number, opened.ticket.subject,
                                      opened.duplicate)

        async def refused(err: DeskError) -> None:
            # the field named by the label it had, and the form again, filled in
            labels = {"subject": "Subject", "description": "Description", CC: "Watchers",
                      **{f.key: f.label for f in self.category.fields}}
            await answer(interaction, render.refusal(err, labels) + "\nNothing was opened.",
                         view=RetryForm(self.category, opts, values))
        await act(interaction, None, work, refused=refused)


    # discord.py's Modal calls on_error(interaction, error); its own override is
    # marked the same way against BaseView's three-argument signature.
    async def on_error(  # type: ignore[override]
            self, interaction: discord.Interaction[Any], error: Exception, /) -> None:
        await on_error(interaction, error)


class RetryForm(AnsweredView):
    """Under a refused form: reopen it with what was typed, to fix the named field."""

    def __init__(self, category: Category, options: dict[str, Any],
                 values: dict[str, str]) -> None:
        super().__init__(timeout=FORM_TIMEOUT)
        self.category, self.options, self.values = category, options, values

    @discord.ui.button(label="Edit and submit again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction[Any], _: Button) -> None:
        await interaction.response.send_modal(
            TicketForm(self.category, values=self.values, **self.options))
        bot_of(interaction).answers.answered()


# ---- one-text forms: reply, resolution, escalation --------------------------------


TextAction = Callable[[discord.Interaction[Any], Actor, int, str], Awaitable[str]]


class TextForm(discord.ui.Modal):
    """A modal with one paragraph input for ticket ``number``, handed to ``action``;
    shown to ``user_id``. discord.py keeps a shown form by its ``custom_id`` alone, so the
    id names the person too: two agents replying to one ticket at once each get their
    own form back (with the ticket's alone, the second form shown replaced the first —
    one reply was lost, or posted with the other's text)."""

    def __init__(self, kind: str, title: str, label: str, number: int,
                 action: TextAction, *, user_id: int, required: bool = True) -> None:
        super().__init__(title=_title(title), timeout=FORM_TIMEOUT,
                         custom_id=f"ticket:form:{kind}:{number}:{user_id}")
        self.number = number
        self.action = action
        self.text: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=label, custom_id="text", style=discord.TextStyle.paragraph,
            max_length=COMMENT_MAX, required=required)
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        async def work(actor: Actor) -> str:
            return await self.action(interaction, actor, self.number, self.text.value)
        await act(interaction, self.number, work)

    async def on_error(  # type: ignore[override]  # as TicketForm.on_error
            self, interaction: discord.Interaction[Any], error: Exception, /) -> None:
        await on_error(interaction, error)


async def _reply(interaction: discord.Interaction[Any], actor: Actor, number: int,
                 text: str) -> str:
    await bot_of(interaction).desk.reply(actor, number, text, request_key=request_key(interaction))
    return f"Reply posted to #{number}."


async def _resolve(interaction: discord.Interaction[Any], actor: Actor, number: int,
                   text: str) -> str:
    ticket = await bot_of(interaction).desk.resolve(actor, number, text,
                                                    request_key=request_key(interaction))
    return f"Done: #{ticket.number} is {render.status(ticket.status).lower()}."


async def _escalate(interaction: discord.Interaction[Any], actor: Actor, number: int,
                    text: str) -> str:
    ticket = await bot_of(interaction).desk.escalate(actor, number, text,
                                                     request_key=request_key(interaction))
    return f"Done: #{ticket.number} is escalated (level {ticket.escalation_level})."


# ---- persistent card controls -----------------------------------------------------


ANY_VERB = r"ticket:(?P<verb>[a-z]+):(?P<n>\d{1,9})"
FORM_VERBS = r"ticket:(?P<verb>reply|resolve|escalate):(?P<n>\d{1,9})"
Work = Callable[[Actor], Awaitable[str | None]]


class _TicketButton(discord.ui.DynamicItem[Button], template=ANY_VERB):
    """Base of the card buttons; subclasses set ``verb``, ``label`` and ``style``."""

    verb = ""
    label = ""
    style = discord.ButtonStyle.secondary
    in_dm = False  # pressed in a DM too (the requester's buttons on a notice by DM)
    deferral: Deferral = "update"  # its first answer (also sent early: ``early``)

    def __init__(self, number: int) -> None:
        super().__init__(discord.ui.Button(label=self.label, style=self.style,
                                           custom_id=f"ticket:{self.verb}:{number}"))
        self.number = number

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> _TicketButton:
        return cls(int(match["n"]))

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await act(interaction, self.number, self.run(interaction), deferral=self.deferral,
                  in_dm=self.in_dm)

    def run(self, interaction: discord.Interaction[Any]) -> Work:
        raise NotImplementedError


class ClaimButton(_TicketButton, template=r"ticket:claim:(?P<n>\d{1,9})"):
    verb, label, style = "claim", "Claim", discord.ButtonStyle.primary

    def run(self, interaction: discord.Interaction[Any]) -> Callable[[Actor], Awaitable[str]]:
        async def work(actor: Actor) -> str:
            ticket = await bot_of(interaction).desk.claim(actor, self.number,
                                                         request_key=request_key(interaction))
            return f"You have #{ticket.number}; it is {render.status(ticket.status).lower()}."
        return work


class CloseButton(_TicketButton, template=r"ticket:close:(?P<n>\d{1,9})"):
    verb, label, style = "close", "Close", discord.ButtonStyle.danger

    def run(self, interaction: discord.Interaction[Any]) -> Callable[[Actor], Awaitable[str]]:
        async def work(actor: Actor) -> str:
            ticket = await bot_of(interaction).desk.close(actor, self.number,
                                                         request_key=request_key(interaction))
            return f"Done: #{ticket.number} is closed."
        return work


class ReopenButton(_TicketButton, template=r"ticket:reopen:(?P<n>\d{1,9})"):
    verb, label, style = "reopen", "Reopen", discord.ButtonStyle.secondary

    def run(self, interaction: discord.Interaction[Any]) -> Callable[[Actor], Awaitable[str]]:
        async def work(actor: Actor) -> str:
            ticket = await bot_of(interaction).desk.reopen(actor, self.number,
                                                          request_key=request_key(interaction))
            return f"Done: #{ticket.number} is {render.status(ticket.status).lower()}."
        return work


class _FormButton(_TicketButton, template=FORM_VERBS):
    """Opens a one-text form after core's pre-check of ``action`` for the presser (who
    may, on this ticket, now); submitting runs the command, which checks again."""

    action = Action.REPLY
    form: tuple[str, str, TextAction] = ("", "", _reply)
    required = True  # the form's text (False: it may be left empty)
    deferral: Deferral = None  # a modal must be the first answer

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # A modal must be the first answer, so no deferral: one read, then the form.
        async def work(actor: Actor) -> None:
            await bot_of(interaction).desk.check(actor, self.number, self.action)
            title, label, action = self.form
            await interaction.response.send_modal(
                TextForm(self.verb, title.format(n=self.number), label, self.number, action,
                         user_id=interaction.user.id, required=self.required))
        await act(interaction, self.number, work, deferral=self.deferral)


class ReplyButton(_FormButton, template=r"ticket:reply:(?P<n>\d{1,9})"):
    verb, label, style = "reply", "Reply", discord.ButtonStyle.primary
    action = Action.REPLY
    form = ("Reply to #{n}", "Your reply (the requester sees it)", _reply)


class ResolveButton(_FormButton, template=r"ticket:resolve:(?P<n>\d{1,9})"):
    verb, label, style = "resolve", "Resolve", discord.ButtonStyle.success
    action = Action.RESOLVE
    form = ("Resolve #{n}", "Resolution note (at least 6 characters)", _resolve)


class EscalateButton(_FormButton, template=r"ticket:escalate:(?P<n>\d{1,9})"):
    verb, label, style = "escalate", "Escalate", discord.ButtonStyle.secondary
    action = Action.ESCALATE
    form = ("Escalate #{n}", "Why does it need escalating?", _escalate)


async def _ask_close(interaction: discord.Interaction[Any], actor: Actor, number: int,
                     text: str) -> str:
    await bot_of(interaction).desk.ask_close(actor, number, text.strip() or None,
                                             request_key=request_key(interaction))
    return f"Done: the requester of #{number} is asked to confirm closing it."


class AskCloseButton(_FormButton, template=r"ticket:ask-close:(?P<n>\d{1,9})"):
    """A form with an optional word to the requester, then ``AskClose`` (PRODUCT.md §7)."""

    verb, label, style = "ask-close", "Ask to close", discord.ButtonStyle.secondary
    action = Action.ASK_CLOSE
    form = ("Ask to close #{n}", "A word to the requester (optional)", _ask_close)
    required = False


class PrioritySelect(discord.ui.DynamicItem[Select], template=r"ticket:priority:(?P<n>\d{1,9})"):
    deferral: Deferral = "update"

    def __init__(self, number: int, current: str | None = None) -> None:
        options = [discord.SelectOption(label=f"Priority: {p}", value=p, default=p == current)
                   for p in PRIORITIES]
        super().__init__(discord.ui.Select(custom_id=f"ticket:priority:{number}",
                                           options=options, placeholder="Priority"))
        self.number = number

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PrioritySelect:
        return cls(int(match["n"]))

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work(actor: Actor) -> str:
            value = self.item.values[0] if self.item.values else ""
            ticket = await bot_of(interaction).desk.set_priority(
                actor, self.number, value, request_key=request_key(interaction))
            return f"Done: #{ticket.number} is now {ticket.priority} priority."
        await act(interaction, self.number, work, deferral=self.deferral)


# ---- the card table ------------------------------------------------------------------


# The one map from core's actions to card controls, the same actions as Slack's (checked
# by tests/platform/test_card_controls.py), shown in core's order
# (``core.capabilities.TICKET_ACTIONS``) by ``cards.card_view``. Actions without a
# control (assign, unassign, wait, hold, resume, note, link, watchers, comments) are
# taken with ``/ticket`` commands and thread messages; the requester's answers to a close
# request and their rating are buttons under the messages that ask (``closing``).
CONTROLS: dict[Action, Callable[[TicketView], discord.ui.DynamicItem[Any]]] = {
    Action.CLAIM: lambda t: ClaimButton(t.number),
    Action.REPLY: lambda t: ReplyButton(t.number),
    Action.RESOLVE: lambda t: ResolveButton(t.number),
    Action.CLOSE: lambda t: CloseButton(t.number),
    Action.REOPEN: lambda t: ReopenButton(t.number),
    Action.SET_PRIORITY: lambda t: PrioritySelect(t.number, t.priority),
    Action.ESCALATE: lambda t: EscalateButton(t.number),
    Action.ASK_CLOSE: lambda t: AskCloseButton(t.number),
}
