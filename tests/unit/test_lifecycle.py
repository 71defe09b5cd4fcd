"""The life cycle of PRODUCT.md §3, as pure transitions."""

from datetime import UTC, datetime, timedelta

import pytest

from core import tickets as lc
from core.errors import InvalidTransition
from core.identity import Person, UserRef
from core.tickets import LinkKind, Status, Ticket

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SAM = Person(UserRef("shell", "local", "sam"), "sam")
ANA = Person(UserRef("shell", "local", "ana"), "ana")


def ticket(status: Status = Status.OPEN) -> Ticket:
    return Ticket(number=7, subject="s", description="d", category="general",
                  priority="normal", requester=Person(UserRef("shell", "local", "lena"), "lena"),
                  opened_at=NOW, source="shell", status=status)


def test_claim_moves_open_to_in_progress_and_refuses_a_second_claim() -> None:
    t = ticket()
    lc.claim(t, SAM)
    assert (t.status, t.assignee) == (Status.IN_PROGRESS, SAM)
    with pytest.raises(InvalidTransition, match="already claimed by sam"):
        lc.claim(t, ANA)
    with pytest.raises(InvalidTransition, match="already yours"):
        lc.claim(t, SAM)


def test_request_info_waits_and_requester_reply_resumes() -> None:
    t = ticket()
    lc.claim(t, SAM)
    lc.request_info(t, SAM)
    assert t.status is Status.WAITING
    assert lc.requester_replied(t) is True
    assert t.status is Status.IN_PROGRESS
    assert lc.requester_replied(t) is False


def test_hold_and_resume() -> None:
    t = ticket()
    lc.hold(t, SAM)
    assert (t.status, t.assignee) == (Status.ON_HOLD, SAM)
    lc.resume(t)
    assert t.status is Status.IN_PROGRESS
    with pytest.raises(InvalidTransition, match="cannot be resumed"):
        lc.resume(t)


@pytest.mark.parametrize("note", ["", "short", "     ok    "])
def test_resolve_needs_a_note_of_six_characters(note: str) -> None:
    t = ticket()
    with pytest.raises(InvalidTransition, match="at least 6 characters"):
        lc.resolve(t, SAM, note, NOW)
    assert t.status is Status.OPEN


def test_resolve_close_reopen() -> None:
    t = ticket()
    lc.resolve(t, SAM, "Refunded the capture", NOW)
    assert (t.status, t.resolution, t.resolved_at) == (Status.RESOLVED, "Refunded the capture",
                                                       NOW)
    assert lc.within_reopen_window(t, NOW + timedelta(days=13), timedelta(days=14))
    assert not lc.within_reopen_window(t, NOW + timedelta(days=15), timedelta(days=14))
    with pytest.raises(InvalidTransition, match="resolved; it cannot be resolved"):
        lc.resolve(t, SAM, "again and again", NOW)
    lc.close(t, NOW)
    assert t.status is Status.CLOSED
    with pytest.raises(InvalidTransition, match="already closed"):
        lc.close(t, NOW)
    lc.reopen(t)
    assert t.status is Status.IN_PROGRESS  # it keeps its assignee
    assert t.resolution is None


def test_reopen_without_assignee_goes_back_to_open() -> None:
    t = ticket()
    lc.close(t, NOW)
    lc.reopen(t)
    assert t.status is Status.OPEN


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_done_tickets_refuse_work(status: Status) -> None:
    t = ticket(status)
    for change in (lambda: lc.claim(t, SAM), lambda: lc.hold(t, SAM),
                   lambda: lc.request_info(t, SAM), lambda: lc.set_priority(t, "urgent"),
                   lambda: lc.escalate(t)):
        with pytest.raises(InvalidTransition):
            change()
    assert t.status is status


def test_unassign_returns_to_queue() -> None:
    t = ticket()
    lc.claim(t, SAM)
    assert lc.unassign(t) == SAM
    assert (t.status, t.assignee) == (Status.OPEN, None)
    with pytest.raises(InvalidTransition, match="not assigned"):
        lc.unassign(t)


def test_priority_and_escalation() -> None:
    t = ticket()
    assert lc.set_priority(t, "urgent") == "normal"
    with pytest.raises(InvalidTransition, match="already urgent"):
        lc.set_priority(t, "urgent")
    assert lc.escalate(t) == 1
    assert lc.escalate(t) == 2


def test_a_copy_changes_apart_from_its_ticket() -> None:
    """``Ticket.copy`` (what ``core.capabilities`` tries transitions on) is equal to the
    ticket, and nothing done to the copy — fields, containers, SLA clock — reaches it."""
    t = ticket()
    t.fields["order"] = "881"
    t.watchers.append(ANA)
    t.links.append(lc.Link(lc.LinkKind.RELATED, 3))
    t.sla.warned = ("first_response",)
    copy = t.copy()
    assert copy == t and copy is not t
    lc.claim(copy, SAM)
    copy.fields["order"] = "882"
    copy.watchers.clear()
    copy.links.append(lc.Link(lc.LinkKind.DUPLICATE_OF, 4))
    copy.sla.breaches += 1
    assert (t.status, t.assignee, t.fields, t.watchers) == (Status.OPEN, None,
                                                            {"order": "881"}, [ANA])
    assert t.links == [lc.Link(lc.LinkKind.RELATED, 3)] and t.sla.breaches == 0


def test_link_kinds_read_as_words_not_stored_keys() -> None:
    assert [k.words for k in LinkKind] == [
        "related", "duplicate of", "follow-up of", "followed up by"]
