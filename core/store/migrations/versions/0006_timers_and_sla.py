"""Timers and SLA clocks (issue 11: service levels, expiry, close requests, ratings).

``timers``: commands due at a time (``core.timers``), unique per ticket, kind and
fingerprint. ``tickets`` gains ``sla`` (``core.tickets.SlaClock`` as JSON),
``close_requested_at``, ``rating`` and ``rating_comment``. Existing tickets get
clocks that reproduce their stored due times: running since they were opened
while open or in progress, stopped otherwise; the scheduler plans their timers
when it first starts (``Store.tickets_without_timers``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

tickets = sa.table(
    "tickets",
    sa.column("number", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("opened_at", sa.DateTime(timezone=True)),
    sa.column("last_activity_at", sa.DateTime(timezone=True)),
    sa.column("sla", sa.JSON()),
)


def _iso(value: object) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value).replace(" ", "T")
    return text if ("+" in text[10:] or text.endswith("Z")) else text + "+00:00"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sla", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("close_requested_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("rating", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(tickets.c.number, tickets.c.status, tickets.c.opened_at,
                                  tickets.c.last_activity_at)).all()
    for number, status, opened_at, last_activity_at in rows:
        running = status in ("open", "in_progress")
        clock = {"running_since": _iso(opened_at) if running else None,
                 "status_since": _iso(last_activity_at or opened_at)}
        conn.execute(sa.update(tickets).where(tickets.c.number == number).values(sla=clock))
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=120), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_number"], ["tickets.number"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timers_once", "timers", ["ticket_number", "kind", "fingerprint"],
                    unique=True)
    op.create_index("ix_timers_due", "timers", ["fired_at", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timers_due", table_name="timers")
    op.drop_index("ix_timers_once", table_name="timers")
    op.drop_table("timers")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("rating_comment")
        batch.drop_column("rating")
        batch.drop_column("close_requested_at")
        batch.drop_column("sla")
