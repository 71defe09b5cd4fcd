"""``search.language``: which language the search index stems for, kept in step at start.

The index remembers the language it was built with (``ticket_search_language``,
migration 0010). ``use_search_language`` compares it with the configured one and, when
they differ, re-indexes every ticket in one transaction:

- PostgreSQL: ``language`` is a text search configuration (``pg_ts_config``: ``simple``,
  ``english``, ``german``…); the row is updated and every ``ticket_search`` row rewritten,
  so its trigger rebuilds both ``tsvector``s with the new configuration. Text is
  ``unaccent``-ed before the configuration sees it either way (``cafe`` finds ``café``).
- SQLite: FTS5 has one stemmer, Porter's, for English. ``simple`` is ``unicode61
  remove_diacritics 2``, ``english`` is ``porter unicode61 remove_diacritics 2``; any
  other language is refused (a German desk on SQLite keeps ``simple``, which matches
  exact words). The FTS5 table is created again with the tokenizer and refilled.

Queries must use the same language (``SqlStores(engine, search_language=…)``):
``bot.runtime.build`` calls this first, then builds the stores with it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

DEFAULT_LANGUAGE = "simple"
SQLITE_TOKENIZERS = {
    "simple": "unicode61 remove_diacritics 2",
    "english": "porter unicode61 remove_diacritics 2",
}
_AGENT_TEXT = "('held', 'escalated', 'rated')"  # as migration 0007 (core.search)
_PUBLIC = f"e.audience = 'public' AND e.kind NOT IN {_AGENT_TEXT}"
SQLITE_TABLE = """CREATE VIRTUAL TABLE ticket_search USING fts5(
    subject, description, comments, fields, notes, tokenize = '{tokenizer}')"""
# The FTS5 table's rows from the tickets and their events, as migration 0007 filled it.
SQLITE_FILL = f"""INSERT INTO ticket_search(rowid, subject, description, comments, fields,
                                            notes)
SELECT t.number, t.subject, t.description,
    coalesce((SELECT group_concat(e.body, char(10)) FROM events e
              WHERE e.ticket_number = t.number AND e.body IS NOT NULL AND e.body <> ''
              AND {_PUBLIC}), ''),
    (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(t.fields)),
    coalesce((SELECT group_concat(e.body, char(10)) FROM events e
              WHERE e.ticket_number = t.number AND e.body IS NOT NULL AND e.body <> ''
              AND NOT ({_PUBLIC})), '')
FROM tickets t"""

# PostgreSQL's ``ticket_search`` rows from the tickets and their events, as migration 0007
# filled it (its trigger builds the tsvectors); for bulk loads (bench/search.py).
POSTGRES_FILL = f"""INSERT INTO ticket_search(ticket_number, subject, description, comments,
                                             fields, notes)
SELECT t.number, t.subject, t.description,
    coalesce((SELECT string_agg(e.body, E'\\n' ORDER BY e.id) FROM events e
              WHERE e.ticket_number = t.number AND e.body <> '' AND {_PUBLIC}), ''),
    (SELECT coalesce(string_agg(value, ' '), '') FROM json_each_text(t.fields)),
    coalesce((SELECT string_agg(e.body, E'\\n' ORDER BY e.id) FROM events e
              WHERE e.ticket_number = t.number AND e.body <> ''
              AND NOT ({_PUBLIC})), '')
FROM tickets t"""


class SearchLanguageUnavailable(ValueError):
    """The configured ``search.language`` is not one this database has; ``str()`` is one
    line naming the key and what there is instead."""


async def available_languages(conn: AsyncConnection) -> list[str]:
    """The languages ``search.language`` may name on this connection's database."""
    if conn.dialect.name != "postgresql":
        return sorted(SQLITE_TOKENIZERS)
    rows = await conn.execute(text("SELECT cfgname FROM pg_ts_config ORDER BY cfgname"))
    return [str(r[0]) for r in rows]


async def stored_language(conn: AsyncConnection) -> str:
    """The language the index was built with."""
    found = (await conn.execute(text("SELECT language FROM ticket_search_language"))).scalar()
    return str(found) if found is not None else DEFAULT_LANGUAGE


async def use_search_language(engine: AsyncEngine, language: str) -> bool:
    """Make the search index use ``language`` (see the module's note), re-indexing every
    ticket when it was built with another. Returns whether it re-indexed. Raises
    ``SearchLanguageUnavailable`` (nothing changed) when the database has no such
    language. Safe with several processes starting at once: PostgreSQL locks the row,
    SQLite holds the write lock (``BEGIN IMMEDIATE``)."""
    async with engine.begin() as conn:
        known = await available_languages(conn)
        if language not in known:
            where = ("this PostgreSQL server" if conn.dialect.name == "postgresql"
                     else "SQLite (FTS5 stems English only)")
            raise SearchLanguageUnavailable(
                f"search.language: {language!r} is not a text search language of {where}; "
                f"it has {', '.join(known)}")
        lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
        before = (await conn.execute(text(
            f"SELECT language FROM ticket_search_language{lock}"))).scalar()
        if before == language:
            return False
        await conn.execute(text("UPDATE ticket_search_language SET language = :language"),
                           {"language": language})
        await reindex(conn, language)
        return True


async def reindex(conn: AsyncConnection, language: str) -> None:
    """Rebuild every ticket's index entry for ``language`` (already stored in
    ``ticket_search_language``), inside ``conn``'s transaction."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("UPDATE ticket_search SET subject = subject"))
        return
    await conn.execute(text("DROP TABLE ticket_search"))
    await conn.execute(text(SQLITE_TABLE.format(tokenizer=SQLITE_TOKENIZERS[language])))
    await conn.execute(text(SQLITE_FILL))
