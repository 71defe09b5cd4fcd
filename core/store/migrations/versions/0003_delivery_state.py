"""Delivery state: who holds a delivery, whether it may have been sent, merged notices.

- ``leased_by``: the worker whose short lease (renewed by its heartbeat) holds the row;
- ``maybe_sent``: an attempt began and was not recorded as done nor refused outright,
  so the platform may already show it (adapters check before posting again);
- ``merged_from``: the earliest event of a notice that absorbed later changes of the
  same field (``core.coalesce``);
- the dead letters: ``failed`` rows become ``parked`` (``helpthread deliveries``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("leased_by", sa.String(32), nullable=True))
    op.add_column("deliveries", sa.Column("maybe_sent", sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column("deliveries", sa.Column("merged_from", sa.Integer(), nullable=True))
    op.execute("UPDATE deliveries SET state = 'parked' WHERE state = 'failed'")


def downgrade() -> None:
    op.execute("UPDATE deliveries SET state = 'failed' WHERE state = 'parked'")
    op.drop_column("deliveries", "merged_from")
    op.drop_column("deliveries", "maybe_sent")
    op.drop_column("deliveries", "leased_by")
