"""The requester's buttons (PRODUCT.md §7): answering a close request and rating a
resolution (``levels.requester_buttons`` puts them under those messages).

- "Yes, close it" runs ``Close`` and "No, I still need help" ``KeepOpen``, as the
  person who clicked; "Good" / "Bad" run ``Rate`` at once, then open a form (with the
  click's ``trigger_id``) for an optional comment, sent as ``Rate`` with the same
  rating and the comment.
- The desk authorises every click (only the requester may answer or rate); a refusal
  goes to the clicker alone. A click acts with its ``trigger_id`` as request key
  (``interactions.press_key``) and a form with its view id, so a redelivered payload
  changes nothing twice; a click's change is stored before it is acknowledged.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack import answers, forms, ids
from adapters.slack.context import Shared
from adapters.slack.interactions import press_key
from core import commands as cmd
from core.characters import trim
from core.errors import DeskError, Invalid, InvalidTransition
from core.identity import Actor
from core.policy import Action
from core.tickets import Rating

RATINGS = {ids.RATE_GOOD: Rating.GOOD, ids.RATE_BAD: Rating.BAD}
RATING_KEY = "rating"  # where the comment form remembers the rating


class Asks:
    def __init__(self, shared: Shared) -> None:
        self.s = shared

    def register(self, app: AsyncApp) -> None:
        track = self.s.inflight.track
        app.action(ids.CONFIRM_CLOSE)(track(self.on_close_answer))
        app.action(ids.KEEP_OPEN)(track(self.on_close_answer))
        app.action(ids.RATE_GOOD)(track(self.on_rating))
        app.action(ids.RATE_BAD)(track(self.on_rating))
        app.view(ids.FORM_RATE)(track(self.on_comment))

    async def on_close_answer(self, ack: Any, body: dict[str, Any]) -> None:
        """"Yes, close it" / "No, I still need help": stored, then acknowledged; the
        clicker is told what happened (once: a redelivery says nothing again)."""
        action_id, number_text = _pressed(body)
        try:
            number = _number(number_text)
            actor = await self.s.actor(body)
            yes = action_id == ids.CONFIRM_CLOSE
            command: cmd.TicketCommand = cmd.Close(number, None) if yes \
                else cmd.KeepOpen(number)
            outcome = await self.s.desk.run(actor, command, request_key=press_key(body))
        except DeskError as err:
            await ack()
            await self.s.tell(body, answers.refusal(err))
            return
        await ack()  # the answer is stored
        self.s.name_later(actor)
        if not outcome.replayed:
            await self.s.tell(body, f"Thank you: #{number} is closed." if yes else
                              f"Got it: #{number} stays open and the team will follow up. "
                              "Reply in its thread to tell them more.")

    async def on_rating(self, ack: Any, body: dict[str, Any]) -> None:
        """"Good" / "Bad": the rating is stored at once, then the comment form opens.
        The same rating clicked again stands as it is and the form opens all the same."""
        action_id, number_text = _pressed(body)
        rating = RATINGS[action_id]
        try:
            number = _number(number_text)
            actor = await self.s.actor(body)
            fresh = await self._rate(actor, number, rating, None, press_key(body))
        except DeskError as err:
            await ack()
            await self.s.tell(body, answers.refusal(err))
            return
        await ack()  # the rating is stored
        self.s.name_later(actor)
        if fresh is not None:  # a redelivered click opened its form the first time
            await self.s.open_view(body, comment_form(number, rating))

    async def on_comment(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The comment form: an empty comment leaves the rating as it is; a comment is
        stored before ``ack`` so that a refusal shows in the form."""
        number = forms.form_number(view)
        comment = trim(forms.value_of(view, ids.BLOCK_TEXT) or "")
        if not comment:
            await ack()
            return
        try:
            if number is None:
                raise Invalid("ticket", "this form does not name a ticket")
            actor = await self.s.actor(body)
            rating = forms.form_memo(view, RATING_KEY) or ""
            await self._rate(actor, number, rating, comment, f"slack:view:{view['id']}")
        except DeskError as err:
            await ack(response_action="errors", errors={ids.BLOCK_TEXT: _reason(err)})
            return
        await ack()

    async def _rate(self, actor: Actor, number: int, rating: Rating | str,
                    comment: str | None, key: str) -> bool | None:
        """Run ``Rate``; True when it changed the ticket, False when it already said
        exactly this (nothing new to store), None for a redelivery of ``key``. Raises
        the desk's refusal otherwise (not the requester, not resolved)."""
        try:
            outcome = await self.s.desk.run(actor, cmd.Rate(number, str(rating), comment),
                                            request_key=key)
        except InvalidTransition:
            # The same rating (and comment) again, or no rating possible: only the
            # first stands; the pre-check raises the refusal of the second.
            await self.s.desk.check(actor, number, Action.RATE)
            return False
        return None if outcome.replayed else True


def comment_form(number: int, rating: Rating) -> dict[str, Any]:
    """The optional comment after a rating click; remembers the rating."""
    return forms.text_form(
        ids.FORM_RATE, number, title=f"Rate #{number}", label="Anything to add?",
        submit="Send", optional=True, remember={RATING_KEY: rating.value},
        intro=f"Thank you — you rated #{number} *{rating.value}*. A comment helps the "
              "team (only they see it); you can also just close this.",
        hint="Optional. Clicking the other button changes your rating.")


def _pressed(body: dict[str, Any]) -> tuple[str, str]:
    action = (body.get("actions") or [{}])[0]
    return str(action.get("action_id")), str(action.get("value") or "")


def _number(text: str) -> int:
    number = ids.ticket_number(text)
    if number is None:
        raise Invalid("ticket", "this button does not name a ticket")
    return number


def _reason(err: DeskError) -> str:
    if isinstance(err, Invalid):
        return f"{err.field} {err.reason}"
    return err.message[:1].upper() + err.message[1:]
