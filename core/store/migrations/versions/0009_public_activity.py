"""The newest activity a requester may see (issue 12: lists and the queue).

``tickets.public_activity_at`` is when the ticket last had an event of the public
audience; ``last_activity_at`` also moves on internal notes, so a requester's list
sorted by it would show that the team wrote something. A requester's, a watcher's and
an org member's lists sort by ``public_activity_at`` (indexed); agents' by
``last_activity_at``. Existing tickets take their newest public event's time (their
opening time when they have none).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("public_activity_at", sa.DateTime(timezone=True),
                                       nullable=True))
    op.execute(
        "UPDATE tickets SET public_activity_at = coalesce("
        "(SELECT max(events.at) FROM events WHERE events.ticket_number = tickets.number "
        "AND events.audience = 'public'), opened_at)")
    op.create_index("ix_tickets_public_activity_at", "tickets", ["public_activity_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_public_activity_at", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("public_activity_at")
