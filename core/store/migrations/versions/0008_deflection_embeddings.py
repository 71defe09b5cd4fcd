"""Ticket embeddings for deflection's semantic ranking (issue 12: deflection).

``ticket_embeddings`` (ticket_number, model) → vector: a new ticket's sentence embedding
(``core.semantic``) under the model that made it, written in the transaction that opens
it when ``[deflection] ranking = "semantic"``. Full-text deflection needs nothing new:
it reads migration 0007's index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_embeddings",
        sa.Column("ticket_number", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_number"], ["tickets.number"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model", "ticket_number"),
    )


def downgrade() -> None:
    op.drop_table("ticket_embeddings")
