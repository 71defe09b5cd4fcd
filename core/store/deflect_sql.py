"""Deflection's reads and writes (``core.deflection``) over the SQL store.

Full text reads migration 0007's index like ``search_sql`` does, with the new ticket's
words joined by OR (each quoted: ``core.search.tokens`` left letters and digits only):
SQLite FTS5 ``bm25`` with the search's column weights, requesters on the public columns
only; PostgreSQL ``ts_rank`` on ``public_doc`` / ``agent_doc``. Semantic reads the
vectors of migration 0008's ``ticket_embeddings`` and ranks them in Python
(``core.semantic.rank``). Both keep to resolved or closed tickets with a resolution
note, visibility applied in the query (``visible_sql``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, func, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.semantic import rank
from core.store.port import DEFLECT_CANDIDATES, SEMANTIC_CANDIDATES
from core.store.rows import ticket_from
from core.store.search_sql import FTS, FTS_WEIGHTS, PG, PUBLIC_COLUMNS, SEARCH_PLANS
from core.store.tables import EmbeddingRow
from core.store.visible_sql import T, visible_to
from core.tickets import DONE, Ticket
from core.visibility import Viewer

_embeddings = EmbeddingRow.__table__
assert isinstance(_embeddings, Table)
EMB: Table = _embeddings


def resolved_and_visible(viewer: Viewer) -> list[ColumnElement[bool]]:
    """Past tickets a deflection may show ``viewer``: resolved or closed, with a
    resolution note, visible to them."""
    return [T.c.status.in_(sorted(s.value for s in DONE)), T.c.resolution.is_not(None),
            visible_to(viewer)]


class DeflectSql:
    conn: AsyncConnection
    dialect: str
    search_language: str  # the index's text search configuration (``search.language``)

    async def similar_tickets(self, words: tuple[str, ...], viewer: Viewer,
                              limit: int) -> list[Ticket]:
        if not words:
            return []
        where = resolved_and_visible(viewer)
        if self.dialect == "postgresql":
            await self.conn.execute(SEARCH_PLANS)
            doc = PG.c.agent_doc if viewer.is_agent else PG.c.public_doc
            language: ColumnElement[Any] = literal_column(f"'{self.search_language}'::regconfig")
            query = func.websearch_to_tsquery(
                language, func.unaccent(" or ".join(f'"{w}"' for w in words)))
            candidates = (
                select(T.c.number).select_from(PG.join(T, T.c.number == PG.c.ticket_number))
                .where(doc.op("@@")(query), *where).order_by(PG.c.ticket_number.desc())
                .limit(DEFLECT_CANDIDATES).subquery())
            score: Any = func.ts_rank(doc, query)
            rows = (await self.conn.execute(
                select(T).join(candidates, candidates.c.number == T.c.number)
                .join(PG, PG.c.ticket_number == T.c.number)
                .order_by(score.desc(), T.c.number.desc()).limit(limit))).all()
            return [ticket_from(r) for r in rows]
        expression = " OR ".join(f'"{w}"' for w in words)
        if not viewer.is_agent:
            expression = f"{PUBLIC_COLUMNS} : ({expression})"
        match = literal_column("ticket_search").op("MATCH")(expression)
        bm25 = func.bm25(literal_column("ticket_search"), *FTS_WEIGHTS).label("score")
        ranked = (
            select(T.c.number, bm25).select_from(FTS.join(T, T.c.number == FTS.c.rowid))
            .where(match, *where).order_by(FTS.c.rowid.desc())
            .limit(DEFLECT_CANDIDATES).subquery())
        rows = (await self.conn.execute(
            select(T).join(ranked, ranked.c.number == T.c.number)
            .order_by(ranked.c.score, T.c.number.desc()).limit(limit))).all()
        return [ticket_from(r) for r in rows]

    async def nearest_tickets(self, vector: bytes, model: str, viewer: Viewer,
                              limit: int) -> list[Ticket]:
        candidates = [(int(r[0]), bytes(r[1])) for r in await self.conn.execute(
            select(EMB.c.ticket_number, EMB.c.vector)
            .join(T, T.c.number == EMB.c.ticket_number)
            .where(EMB.c.model == model, *resolved_and_visible(viewer))
            .order_by(EMB.c.ticket_number.desc()).limit(SEMANTIC_CANDIDATES))]
        best = rank(vector, candidates, limit)
        if not best:
            return []
        found = {r.number: ticket_from(r) for r in await self.conn.execute(
            select(T).where(T.c.number.in_(best)))}
        return [found[n] for n in best if n in found]

    async def add_embedding(self, number: int, model: str, vector: bytes) -> None:
        await self.conn.execute(delete(EMB).where(EMB.c.ticket_number == number,
                                                  EMB.c.model == model))
        await self.conn.execute(insert(EMB).values(ticket_number=number, model=model,
                                                   vector=vector))

    async def without_embedding(self, model: str, limit: int) -> list[Ticket]:
        has = select(EMB.c.ticket_number).where(EMB.c.ticket_number == T.c.number,
                                                 EMB.c.model == model).exists()
        rows = await self.conn.execute(
            select(T).where(~has).order_by(T.c.number.desc()).limit(limit))
        return [ticket_from(r) for r in rows]
