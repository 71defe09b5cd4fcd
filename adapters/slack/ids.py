"""The ids the app gives Slack and gets back: callback ids, block ids, action ids.

Slack limits them to 255 characters (Block Kit reference, "block_id"/"action_id").
Ticket buttons carry the ticket number in their ``value``, so a card keeps working
after a restart; forms carry theirs in ``private_metadata`` (≤ 3000 characters).
"""

from __future__ import annotations

import re

COMMAND = "/ticket"

# Shortcuts (manifest callback ids)
SHORTCUT_OPEN = "helpthread_open_ticket"
SHORTCUT_FROM_MESSAGE = "helpthread_ticket_from_message"

# Modals (callback ids)
FORM_NEW = "helpthread_new_ticket"
FORM_REPLY = "helpthread_reply"
FORM_RESOLVE = "helpthread_resolve"
FORM_ESCALATE = "helpthread_escalate"
FORM_ASK_CLOSE = "helpthread_ask_close"
FORM_RATE = "helpthread_rate"  # the optional comment after a rating click

# The new-ticket form's blocks; a category's own field ``key`` lives in ``field:<key>``.
BLOCK_CATEGORY = "category"
BLOCK_SUBJECT = "subject"
BLOCK_DESCRIPTION = "description"
BLOCK_PRIORITY = "priority"
BLOCK_ACCOUNT = "account"
BLOCK_SHARE = "share"
BLOCK_CC_USERS = "cc"  # watchers: a users select (core's field ``cc``)
BLOCK_CC_EMAILS = "cc_emails"  # watchers by e-mail address
FIELD_PREFIX = "field:"
ACTION_CATEGORY = "category_chosen"  # dispatches on choice: the form grows its fields
ACTION_VALUE = "value"  # the one element of every other input block

# Single-input forms (reply, resolution note, escalation reason)
BLOCK_TEXT = "text"

# Card and App Home actions: ``ticket:<verb>``, value = ticket number.
ACTION_PREFIX = "ticket:"
CLAIM = "ticket:claim"
REPLY = "ticket:reply"
RESOLVE = "ticket:resolve"
CLOSE = "ticket:close"
REOPEN = "ticket:reopen"
ESCALATE = "ticket:escalate"
PRIORITY = "ticket:priority"
ASK_CLOSE = "ticket:ask_close"
HOME_NEW = "home:new"
# "More" under a page of /ticket list or queue: value = the next page's words
# (``core.grammar.ListTickets.words``), read back and authorised again when pressed.
MORE = "list:more"

# The requester's buttons under a close request and a resolution (``asks``): value =
# ticket number. Not ``ticket:…``: the card listener does not take them.
CONFIRM_CLOSE = "requester:close"
KEEP_OPEN = "requester:keep_open"
RATE_GOOD = "requester:rate_good"
RATE_BAD = "requester:rate_bad"

ACTIONS = re.compile(r"^ticket:[a-z_]+$")
# A ticket number as people and controls write it: 42 or #42, ASCII digits only, at
# most nine of them (no store overflows; a forged "²" or 10**20 is not a number).
TICKET_NUMBER = re.compile(r"#?([0-9]{1,9})", re.ASCII)


def ticket_number(text: str) -> int | None:
    """``42`` / ``#42`` → 42; anything else → None."""
    match = TICKET_NUMBER.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def field_block(key: str) -> str:
    return FIELD_PREFIX + key


def block_for(field: str) -> str:
    """The form block that shows the core's field name ``field`` (``Invalid.field``)."""
    base = {"category": BLOCK_CATEGORY, "subject": BLOCK_SUBJECT,
            "description": BLOCK_DESCRIPTION, "priority": BLOCK_PRIORITY,
            "account": BLOCK_ACCOUNT, "visibility": BLOCK_SHARE, "cc": BLOCK_CC_USERS,
            "cc_emails": BLOCK_CC_EMAILS}
    return base.get(field, field_block(field))
