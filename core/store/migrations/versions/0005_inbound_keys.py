"""Inbound keys and thread cursors (issue 10: acknowledged means stored, catch-up).

``inbound_keys``: every identity of an inbound message (envelope id, platform message
id), each pointing at the event it made, pruned after ``core.inbound.KEYS_KEPT``.
``thread_cursors``: per binding, the newest platform message stored from its thread.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_inbound_keys_seen_at"), "inbound_keys", ["seen_at"], unique=False)
    op.create_table(
        "thread_cursors",
        sa.Column("binding_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["binding_id"], ["bindings.id"]),
        sa.PrimaryKeyConstraint("binding_id"),
    )


def downgrade() -> None:
    op.drop_table("thread_cursors")
    op.drop_index(op.f("ix_inbound_keys_seen_at"), table_name="inbound_keys")
    op.drop_table("inbound_keys")
