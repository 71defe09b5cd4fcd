"""Taking one message into the desk: ``mail-in`` and the IMAP poller both call ``take``
(issue 13, points 4–5).

The mail is read and judged (``adapters.email.inbound``), then run through core as the
sender's own e-mail identity: ``Desk.comment_by_mail`` (core decides whether they may:
the ticket's requester or a watcher) or ``Desk.open_ticket``. Nothing a sender writes is
parsed as a command: it is a comment, or a new ticket's description, and nothing else.
The ``Message-ID`` is the request key, so the same message twice is one comment.

Every refusal is logged with its reason (logger ``helpthread.email``); nothing of a
refused message is stored. A database that cannot be reached raises ``Temporary``:
``mail-in`` exits 75 and the MTA retries; the poller leaves the message in the mailbox.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from adapters.email.bounce import BounceFailed, Bouncer
from adapters.email.inbound import CommentOn, Mail, OpenNew, Refused, decide, new_subject, read
from adapters.email.settings import EmailSettings
from core.commands import OpenTicket, Rate
from core.desk import Desk
from core.errors import (
    Invalid,
    InvalidTransition,
    Limited,
    NotAllowed,
    NotFound,
    Unavailable,
    Unchanged,
)
from core.identity import Actor, UserRef

log = logging.getLogger("helpthread.email")

NEW_TICKET_CATEGORY = "general"
# The resolution mail asks "Reply with good or bad, and a few words": a reply whose first
# line is only that word rates the resolution, the lines after it its comment. "Good
# morning, it is broken again" is a comment (and reopens, PRODUCT.md §3).
_RATING = re.compile(r"\A\s*(good|bad)\s*[.!]*\s*(?:\n(.*))?\Z", re.IGNORECASE | re.DOTALL)


class Result(StrEnum):
    TAKEN = "taken"
    DUPLICATE = "duplicate"  # taken before (same Message-ID): nothing new
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of one message: ``number`` the ticket it reached (None when refused),
    ``reason`` why it was refused, ``bounced`` when the sender was told."""

    result: Result
    number: int | None = None
    reason: str | None = None
    bounced: bool = False


class Temporary(Exception):
    """The message could not be handled now (database unreachable, the bounce not sent);
    nothing was stored. Try it again later."""


def attachments_only(count: int) -> str:
    """The comment text of a mail that only carries files."""
    return f"(sent {count} attachment{'s' if count > 1 else ''} by e-mail)"


async def take(desk: Desk, raw: bytes, settings: EmailSettings, bounce: Bouncer | None,
               size: int | None = None) -> Taken:
    """Take the message ``raw`` (whole, or only its head when ``size`` says it is
    bigger). Returns ``Taken``; raises ``Temporary`` when it must be tried again."""
    mail: Mail | None = None
    try:
        mail = read(raw, settings, size)
        decision = decide(mail, settings)
        if isinstance(decision, OpenNew):
            return await _open(desk, mail)
        return await _comment(desk, mail, decision)
    except Refused as refusal:
        return await _refuse(refusal.mail or mail, refusal, bounce)
    except (Unavailable, SQLAlchemyError, OSError) as err:
        raise Temporary(f"the desk's database cannot be reached: {err}") from err


def _actor(mail: Mail) -> Actor:
    return Actor(UserRef.email(mail.sender), mail.sender_name)


async def _comment(desk: Desk, mail: Mail, decision: CommentOn) -> Taken:
    text = mail.text or attachments_only(len(mail.attachments))
    if not mail.text and not mail.attachments:
        raise Refused("it holds no text and no attachment")
    rated = await _rate(desk, mail, decision.number)
    if rated is not None:
        return rated
    try:
        outcome = await desk.comment_by_mail(_actor(mail), decision.number, text,
                                             attachments=mail.attachments,
                                             request_key=mail.request_key)
    except (NotFound, NotAllowed) as err:  # a stranger, or no such ticket: never told
        raise Refused(f"{mail.sender} may not comment on #{decision.number} by e-mail "
                      f"({err})") from None
    except (Invalid, InvalidTransition, Limited) as err:  # the sender is theirs: told
        raise Refused(str(err), bounce=True) from None
    number = outcome.follow_up.number if outcome.follow_up else outcome.ticket.number
    if outcome.replayed:
        log.info("mail.duplicate message_id=%s ticket=%s", mail.message_id, number)
        return Taken(Result.DUPLICATE, number)
    log.info("mail.taken message_id=%s sender=%s ticket=%s", mail.message_id, mail.sender,
             number)
    return Taken(Result.TAKEN, number)


