"""The card table both platforms must render (issue 9, point 3): for a ticket in each
status, the actions its team card (any agent) and its ticket-thread card (the requester)
offer. Each platform's test reads the controls it really rendered, maps them back to
core's ``Action``s and compares them with this table and with ``core.capabilities``."""

from __future__ import annotations

from core.capabilities import TICKET_ACTIONS, audience_roles, available
from core.desk import Desk
from core.identity import Actor
from core.policy import Action
from core.tickets import Status

A = Action
# The actions cards have a control for; the rest (assign, unassign, wait, hold, resume,
# note, link, watchers, comments) are commands and thread messages on every platform,
# and the requester's answer to a close request and rating are buttons under the
# messages that ask for them.
CARD_ACTIONS = frozenset({A.CLAIM, A.REPLY, A.RESOLVE, A.CLOSE, A.REOPEN, A.SET_PRIORITY,
                          A.ESCALATE, A.ASK_CLOSE})

# status → (team card, ticket-thread card), in the order cards show them
TABLE: dict[Status, tuple[tuple[Action, ...], tuple[Action, ...]]] = {
    Status.OPEN: ((A.CLAIM, A.REPLY, A.RESOLVE, A.CLOSE, A.SET_PRIORITY, A.ESCALATE,
                   A.ASK_CLOSE), (A.CLOSE,)),
    Status.IN_PROGRESS: ((A.REPLY, A.RESOLVE, A.CLOSE, A.SET_PRIORITY, A.ESCALATE,
                          A.ASK_CLOSE), (A.CLOSE,)),
    Status.WAITING: ((A.REPLY, A.RESOLVE, A.CLOSE, A.SET_PRIORITY, A.ESCALATE, A.ASK_CLOSE),
                     (A.CLOSE,)),
    Status.ON_HOLD: ((A.REPLY, A.RESOLVE, A.CLOSE, A.SET_PRIORITY, A.ESCALATE, A.ASK_CLOSE),
                     (A.CLOSE,)),
    Status.RESOLVED: ((A.REPLY, A.CLOSE, A.REOPEN), (A.CLOSE, A.REOPEN)),
    Status.CLOSED: ((A.REOPEN,), (A.REOPEN,)),  # no public reply on a closed ticket
}
CARDS = ("team", "ticket")
CASES = [(status, card) for status in TABLE for card in CARDS]


def expected(status: Status, card: str) -> list[Action]:
    team, ticket = TABLE[status]
    return list(team if card == "team" else ticket)


async def bring_to(desk: Desk, agent: Actor, number: int, status: Status) -> None:
    """Moves a freshly opened ticket to ``status`` with the agent's commands."""
    if status is Status.IN_PROGRESS:
        await desk.claim(agent, number)
    elif status is Status.WAITING:
        await desk.request_info(agent, number, "Which browser do you use?")
    elif status is Status.ON_HOLD:
        await desk.hold(agent, number, "Waiting for the identity provider")
    elif status is Status.RESOLVED:
        await desk.resolve(agent, number, "Password reset link sent")
    elif status is Status.CLOSED:
        await desk.close(agent, number, "Solved elsewhere")


async def core_offers(desk: Desk, number: int, card: str) -> list[Action]:
    """What core says the card's audience may do on ticket ``number`` now, limited to the
    actions cards have controls for, in core's order."""
    async with desk.stores.transaction() as store:
        ticket = await store.get_ticket(number)
    assert ticket is not None
    allowed = available(audience_roles(card == "team"), ticket, desk.config, desk.clock.now())
    return [a for a in TICKET_ACTIONS if a in allowed and a in CARD_ACTIONS]
