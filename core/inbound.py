"""What arrives from a platform, as the desk keeps it (PRODUCT.md §8, "Acknowledged
means stored"; issue 10, points 1–3).

A thread message is known by everything that identifies it on its platform — the
envelope it came in (Slack ``event_id``) and the message itself (Slack channel and
``ts``, ``client_msg_id``; Discord message id) — so the same message under a new
envelope, a platform retry, or the catch-up reading it again after a restart is one
comment. Those keys are written in the transaction that stores the comment and kept
``KEYS_KEPT`` (then pruned: a platform redelivers within minutes, and catch-up starts
after each thread's ``ThreadCursor``, which is never pruned).

Each thread's cursor is the newest platform message stored from it: its ``order``
(the platform's own order in the thread: Slack ``ts`` in microseconds, a Discord
snowflake) and its id as the platform writes it (``message``), which is where
catch-up reads on from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.identity import UserRef
from core.routing import Binding

KEYS_KEPT = timedelta(days=7)  # inbound keys older than this are pruned
KEY_MAX = 200  # the key column's length


@dataclass(frozen=True, slots=True)
class Receipt:
    """One inbound message: ``keys`` (each ≤ ``KEY_MAX`` characters, e.g.
    ``slack:message:C1:1700000000.000100``) and, for a message read from a thread, its
    ``order`` (an integer the platform's order sorts by) and platform id ``message``."""

    keys: tuple[str, ...]
    order: int | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a receipt needs at least one key")
        long = [k for k in self.keys if len(k) > KEY_MAX]
        if long:
            raise ValueError(f"inbound key longer than {KEY_MAX} characters: {long[0][:40]}…")


@dataclass(frozen=True, slots=True)
class ThreadCursor:
    """Where catch-up reads on in one thread: ``binding`` (its channel and thread),
    ``message`` (the platform id of the newest message stored from it; None when none
    was), ``since`` (UTC: the newest event typed there, else the ticket's opening —
    the start for a thread without a cursor) and the ticket's ``requester`` (whose DM
    holds a private ticket's thread on some platforms)."""

    binding: Binding
    message: str | None
    since: datetime
    requester: UserRef
