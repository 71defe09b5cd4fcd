"""PostgreSQL takes ticket numbers from a sequence, no longer from the ``counters`` row.

The row was locked from the moment a ticket took its number until the transaction
committed, so openings on PostgreSQL queued one behind another (issue 10, point 10).
``nextval`` locks nothing; the desk takes the number after every check that can
refuse the ticket, so a number is skipped only when a transaction fails after taking
it (the database or the process dies mid-way) or PostgreSQL itself crashes (a
sequence may then skip up to 32 values). SQLite keeps the row: its writers are
serialised by ``BEGIN IMMEDIATE`` anyway, and there a rollback gives the number back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEQUENCE = "ticket_numbers"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE SEQUENCE {SEQUENCE} AS integer MINVALUE 1 NO CYCLE")
    # Next is one past both the counter and the highest stored number.
    op.execute(sa.text(
        f"SELECT setval('{SEQUENCE}', GREATEST(1, "
        "(SELECT value FROM counters WHERE name = 'ticket'), "
        "(SELECT COALESCE(MAX(number), 0) FROM tickets)), "
        "GREATEST((SELECT value FROM counters WHERE name = 'ticket'), "
        "(SELECT COALESCE(MAX(number), 0) FROM tickets)) > 0)"))
    # No stale second source of numbers: the row comes back on downgrade.
    op.execute("DELETE FROM counters WHERE name = 'ticket'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text(
        "INSERT INTO counters (name, value) SELECT 'ticket', "
        f"CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {SEQUENCE}"))
    op.execute(f"DROP SEQUENCE {SEQUENCE}")
