"""The in-memory store's search: ``core.search``'s semantics in plain Python.

Documents, words and ranking as the SQL stores' index holds them (migration 0007):
subject, description and public text for everyone; fields and internal text for
agents; a term matches a column holding its words in order (``core.search.tokens``);
score = the sum of the weights of the columns each positive term matches (subject 10,
description 4, comments 1, fields 4, notes 1), then newest activity.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from core.events import Event
from core.search import SearchQuery, person_matches, public_text, snippet, tokens
from core.store.port import Hit, TicketQuery
from core.tickets import DONE, Ticket
from core.visibility import Viewer, may_see

WEIGHTS = {"subject": 10, "description": 4, "comments": 1, "fields": 4, "notes": 1}
SNIPPET_ORDER = ("description", "comments", "notes", "subject")


def _columns(t: Ticket, events: Iterable[Event], agent: bool) -> dict[str, str]:
    texts = [(e.text, public_text(e)) for e in events if e.ticket_number == t.number and e.text]
    cols = {"subject": t.subject, "description": t.description,
            "comments": "\n".join(text for text, public in texts if public)}
    if agent:
        cols["fields"] = " ".join(t.fields.values())
        cols["notes"] = "\n".join(text for text, public in texts if not public)
    return cols


def _holds(words: tuple[str, ...], text: str) -> bool:
    have = tokens(text)
    n = len(words)
    return any(have[i:i + n] == words for i in range(len(have) - n + 1))


def _filtered(t: Ticket, s: SearchQuery) -> bool:
    return ((not s.numbers or t.number in s.numbers)
            and (s.statuses is None or t.status in s.statuses)
            and (s.category is None or t.category == s.category)
            and (s.priority is None or t.priority == s.priority)
            and (s.assignee is None or person_matches(
                s.assignee, t.assignee.ref.key if t.assignee else None,
                t.assignee.name if t.assignee else None))
            and (s.requester is None or person_matches(
                s.requester, t.requester.ref.key, t.requester.name))
            and (s.before is None or t.opened_at < s.before)
            and (s.after is None or t.opened_at >= s.after))


def search(tickets: Iterable[Ticket], events: list[Event], query: TicketQuery) -> list[Hit]:
    s = query.search
    assert s is not None
    agent = query.sees_internal
    found: list[tuple[bool, int, Ticket, str | None]] = []  # bare number's ticket, score
    for t in tickets:
        if not may_see(Viewer(query.viewer, agent), t) or not _filtered(t, s):
            continue
        cols = _columns(t, events, agent)
        if any(any(_holds(term.words, c) for c in cols.values()) for term in s.negative):
            continue
        scores = [sum(WEIGHTS[name] for name, c in cols.items() if _holds(term.words, c))
                  for term in s.positive]
        if all(scores):
            texts = [cols[c] for c in SNIPPET_ORDER if c in cols]
            found.append((False, sum(scores), t, snippet(texts, s.positive)))
        elif s.bare_number == t.number:
            found.append((True, 0, t, None))
    found.sort(key=lambda x: (x[0], x[1], (x[2].last_activity_at if agent
                                           else x[2].public_activity_at) or x[2].opened_at,
                              x[2].number), reverse=True)
    return [Hit(copy.deepcopy(t), snippet) for _, _, t, snippet in found[: query.limit]]


def similar(tickets: Iterable[Ticket], events: list[Event], words: tuple[str, ...],
            viewer: Viewer, limit: int) -> list[Ticket]:
    """``Store.similar_tickets`` in plain Python: resolved tickets with a note that
    ``viewer`` may see, scored by the column weights of each word they hold."""
    found: list[tuple[int, int, Ticket]] = []
    for t in tickets:
        if t.status not in DONE or not t.resolution or not may_see(viewer, t):
            continue
        cols = _columns(t, events, viewer.is_agent)
        score = sum(WEIGHTS[name] for word in words for name, c in cols.items()
                    if _holds((word,), c))
        if score:
            found.append((score, t.number, t))
    found.sort(key=lambda x: (x[0], x[1]), reverse=True)
    return [copy.deepcopy(t) for _, _, t in found[:limit]]
