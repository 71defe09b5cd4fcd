"""Shortcuts, the ticket form, card buttons and the one-field forms (PRODUCT.md §4–5).

- ``views.open`` is called right after ``ack()``: a ``trigger_id`` lives 3 seconds.
- The ticket form is checked with the desk's own validation and the ticket opened
  before ``ack`` (acknowledged means stored, issue 10 point 1): a bad field comes back
  as ``response_action: errors``, the desk's database unreachable too (the form stays
  open to send again); keyed by the view id, so a double submission opens one ticket.
  A refusal (limits) closes the form and reaches the user by DM. The shortcut's
  message link is built from the workspace URL (``auth.test``), not asked of Slack.
- Buttons carry only the ticket number: the desk authorises every press again, and
  a refusal goes to the presser alone (``response_url``, else a DM). A press that
  changes the ticket (claim, close, reopen, priority) is acknowledged once stored. A card shows the
  controls core allows (``views.card_actions``); a press acts with the request key of
  its ``trigger_id`` (``press_key``), so a payload delivered twice acts once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack import answers, forms, ids, views
from adapters.slack.context import Shared
from adapters.slack.text import shorten
from core import commands as cmd
from core.characters import trim
from core.errors import DeskError, Invalid, Unavailable
from core.policy import Action
from core.tickets import RESOLUTION_NOTE_MIN

log = logging.getLogger("helpthread.slack")

DESCRIPTION_PREFILL_MAX = forms.INPUT_MAX
# Card controls that change the ticket themselves (the others open a form).
ACTING_AT_ONCE = frozenset({Action.CLAIM, Action.CLOSE, Action.REOPEN, Action.SET_PRIORITY})


class Interactions:
    def __init__(self, shared: Shared) -> None:
        self.s = shared

    def register(self, app: AsyncApp) -> None:
        track = self.s.inflight.track
        app.shortcut(ids.SHORTCUT_OPEN)(track(self.on_open))
        app.action(ids.HOME_NEW)(track(self.on_open))
        app.shortcut(ids.SHORTCUT_FROM_MESSAGE)(track(self.on_from_message))
        app.action(ids.ACTION_CATEGORY)(track(self.on_category))
        app.view(ids.FORM_NEW)(track(self.on_new_ticket))
        app.action(ids.ACTIONS)(track(self.on_card_action))
        for callback in (ids.FORM_REPLY, ids.FORM_RESOLVE, ids.FORM_ESCALATE,
                         ids.FORM_ASK_CLOSE):
            app.view(callback)(track(self.on_text_form))

    # ---- opening the form ----------------------------------------------------------

    async def on_open(self, ack: Any, body: dict[str, Any]) -> None:
        """Global shortcut "Open a ticket" and the App Home button."""
        await ack()
        view = forms.ticket_form(self.s.config, forms.FormMeta())
        await self.s.open_view(body, view)

    async def on_from_message(self, ack: Any, body: dict[str, Any]) -> None:
        """Message shortcut "Create ticket from message": the message prefills the
        description; its link is added when the form is submitted."""
        await ack()
        message = body.get("message") or {}
        text = trim(await self.s.people.readable(str(message.get("text") or "")))
        subject = shorten(text.split("\n", 1)[0], 80) if text else ""
        meta = forms.FormMeta(source={"c": str((body.get("channel") or {}).get("id", "")),
                                      "ts": str(message.get("ts", ""))})
        view = forms.ticket_form(self.s.config, meta, subject=subject,
                                 description=shorten(text, DESCRIPTION_PREFILL_MAX))
        await self.s.open_view(body, view)

    async def on_category(self, ack: Any, body: dict[str, Any]) -> None:
        """A category was chosen: the form grows that category's own fields."""
        await ack()
        view = body.get("view") or {}
        chosen = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
        category = self.s.config.category(chosen or "")
        meta = forms.FormMeta.load(view.get("private_metadata"))
        name = await self.s.people.name(meta.on_behalf) if meta.on_behalf else None
        updated = forms.ticket_form(
            self.s.config, meta, category=category,
            subject=forms.value_of(view, ids.BLOCK_SUBJECT) or "",
            description=forms.value_of(view, ids.BLOCK_DESCRIPTION) or "",
            on_behalf_name=name)
        try:
            await self.s.client.views_update(view_id=view["id"], hash=view.get("hash"),
                                             view=updated)
        except SlackApiError as err:  # hash_conflict: a newer choice is on its way
            log.info("views.update skipped: %s", err.response.get("error"))

    # ---- submitting it -------------------------------------------------------------

    async def on_new_ticket(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            form = forms.new_ticket(view, None)
            self.s.desk.validate(form)
            _requester_not_watcher(view, body)
        except Invalid as err:
            await ack(response_action="errors",
                      errors=forms.field_errors(view, self.s.config, err))
            return
        try:
            actor = await self.s.actor(body)
            meta = forms.FormMeta.load(view.get("private_metadata"))
            requester = None
            if meta.on_behalf:
                requester = await self.s.people.actor(actor.ref.workspace, meta.on_behalf)
            watchers = tuple([(await self.s.people.actor(actor.ref.workspace, uid)).person
                              for uid in forms.cc_users(view)])
            form = forms.new_ticket(view, requester, watchers)
            if meta.source.get("c") and meta.source.get("ts"):
                form = self._with_source_link(form, meta.source)
            opened = await self.s.desk.open_ticket(
                actor, form, request_key=f"slack:view:{view['id']}")
        except Unavailable as err:  # not stored: the form stays open to be sent again
            await ack(response_action="errors", errors=forms.field_error(
                view, self.s.config, "description", "was not sent: " + err.message))
            return
        except DeskError as err:
            await ack()
            await self.s.tell(body, "Your ticket was not opened. " + answers.refusal(err))
            return
        await ack()  # the ticket is stored: the form may close
        self.s.name_later(actor, requester)
        if opened.duplicate and not opened.retried:  # PRODUCT.md §8
            await self.s.tell(body, answers.already_opened(opened.ticket))

    def _with_source_link(self, form: Any, source: dict[str, str]) -> Any:
        """The description with a link to the shortcut's message: Slack's permalink form
        (``<workspace URL>archives/<channel>/p<ts without the dot>``), built here so no
        Web API call stands between the form and the stored ticket."""
        if not self.s.workspace_url:
            return form
        ts = source["ts"].replace(".", "")
        link = f"\n\nFrom a Slack message: {self.s.workspace_url}archives/{source['c']}/p{ts}"
        return replace(form, description=form.description.rstrip() + link)

    # ---- card buttons --------------------------------------------------------------

    async def on_card_action(self, ack: Any, body: dict[str, Any]) -> None:
        """A card control: claim, close, reopen and priority act at once, keyed by the
        press (a redelivered payload acts once) and acknowledged once stored; reply,
        resolve, escalate and ask-to-close open their form after core's pre-check of the
        same action."""
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id"))
        raw = str(action.get("value") or (action.get("selected_option") or {}).get("value", ""))
        number_text, _, choice = raw.partition(":")
        kind = views.ACTION_OF.get(action_id)
        if kind not in ACTING_AT_ONCE:
            await ack()
        try:
            number = ids.ticket_number(number_text)
            if number is None:
                raise Invalid("ticket", "this control does not name a ticket")
            if kind is None:
                raise Invalid("action", f"{action_id} is not something a card can do")
            actor = await self.s.actor(body)
            desk, key = self.s.desk, press_key(body)
            if kind is Action.CLAIM:
                await desk.claim(actor, number, request_key=key)
            elif kind is Action.CLOSE:
                await desk.close(actor, number, request_key=key)
            elif kind is Action.REOPEN:
                await desk.reopen(actor, number, request_key=key)
            elif kind is Action.SET_PRIORITY:
                await desk.set_priority(actor, number, choice, request_key=key)
            else:
                await desk.check(actor, number, kind)  # before any form opens
                await self.s.open_view(body, _text_form(kind, number))
        except DeskError as err:
            if kind in ACTING_AT_ONCE:
                await ack()
            await self.s.tell(body, answers.refusal(err))
            return
        if kind in ACTING_AT_ONCE:
            await ack()  # the change is stored

    async def on_text_form(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Reply, Resolve, Escalate and Ask-to-close forms: the desk acts before ``ack``
        so that a refusal (too short a note, not an agent) shows in the form itself."""
        number = forms.form_number(view)
        text = forms.value_of(view, ids.BLOCK_TEXT) or ""
        callback = view.get("callback_id")
        try:
            if number is None:
                raise Invalid("ticket", "this form does not name a ticket")
            actor = await self.s.actor(body)
            key = f"slack:view:{view['id']}"  # a form sent twice acts once
            if callback == ids.FORM_REPLY:
                await self.s.desk.reply(actor, number, text, request_key=key)
            elif callback == ids.FORM_RESOLVE:
                await self.s.desk.resolve(actor, number, text, request_key=key)
            elif callback == ids.FORM_ASK_CLOSE:  # as /ticket ask-close N [message]
                await self.s.desk.run(actor, cmd.AskClose(number, trim(text) or None),
                                      request_key=key)
            else:
                await self.s.desk.escalate(actor, number, text, request_key=key)
        except DeskError as err:
            if isinstance(err, Invalid):  # name the field, as its label says
                reason = f"{forms.label_of(view, ids.BLOCK_TEXT) or err.field} {err.reason}"
            else:
                reason = err.message[:1].upper() + err.message[1:]
            await ack(response_action="errors", errors={ids.BLOCK_TEXT: reason})
            return
        await ack()


def press_key(body: dict[str, Any]) -> str:
    """The request key of one press of a control: its ``trigger_id`` (Slack makes one per
    interaction and resends it with the same payload), else the presser and the
    action's ``action_ts``."""
    trigger = body.get("trigger_id")
    if trigger:
        return f"slack:action:{trigger}"
    action = (body.get("actions") or [{}])[0]
    user = (body.get("user") or {}).get("id", "")
    return f"slack:action:{user}:{action.get('action_ts', '')}"


def _text_form(kind: Action, number: int) -> dict[str, Any]:
    """The one-text form of a card's Reply, Resolve, Escalate or Ask-to-close control."""
    if kind is Action.REPLY:
        return forms.text_form(ids.FORM_REPLY, number, title=f"Reply to #{number}",
                               label="Your reply to the requester", submit="Send reply",
                               hint="Posted in the ticket thread under your name.")
    if kind is Action.RESOLVE:
        return forms.text_form(ids.FORM_RESOLVE, number, title=f"Resolve #{number}",
                               label="Resolution note", submit="Resolve",
                               min_length=RESOLUTION_NOTE_MIN,
                               hint="What was done. The requester sees it.")
    if kind is Action.ESCALATE:
        return forms.text_form(ids.FORM_ESCALATE, number, title=f"Escalate #{number}",
                               label="Why does it need escalating?", submit="Escalate",
                               hint="Seen by agents and the escalation channel only.")
    if kind is Action.ASK_CLOSE:
        return forms.text_form(ids.FORM_ASK_CLOSE, number, title=f"Ask to close #{number}",
                               label="A word to the requester", submit="Ask them",
                               optional=True,
                               hint="Optional. They get \"Yes, close it\" and \"No, I still "
                                    "need help\"; without an answer it closes by itself.")
    raise Invalid("action", f"{kind.value} has no form on a card")


def _requester_not_watcher(view: dict[str, Any], body: dict[str, Any]) -> None:
    """Raises ``Invalid("cc", …)`` when the form's watchers select names the requester
    (who follows their ticket already): said on the form, before anything is stored."""
    meta = forms.FormMeta.load(view.get("private_metadata"))
    requester = meta.on_behalf or str((body.get("user") or {}).get("id") or "")
    if requester and requester in forms.cc_users(view):
        raise Invalid("cc", "cannot include the requester: they follow their ticket "
                      "already")