async def _rate(desk: Desk, mail: Mail, number: int) -> Taken | None:
    """The requester's answer to the satisfaction question (the resolution mail's "reply
    with good or bad"), as core's ``Rate`` with the mail's ``Message-ID`` as request key.
    None when the mail is not such an answer or core does not take it as a rating (not
    the requester, the ticket not resolved): then it is a comment. The same rating again
    (a second "good") is taken and changes nothing — it never reopens the ticket; a
    message taken before (its key known, as a rating or a comment) is a duplicate."""
    match = _RATING.match(mail.text or "")
    if match is None or mail.attachments:
        return None
    word, rest = match.group(1).lower(), (match.group(2) or "").strip()
    try:
        outcome = await desk.run(_actor(mail), Rate(number, word, rest or None),
                                 request_key=mail.request_key)
    except Unchanged as err:  # the requester, a rateable ticket: rated so already
        log.info("mail.rated_again message_id=%s sender=%s ticket=%s rating=%s (%s)",
                 mail.message_id, mail.sender, number, word, err)
        return Taken(Result.TAKEN, number)
    except (NotFound, NotAllowed, InvalidTransition, Invalid):
        return None
    if outcome.replayed:
        log.info("mail.duplicate message_id=%s ticket=%s", mail.message_id,
                 outcome.ticket.number)
        return Taken(Result.DUPLICATE, outcome.ticket.number)
    log.info("mail.rated message_id=%s sender=%s ticket=%s rating=%s", mail.message_id,
             mail.sender, number, word)
    return Taken(Result.TAKEN, number)


async def _open(desk: Desk, mail: Mail) -> Taken:
    """A new ticket (category ``general``, else the first configured), its subject and
    description the mail's; attachments follow as a comment holding them."""
    category = NEW_TICKET_CATEGORY if desk.config.category(NEW_TICKET_CATEGORY) \
        else desk.config.categories[0].key
    description = mail.text or attachments_only(len(mail.attachments))
    if not mail.text and not mail.attachments:
        raise Refused("it holds no text and no attachment")
    actor = _actor(mail)
    try:
        opened = await desk.open_ticket(
            actor, OpenTicket(category, new_subject(mail), description),
            request_key=mail.request_key)
        number = opened.ticket.number
        if mail.attachments and not opened.duplicate:
            await desk.comment_by_mail(actor, number, attachments_only(len(mail.attachments)),
                                       attachments=mail.attachments,
                                       request_key=mail.request_key + ":files")
    except (Invalid, Limited) as err:
        raise Refused(str(err), bounce=True) from None
    except (NotFound, NotAllowed) as err:
        raise Refused(str(err)) from None
    if opened.duplicate:
        log.info("mail.duplicate message_id=%s ticket=%s", mail.message_id, number)
        return Taken(Result.DUPLICATE, number)
    log.info("mail.opened message_id=%s sender=%s ticket=%s", mail.message_id, mail.sender,
             number)
    return Taken(Result.TAKEN, number)


async def _refuse(mail: Mail | None, refusal: Refused, bounce: Bouncer | None) -> Taken:
    sender = mail.sender if mail else refusal.sender or "?"
    message_id = mail.message_id if mail else refusal.message_id or "?"
    log.warning("mail.refused reason=%r sender=%s message_id=%s", refusal.reason, sender,
                message_id)
    if not refusal.bounce or mail is None or bounce is None:
        return Taken(Result.REFUSED, reason=refusal.reason)
    try:
        await bounce(mail, refusal.reason)
    except BounceFailed as err:
        raise Temporary(str(err)) from err
    log.info("mail.bounced to=%s message_id=%s", mail.bounce_to, message_id)
    return Taken(Result.REFUSED, reason=refusal.reason, bounced=True)

