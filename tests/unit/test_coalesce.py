"""``core.coalesce``: which waiting notice a new one replaces, and what the merged one
tells (issue 10, point 6). Pure functions, no store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.coalesce import Waiting, coalesce, notice_of, same_target
from core.events import Audience, Commented, Event, PriorityChanged
from core.identity import Person, UserRef
from core.routing import Delivery, Purpose, Target

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SAM = Person(UserRef("shell", "local", "sam"), "Sam")


def change(event_id: int, previous: str, to: str) -> Event:
    return Event(1, PriorityChanged(previous, to), SAM, NOW, "shell", id=event_id)


def to_thread(event_id: int, binding: int, delivery_id: int | None = None) -> Delivery:
    return Delivery(1, event_id, "shell", Target.BINDING, Audience.PUBLIC, NOW,
                    binding_id=binding, id=delivery_id)


def test_a_new_change_replaces_the_waiting_one_of_its_own_target_only() -> None:
    first = change(2, "low", "high")
    waiting = [Waiting(to_thread(2, binding=1, delivery_id=10), first),
               Waiting(to_thread(2, binding=2, delivery_id=11), first)]
    planned = [to_thread(3, binding=1)]
    assert coalesce(change(3, "high", "urgent"), planned, waiting) == [10]
    assert planned[0].merged_from == 2


def test_the_merged_notice_tells_the_whole_change_and_keeps_a_round_trip() -> None:
    first, last = change(2, "low", "high"), change(5, "normal", "urgent")
    assert notice_of(last, first).payload == PriorityChanged("low", "urgent")
    assert notice_of(last, None) is last
    back = change(6, "urgent", "low")
    assert notice_of(back, first).payload == PriorityChanged("low", "low")


def test_comments_and_other_targets_never_merge() -> None:
    comment = Event(1, Commented("hello"), SAM, NOW, "shell", id=7)
    waiting = [Waiting(to_thread(6, binding=1, delivery_id=20), comment)]
    assert coalesce(comment, [to_thread(7, binding=1)], waiting) == []
    dm = replace(to_thread(3, binding=1), target=Target.DM, binding_id=None,
                 address="shell:local:marco", purpose=Purpose.NOTIFY)
    assert not same_target(dm, to_thread(3, binding=1))
    assert coalesce(change(3, "high", "urgent"), [dm],
                    [Waiting(to_thread(2, 1, 21), change(2, "low", "high"))]) == []
    assert dm.merged_from is None
