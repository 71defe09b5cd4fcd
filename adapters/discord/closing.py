"""Close requests and satisfaction on Discord (PRODUCT.md §7), the requester's side:
"Yes, close it" / "No, I still need help" under the request in the requester's thread
(or DM), and the one-click rating under the resolution. (The team card's "Ask to
close" is a card control: ``views.AskCloseButton``.)

Like every card control these are ``DynamicItem``s with the ticket in the ``custom_id``
(they work after a restart), authorised again in core on every press, with the
interaction's id as request key (a redelivered interaction changes nothing twice).

A rating click must answer with a modal (the optional comment), and a modal must be an
interaction's first response, so the click cannot be deferred: it records the rating
(one short write) and then shows the form; the form's submission runs ``Rate`` again
with the same rating and the comment. A refusal (not the requester, nothing to rate)
is the click's first and only, ephemeral, answer — no form then.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord.acting import act, bot_of, on_error, request_key, send_modal
from adapters.discord.components import Controls
from adapters.discord.views import (
    FORM_TIMEOUT,
    Button,
    _TicketButton,
    _title,
    answered,
)
from core.errors import InvalidTransition
from core.identity import Actor
from core.policy import Action
from core.tickets import Rating
from core.validation import COMMENT_MAX

Work = Callable[[Actor], Awaitable[str]]


class YesCloseButton(_TicketButton, template=r"ticket:yes-close:(?P<n>\d{1,9})"):
    """Under a close request: the requester closes their ticket (``Close``)."""

    verb, label, style = "yes-close", "Yes, close it", discord.ButtonStyle.success
    in_dm = True

    def run(self, interaction: discord.Interaction[Any]) -> Work:
        async def work(actor: Actor) -> str:
            ticket = await bot_of(interaction).desk.close(actor, self.number,
                                                         request_key=request_key(interaction))
            return f"Done: #{ticket.number} is closed. Thank you!"
        return work


class KeepOpenButton(_TicketButton, template=r"ticket:keep-open:(?P<n>\d{1,9})"):
    """Under a close request: the requester still needs help (``KeepOpen``)."""

    verb, label, style = "keep-open", "No, I still need help", discord.ButtonStyle.secondary
    in_dm = True

    def run(self, interaction: discord.Interaction[Any]) -> Work:
        async def work(actor: Actor) -> str:
            ticket = await bot_of(interaction).desk.keep_open(
                actor, self.number, request_key=request_key(interaction))
            return f"Understood: #{ticket.number} stays open; the team will get back to you."
        return work


RATING_LABELS = {Rating.GOOD: ("Good", "\U0001f44d", discord.ButtonStyle.success),
                 Rating.BAD: ("Bad", "\U0001f44e", discord.ButtonStyle.danger)}


class RateButton(discord.ui.DynamicItem[Button],
                 template=r"ticket:rate-(?P<rating>good|bad):(?P<n>\d{1,9})"):
    """Good / Bad under the resolution: records the rating at once, then offers a
    comment (``RatingForm``). A second click — the other button — changes it."""

    def __init__(self, number: int, rating: Rating) -> None:
        label, emoji, style = RATING_LABELS[rating]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style,
                                           custom_id=f"ticket:rate-{rating.value}:{number}"))
        self.number, self.rating = number, rating

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RateButton:
        return cls(int(match["n"]), Rating(match["rating"]))

    @answered
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        desk = bot_of(interaction).desk

        async def work(actor: Actor) -> None:
            try:
                await desk.rate(actor, self.number, self.rating,
                                request_key=request_key(interaction))
            except InvalidTransition:
                # Refused by the life cycle: either nothing can be rated (the check says
                # so, and that is the answer) or it already has this rating — then the
                # form still lets them add a comment.
                await desk.check(actor, self.number, Action.RATE)
            await send_modal(interaction, RatingForm(self.number, self.rating))
        await act(interaction, self.number, work, deferral=None, in_dm=True)


class RatingForm(discord.ui.Modal):
    """The optional comment on a rating just recorded; submitting runs ``Rate`` with the
    same rating and the comment (left empty, the rating stands as it is)."""

    def __init__(self, number: int, rating: Rating) -> None:
        super().__init__(title=_title(f"Thanks! #{number} is rated {rating.value}"),
                         timeout=FORM_TIMEOUT, custom_id=f"ticket:form:rate:{number}")
        self.number, self.rating = number, rating
        self.comment: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Anything to add? (optional)", custom_id="comment", required=False,
            style=discord.TextStyle.paragraph, max_length=COMMENT_MAX)
        self.add_item(self.comment)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        async def work(actor: Actor) -> str:
            comment = self.comment.value.strip()
            if not comment:
                await bot_of(interaction).desk.check(actor, self.number, Action.RATE)
                return f"Thanks: your rating of #{self.number} ({self.rating.value}) is kept."
            await bot_of(interaction).desk.rate(actor, self.number, self.rating, comment,
                                                request_key=request_key(interaction))
            return f"Thanks: your rating of #{self.number} and your comment are recorded."
        await act(interaction, self.number, work, in_dm=True)

    async def on_error(  # type: ignore[override]  # as views.TicketForm.on_error
            self, interaction: discord.Interaction[Any], error: Exception, /) -> None:
        await on_error(interaction, error)


def close_request_view(number: int) -> discord.ui.View:
    """Under the close request the requester reads."""
    return Controls((YesCloseButton(number), KeepOpenButton(number)))


def rating_view(number: int) -> discord.ui.View:
    """Under the resolution the requester reads."""
    return Controls(RateButton(number, rating) for rating in Rating)


CLOSING_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    YesCloseButton, KeepOpenButton, RateButton,
)
