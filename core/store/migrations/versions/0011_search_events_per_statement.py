"""PostgreSQL: the search index takes an ``INSERT`` of events in one step (issue 12,
import rate).

Migration 0007's row trigger appended each event's text to its ticket's
``ticket_search`` row with an ``UPDATE`` of its own, and each ``UPDATE`` rebuilt both
``tsvector``s of the whole ticket: an import's ticket with four commented, noted or
resolved events had its document built five times — 70 % of the server's time in an
import (bench/export.py). Now one statement-level trigger reads the statement's new
events (a transition table) and updates each ticket they touch once, appending their
texts in id order exactly as the row trigger did (``"\\n" || body``; public text to
``comments``, the rest to ``notes``). A desk that adds one event per statement is
indexed as before. SQLite's FTS5 triggers are unchanged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_AGENT_TEXT = "('held', 'escalated', 'rated')"  # as in 0007: their text is internal
_PUBLIC = f"a.audience = 'public' AND a.kind NOT IN {_AGENT_TEXT}"

UPGRADE = [
    "DROP TRIGGER ticket_search_event ON events",
    "DROP FUNCTION helpthread_event_added()",
    f"""CREATE FUNCTION helpthread_events_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE ticket_search s
        SET comments = s.comments || added.comments, notes = s.notes || added.notes
        FROM (SELECT a.ticket_number,
                     coalesce(string_agg(E'\\n' || a.body, '' ORDER BY a.id)
                              FILTER (WHERE {_PUBLIC}), '') AS comments,
                     coalesce(string_agg(E'\\n' || a.body, '' ORDER BY a.id)
                              FILTER (WHERE ({_PUBLIC}) IS NOT TRUE), '') AS notes
              FROM added_events a
              WHERE a.body IS NOT NULL AND a.body <> ''
              GROUP BY a.ticket_number) added
        WHERE s.ticket_number = added.ticket_number;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER ticket_search_events AFTER INSERT ON events
    REFERENCING NEW TABLE AS added_events
    FOR EACH STATEMENT EXECUTE FUNCTION helpthread_events_added()""",
]

DOWNGRADE = [
    "DROP TRIGGER ticket_search_events ON events",
    "DROP FUNCTION helpthread_events_added()",
    f"""CREATE FUNCTION helpthread_event_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {_PUBLIC.replace('a.', 'NEW.')} THEN
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
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
