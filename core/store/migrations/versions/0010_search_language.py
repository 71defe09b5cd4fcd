"""The search index's language and two indexes for requesters' searches (issue 12).

The language is ``search.language``; the two indexes are those a requester's search
walks newest first: her own tickets (``requester_key, number``) and her org's shared
ones (``requester_org, visibility, number``).

``ticket_search_language`` holds one row: the text search configuration the index was
built with — ``simple`` here, as migration 0007 built it. ``helpthread run`` compares it
with ``search.language`` at start and re-indexes when they differ
(``core.store.search_language``). On PostgreSQL the trigger function that builds
``public_doc``/``agent_doc`` now reads the configuration from this row instead of
naming ``simple``; on SQLite the language is FTS5's tokenizer, chosen when the table is
(re)created.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.store.search_language import SQLITE_FILL, SQLITE_TABLE, SQLITE_TOKENIZERS

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_DOCS = """CREATE OR REPLACE FUNCTION helpthread_search_docs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    language regconfig := {language};
BEGIN
    NEW.public_doc :=
        setweight(to_tsvector(language, helpthread_search_words(NEW.subject)), 'A')
        || setweight(to_tsvector(language, helpthread_search_words(NEW.description)), 'B')
        || setweight(to_tsvector(language, helpthread_search_words(NEW.comments)), 'C');
    NEW.agent_doc := NEW.public_doc
        || setweight(to_tsvector(language, helpthread_search_words(NEW.fields)), 'B')
        || setweight(to_tsvector(language, helpthread_search_words(NEW.notes)), 'C');
    RETURN NEW;
END $$"""


def upgrade() -> None:
    # A requester's search walks each of her grants newest first (core.store.search_sql).
    op.create_index("ix_tickets_requester_number", "tickets", ["requester_key", "number"])
    op.create_index("ix_tickets_org_shared", "tickets",
                    ["requester_org", "visibility", "number"])
    op.execute("CREATE TABLE ticket_search_language (language varchar(63) NOT NULL)")
    op.execute("INSERT INTO ticket_search_language (language) VALUES ('simple')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DOCS.format(
            language="(SELECT language FROM ticket_search_language LIMIT 1)::regconfig"))


def downgrade() -> None:
    """Back to 0007's ``simple`` index, rebuilt when another language was in use."""
    bind = op.get_bind()
    stemmed = bind.execute(sa.text("SELECT language FROM ticket_search_language")
                           ).scalar() not in (None, "simple")
    if bind.dialect.name == "postgresql":
        op.execute(_DOCS.format(language="'simple'::regconfig"))
        if stemmed:
            op.execute("UPDATE ticket_search SET subject = subject")
    elif stemmed:
        op.execute("DROP TABLE ticket_search")
        op.execute(SQLITE_TABLE.format(tokenizer=SQLITE_TOKENIZERS["simple"]))
        op.execute(SQLITE_FILL)
    op.execute("DROP TABLE ticket_search_language")
    op.drop_index("ix_tickets_org_shared", table_name="tickets")
    op.drop_index("ix_tickets_requester_number", table_name="tickets")
