"""``SqlStore.search_tickets``: full-text search over the index migration 0007 keeps.

SQLite: the FTS5 table ``ticket_search`` (rowid = ticket number), ranked by ``bm25``
with column weights; PostgreSQL: ``ticket_search.public_doc``/``agent_doc`` queried
with ``websearch_to_tsquery(language, unaccent(…))``, ranked by ``ts_rank`` (weights
A subject, B description, C comments). User words reach neither engine as syntax:
``core.search`` reduces them to letters and digits, each quoted here.

Both rank a bounded candidate set: the ``SEARCH_CANDIDATES`` newest matching tickets
the viewer may see (read in ticket-number order, which needs no ranking), then order
those by relevance and newest activity. Snippets are cut, for the returned page only,
in Python from the texts the viewer may read (``core.search.snippet``): a second
full-text match per page cost more than the search itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, column, func, literal_column, select, table, text, union
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.search import Person, SearchQuery, Term, snippet
from core.store.port import SEARCH_CANDIDATES, Hit, TicketQuery
from core.store.rows import ticket_from
from core.store.visible_sql import T, activity, grant_condition, visible_to
from core.visibility import VISIBLE_TO, Grant, Viewer

# SQLite's FTS5 table (rowid, then its columns in order) and PostgreSQL's table.
FTS = table("ticket_search", column("rowid"), column("subject"), column("description"),
            column("comments"), column("fields"), column("notes"))
PG = table("ticket_search", column("ticket_number"), column("subject"),
           column("description"), column("comments"), column("fields"), column("notes"),
           column("public_doc"), column("agent_doc"))
FTS_WEIGHTS = (10.0, 4.0, 1.0, 4.0, 1.0)  # subject, description, comments, fields, notes
PUBLIC_COLUMNS = "{subject description comments}"
# The planner prices ``@@`` as one operator call, but each call reads (and may
# decompress) a wide row's tsvector. A common word's newest matches were then found by
# walking ``ticket_search`` newest first testing ``@@`` on every row and merging with the
# tickets the viewer may see (144 ms for a requester's broad word at 100,000 tickets);
# without a merge join it walks the tickets she may see newest first and tests ``@@``
# on those only (20 ms). Parallel workers cost more to start than such a query takes.
# (One statement: asyncpg prepares each, and a prepared statement holds one command.)
SEARCH_PLANS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                    "set_config('enable_mergejoin', 'off', true), "
                    "set_config('max_parallel_workers_per_gather', '0', true)")


def _fts_term(term: Term) -> str:
    return '"' + " ".join(term.words).replace('"', '""') + '"'


def _web_term(term: Term) -> str:
    return ("-" if term.negated else "") + '"' + " ".join(term.words) + '"'


def _person(person: Person, key: Any, name: Any) -> ColumnElement[bool]:
    if person.key is None and person.name is None:
        return key.is_(None)  # type: ignore[no-any-return]
    if person.key is not None:
        return key == person.key  # type: ignore[no-any-return]
    return and_(key.is_not(None),
                (func.lower(name) == person.name)
                | key.endswith(f":{person.name}", autoescape=True))


def filters(query: TicketQuery, search: SearchQuery, visibility: bool = True
            ) -> list[ColumnElement[bool]]:
    """The conditions on ``tickets`` every search applies: visibility (unless
    ``visibility`` is false: the caller applies it) and the filters."""
    found = [visible_to(Viewer(query.viewer, query.sees_internal))] if visibility else []
    if search.numbers:
        found.append(T.c.number.in_(search.numbers))
    if search.statuses is not None:
        found.append(T.c.status.in_(sorted(s.value for s in search.statuses)))
    if search.category is not None:
        found.append(T.c.category == search.category)
    if search.priority is not None:
        found.append(T.c.priority == search.priority)
    if search.assignee is not None:
        found.append(_person(search.assignee, T.c.assignee_key, T.c.assignee_name))
    if search.requester is not None:
        found.append(_person(search.requester, T.c.requester_key, T.c.requester_name))
    if search.before is not None:
        found.append(T.c.opened_at < search.before)
    if search.after is not None:
        found.append(T.c.opened_at >= search.after)
    return found


def _by_grant(query: TicketQuery, search: SearchQuery, match: ColumnElement[bool]) -> Any:
    """PostgreSQL, a viewer who is not an agent: the ``SEARCH_CANDIDATES`` newest matching
    tickets she may see, as the union of the newest matches under each grant
    (``core.visibility.VISIBLE_TO``) — the same tickets as one query under their OR. Each
    branch has an index to walk newest first (her tickets, her org's shared ones, the
    ones she watches), so a common word is tested on her tickets only, while a rare one
    is still read from the GIN index: under the OR the planner walked every match and
    tested the grants on it (220 ms for a broad word at a million tickets)."""
    viewer = Viewer(query.viewer, query.sees_internal)
    rest = filters(query, search, visibility=False)
    branches = [
        select(T.c.number).select_from(PG.join(T, T.c.number == PG.c.ticket_number))
        .where(grant_condition(grant, viewer), match, *rest)
        .order_by(T.c.number.desc()).limit(SEARCH_CANDIDATES)
        for grant in VISIBLE_TO if grant is not Grant.AGENT]
    found = union(*branches).subquery()
    return (select(found.c.number).order_by(found.c.number.desc())
            .limit(SEARCH_CANDIDATES).subquery())


class SearchSql:
    conn: AsyncConnection
    dialect: str
    search_language: str  # a name checked by core.config.SearchSection: no quote in it

    async def search_tickets(self, query: TicketQuery) -> list[Hit]:
        search = query.search
        assert search is not None, "search_tickets needs query.search"
        hits = await (self._postgres(query, search) if self.dialect == "postgresql"
                      else self._sqlite(query, search))
        number = search.bare_number
        if number is not None and all(h.ticket.number != number for h in hits):
            alone = replace(search, terms=search.negative, numbers=(number,),
                            bare_number=None)
            hits = await self.search_tickets(replace(query, search=alone)) + hits
        return hits[: query.limit]

    async def _by_recency(self, query: TicketQuery, where: list[ColumnElement[bool]]
                          ) -> list[Hit]:
        rows = await self.conn.execute(
            select(T).where(*where)
            .order_by(activity(query.sees_internal).desc(), T.c.number.desc()).limit(query.limit))
        return [Hit(ticket_from(r), None) for r in rows]

    async def _snippets(self, key: Any, rows: Sequence[Any], search: SearchQuery,
                        agent: bool) -> dict[int, str | None]:
        """Each hit's snippet, cut in Python (``core.search.snippet``) from the texts
        the viewer may read: a lookup by ticket number, no second full-text match."""
        if not rows:
            return {}
        index = key.table
        found = {int(r[0]): r[1:] for r in await self.conn.execute(
            select(key, index.c.comments, index.c.notes)
            .where(key.in_([r.number for r in rows])))}
        out: dict[int, str | None] = {}
        for row in rows:
            comments, notes = found.get(row.number, ("", ""))
            texts = [row.description, comments or ""] + ([notes or ""] if agent else [])
            out[row.number] = snippet([*texts, row.subject], search.positive)
        return out

    # ---- SQLite: FTS5 -----------------------------------------------------------------

    def _match(self, expression: str, agent: bool) -> ColumnElement[bool]:
        text = expression if agent else f"{PUBLIC_COLUMNS} : ({expression})"
        return literal_column("ticket_search").op("MATCH")(text)

    async def _sqlite(self, query: TicketQuery, search: SearchQuery) -> list[Hit]:
        agent = query.sees_internal
        where = filters(query, search)
        negative = " OR ".join(_fts_term(t) for t in search.negative)
        if not search.positive:
            if negative:
                where.append(T.c.number.not_in(
                    select(FTS.c.rowid).where(self._match(negative, agent))))
            return await self._by_recency(query, where)
        expression = " AND ".join(_fts_term(t) for t in search.positive)
        if negative:
            expression = f"({expression}) NOT ({negative})"
        match = self._match(expression, agent)
        score = func.bm25(literal_column("ticket_search"), *FTS_WEIGHTS).label("score")
        candidates = (
            select(T.c.number, score).select_from(FTS.join(T, T.c.number == FTS.c.rowid))
            .where(match, *where).order_by(FTS.c.rowid.desc())
            .limit(SEARCH_CANDIDATES).subquery())
        rows = (await self.conn.execute(
            select(T).join(candidates, candidates.c.number == T.c.number)
            .order_by(candidates.c.score, activity(query.sees_internal).desc(), T.c.number.desc())
            .limit(query.limit))).all()
        snippets = await self._snippets(FTS.c.rowid, rows, search, agent)
        return [Hit(ticket_from(r), snippets.get(r.number)) for r in rows]

    # ---- PostgreSQL: tsvector -------------------------------------------------------

    async def _postgres(self, query: TicketQuery, search: SearchQuery) -> list[Hit]:
        # A generic plan (asyncpg prepares each statement) cannot see which words are
        # asked for; planned for these words, a rare one is read from the GIN index
        # (a sixth of the time at 50,000 tickets).
        await self.conn.execute(SEARCH_PLANS)
        agent = query.sees_internal
        doc = PG.c.agent_doc if agent else PG.c.public_doc
        where = filters(query, search)

        language: ColumnElement[Any] = literal_column(f"'{self.search_language}'::regconfig")

        def tsquery(terms: tuple[Term, ...]) -> Any:
            return func.websearch_to_tsquery(
                language, func.unaccent(" ".join(_web_term(t) for t in terms)))

        if not search.positive:
            for term in search.negative:
                where.append(T.c.number.not_in(
                    select(PG.c.ticket_number).where(doc.op("@@")(
                        tsquery((replace(term, negated=False),))))))
            return await self._by_recency(query, where)
        q = tsquery(search.terms)
        candidates = (_by_grant(query, search, doc.op("@@")(q)) if not agent else
                      select(T.c.number)
                      .select_from(PG.join(T, T.c.number == PG.c.ticket_number))
                      .where(doc.op("@@")(q), *where).order_by(PG.c.ticket_number.desc())
                      .limit(SEARCH_CANDIDATES).subquery())
        score = func.ts_rank(doc, tsquery(search.positive)).label("score")
        rows = (await self.conn.execute(
            select(T, score).join(candidates, candidates.c.number == T.c.number)
            .join(PG, PG.c.ticket_number == T.c.number)
            .order_by(score.desc(), activity(query.sees_internal).desc(), T.c.number.desc())
            .limit(query.limit))).all()
        snippets = await self._snippets(PG.c.ticket_number, rows, search, agent)
        return [Hit(ticket_from(r), snippets.get(r.number)) for r in rows]

