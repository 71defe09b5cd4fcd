"""Telling a ticket's agents that a requester or watcher was not reached.

A delivery to a person — a receipt or notice by DM, any e-mail — that is parked (a
dead letter: refused for good, or failed ``delivery.max_attempts`` times) leaves that
person unaware of the change; Zendesk and Zammad flag such a failure on the ticket.
Here the desk (``SYSTEM``) adds an internal note to the ticket, seen in its team
threads, once per delivery (request key ``parked:<delivery id>``): parked again after
a retry, it is not noted twice. Deliveries to channels and team threads are not
noted: a note travels the same way, and an outage of those is the operator's to see
(``helpthread deliveries --parked``, the outbox metrics).
"""

from __future__ import annotations

import logging
from typing import Protocol

from core.errors import DeskError
from core.events import Audience, Event
from core.identity import SYSTEM, Actor
from core.routing import Delivery, Purpose

log = logging.getLogger("helpthread.delivery")

ERROR_MOST = 300  # characters of the platform's error quoted in the note
_TO_PEOPLE = frozenset({Purpose.RECEIPT, Purpose.NOTIFY})
_WHAT = {Purpose.RECEIPT: "the receipt", Purpose.NOTIFY: "an update"}


class Notes(Protocol):
    async def note(self, actor: Actor, number: int, text: str, *,
                   request_key: str | None = None) -> Event: ...


def reaches_a_person(delivery: Delivery) -> bool:
    """Whether ``delivery`` was meant for a requester or watcher themselves."""
    return delivery.audience is Audience.PUBLIC and (
        delivery.platform == "email" or delivery.purpose in _TO_PEOPLE)


def parked_note(delivery: Delivery, error: str) -> str:
    """The note's text: what did not reach whom, why (the platform's words, at most
    ``ERROR_MOST`` characters, shortened with "…"), and how to send it again."""
    what = _WHAT.get(delivery.purpose, "a message")
    if delivery.platform == "email":
        whom = f"by e-mail to {delivery.address}" if delivery.address else "by e-mail"
    else:
        whom = f"by {delivery.platform} direct message"
    why = " ".join(error.split())
    if len(why) > ERROR_MOST:
        why = why[: ERROR_MOST - 1] + "…"
    return (f"Not delivered: {what} {whom} ({why or 'no reason given'}). It is parked: "
            "`helpthread deliveries --parked` lists it, `helpthread deliveries retry` "
            "sends it again.")


async def note_parked(desk: Notes, delivery: Delivery, error: str) -> None:
    """Notes on ``delivery``'s ticket that it was parked, when it was meant for a person
    (``reaches_a_person``); never raises — a refusal (a ticket deleted, say) is logged."""
    if not reaches_a_person(delivery):
        return
    try:
        await desk.note(SYSTEM, delivery.ticket_number, parked_note(delivery, error),
                        request_key=f"parked:{delivery.id}")
    except DeskError as err:
        log.warning("delivery %s parked; its ticket #%s was not told: %s", delivery.id,
                    delivery.ticket_number, err)
