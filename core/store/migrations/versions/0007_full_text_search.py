"""Full-text search and a watchers table (issue 12: search).

``ticket_search`` holds one row per ticket: ``subject``, ``description``, ``comments``
(the text of public events a requester may read), ``fields`` (every category field's
value) and ``notes`` (internal notes, and the internal parts of public events: a hold's
or an escalation's reason, a rating's comment). Requesters match the first three only;
agents match all five. The migration cannot know the config, so which fields are
sensitive is unknown here: every field is indexed in ``fields``, which only agents
(who may read sensitive fields) match, and no snippet is ever cut from it.

- SQLite: an FTS5 table (``unicode61 remove_diacritics 2``), rowid = ticket number.
- PostgreSQL: a table with the same text columns and two ``tsvector``s (``public_doc``
  weighted subject A, description B, comments C; ``agent_doc`` adds fields B and notes
  C), each with a GIN index, built with the ``simple`` configuration over
  ``unaccent``-ed text whose punctuation is turned into spaces (so both engines split
  words alike: ``lena@example.test`` is three words, ``café`` is ``cafe``).

Triggers keep both in step in the transaction that changes a ticket or adds an event
(so imports are covered too). ``watchers`` (ticket_number, watcher_key) is filled from
``tickets.watchers`` and kept in step by a trigger on it; the visibility filter reads
it through its index instead of a ``LIKE`` over ``tickets.watcher_keys``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Event kinds whose text is agents' only although the event itself is public: the
# payload's INTERNAL_FIELDS (core.events: Held, Escalated) and ratings (agents only).
_AGENT_TEXT = "('held', 'escalated', 'rated')"
_PUBLIC_EVENT = f"new.audience = 'public' AND new.kind NOT IN {_AGENT_TEXT}"

SQLITE = [
    """CREATE VIRTUAL TABLE ticket_search USING fts5(
        subject, description, comments, fields, notes,
        tokenize = 'unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER ticket_search_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO ticket_search(rowid, subject, description, comments, fields, notes)
        VALUES (new.number, new.subject, new.description, '',
                (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.fields)),
                '');
        INSERT INTO watchers(ticket_number, watcher_key)
        SELECT DISTINCT new.number, json_extract(value, '$[0]') FROM json_each(new.watchers);
    END""",
    """CREATE TRIGGER ticket_search_update AFTER UPDATE ON tickets
    WHEN new.subject IS NOT old.subject OR new.description IS NOT old.description
         OR new.fields IS NOT old.fields BEGIN
        UPDATE ticket_search SET subject = new.subject, description = new.description,
            fields = (SELECT coalesce(group_concat(value, ' '), '')
                      FROM json_each(new.fields))
        WHERE rowid = new.number;
    END""",
    """CREATE TRIGGER watchers_update AFTER UPDATE ON tickets
    WHEN new.watcher_keys IS NOT old.watcher_keys BEGIN
        DELETE FROM watchers WHERE ticket_number = new.number;
        INSERT INTO watchers(ticket_number, watcher_key)
        SELECT DISTINCT new.number, json_extract(value, '$[0]') FROM json_each(new.watchers);
    END""",
    """CREATE TRIGGER ticket_search_delete BEFORE DELETE ON tickets BEGIN
        DELETE FROM ticket_search WHERE rowid = old.number;
        DELETE FROM watchers WHERE ticket_number = old.number;
    END""",
    f"""CREATE TRIGGER ticket_search_event AFTER INSERT ON events
    WHEN new.body IS NOT NULL AND new.body <> '' BEGIN
        UPDATE ticket_search SET
            comments = CASE WHEN {_PUBLIC_EVENT} THEN comments || char(10) || new.body
                            ELSE comments END,
            notes = CASE WHEN {_PUBLIC_EVENT} THEN notes
                         ELSE notes || char(10) || new.body END
        WHERE rowid = new.ticket_number;
    END""",
    """INSERT INTO ticket_search(rowid, subject, description, comments, fields, notes)
    SELECT t.number, t.subject, t.description,
        coalesce((SELECT group_concat(e.body, char(10)) FROM events e
                  WHERE e.ticket_number = t.number AND e.body IS NOT NULL AND e.body <> ''
                  AND e.audience = 'public' AND e.kind NOT IN """ + _AGENT_TEXT + """), ''),
        (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(t.fields)),
        coalesce((SELECT group_concat(e.body, char(10)) FROM events e
                  WHERE e.ticket_number = t.number AND e.body IS NOT NULL AND e.body <> ''
                  AND NOT (e.audience = 'public' AND e.kind NOT IN """ + _AGENT_TEXT
    + """)), '')
    FROM tickets t""",
    """INSERT INTO watchers(ticket_number, watcher_key)
    SELECT DISTINCT t.number, json_extract(w.value, '$[0]')
    FROM tickets t, json_each(t.watchers) w""",
]

_PUBLIC_ROW = f"e.audience = 'public' AND e.kind NOT IN {_AGENT_TEXT}"
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # Words as SQLite's unicode61 splits them: accents off, punctuation is a space.
    """CREATE FUNCTION helpthread_search_words(value text) RETURNS text
    LANGUAGE sql STABLE AS $$
        SELECT regexp_replace(unaccent(coalesce(value, '')), '[^[:alnum:]]+', ' ', 'g')
    $$""",
    """CREATE TABLE ticket_search (
        ticket_number integer PRIMARY KEY REFERENCES tickets(number) ON DELETE CASCADE,
        subject text NOT NULL DEFAULT '', description text NOT NULL DEFAULT '',
        comments text NOT NULL DEFAULT '', fields text NOT NULL DEFAULT '',
        notes text NOT NULL DEFAULT '',
        public_doc tsvector, agent_doc tsvector)""",
    "CREATE INDEX ix_ticket_search_public ON ticket_search USING gin (public_doc)",
    "CREATE INDEX ix_ticket_search_agent ON ticket_search USING gin (agent_doc)",
    """CREATE FUNCTION helpthread_search_docs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.public_doc :=
            setweight(to_tsvector('simple', helpthread_search_words(NEW.subject)), 'A')
            || setweight(to_tsvector('simple', helpthread_search_words(NEW.description)), 'B')
            || setweight(to_tsvector('simple', helpthread_search_words(NEW.comments)), 'C');
        NEW.agent_doc := NEW.public_doc
            || setweight(to_tsvector('simple', helpthread_search_words(NEW.fields)), 'B')
            || setweight(to_tsvector('simple', helpthread_search_words(NEW.notes)), 'C');
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER ticket_search_docs BEFORE INSERT OR UPDATE ON ticket_search
    FOR EACH ROW EXECUTE FUNCTION helpthread_search_docs()""",
    """CREATE FUNCTION helpthread_ticket_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO ticket_search(ticket_number, subject, description, fields)
            VALUES (NEW.number, NEW.subject, NEW.description,
                    (SELECT coalesce(string_agg(value, ' '), '')
                     FROM json_each_text(NEW.fields)));
        ELSIF NEW.subject IS DISTINCT FROM OLD.subject
              OR NEW.description IS DISTINCT FROM OLD.description
              OR NEW.fields::text IS DISTINCT FROM OLD.fields::text THEN
            UPDATE ticket_search SET subject = NEW.subject, description = NEW.description,
                fields = (SELECT coalesce(string_agg(value, ' '), '')
                          FROM json_each_text(NEW.fields))
            WHERE ticket_number = NEW.number;
        END IF;
        IF TG_OP = 'INSERT' OR NEW.watcher_keys IS DISTINCT FROM OLD.watcher_keys THEN
            DELETE FROM watchers WHERE ticket_number = NEW.number;
            INSERT INTO watchers(ticket_number, watcher_key)
            SELECT DISTINCT NEW.number, w ->> 0 FROM json_array_elements(NEW.watchers) w;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER ticket_search_ticket AFTER INSERT OR UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION helpthread_ticket_changed()""",
    f"""CREATE FUNCTION helpthread_event_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {_PUBLIC_EVENT.replace('new.', 'NEW.')} THEN
            UPDATE ticket_search SET comments = comments || E'\\n' || NEW.body
            WHERE ticket_number = NEW.ticket_number;
        ELSE
            UPDATE ticket_search SET notes = notes || E'\\n' || NEW.body
            WHERE ticket_number = NEW.ticket_number;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER ticket_search_event AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.body IS NOT NULL AND NEW.body <> '')
    EXECUTE FUNCTION helpthread_event_added()""",
    f"""INSERT INTO ticket_search(ticket_number, subject, description, comments, fields,
                                  notes)
    SELECT t.number, t.subject, t.description,
        coalesce((SELECT string_agg(e.body, E'\\n' ORDER BY e.id) FROM events e
                  WHERE e.ticket_number = t.number AND e.body <> '' AND {_PUBLIC_ROW}), ''),
        (SELECT coalesce(string_agg(value, ' '), '') FROM json_each_text(t.fields)),
        coalesce((SELECT string_agg(e.body, E'\\n' ORDER BY e.id) FROM events e
                  WHERE e.ticket_number = t.number AND e.body <> ''
                  AND NOT ({_PUBLIC_ROW})), '')
    FROM tickets t""",
    """INSERT INTO watchers(ticket_number, watcher_key)
    SELECT DISTINCT t.number, w ->> 0 FROM tickets t, json_array_elements(t.watchers) w""",
]


def upgrade() -> None:
    op.create_table(
        "watchers",
        sa.Column("ticket_number", sa.Integer(), nullable=False),
        sa.Column("watcher_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["ticket_number"], ["tickets.number"]),
        sa.PrimaryKeyConstraint("ticket_number", "watcher_key"),
    )
    op.create_index("ix_watchers_key", "watchers", ["watcher_key", "ticket_number"])
    statements = POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ticket_search_event ON events")
        op.execute("DROP TRIGGER ticket_search_ticket ON tickets")
        op.execute("DROP TABLE ticket_search")
        op.execute("DROP FUNCTION helpthread_event_added()")
        op.execute("DROP FUNCTION helpthread_ticket_changed()")
        op.execute("DROP FUNCTION helpthread_search_docs()")
        op.execute("DROP FUNCTION helpthread_search_words(text)")
    else:
        for trigger in ("ticket_search_event", "ticket_search_delete", "watchers_update",
                        "ticket_search_update", "ticket_search_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE ticket_search")
    op.drop_index("ix_watchers_key", table_name="watchers")
    op.drop_table("watchers")
