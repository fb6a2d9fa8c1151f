"""soft deletion of runs and experiments: when, and by whom

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in ("runs", "experiments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("deleted_at", TS, nullable=True))
            batch.add_column(sa.Column("deleted_by", sa.String(64), nullable=True))
            batch.create_index(f"ix_{table}_deleted_at", ["deleted_at"])


def downgrade() -> None:
    for table in ("runs", "experiments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_deleted_at")
            batch.drop_column("deleted_by")
            batch.drop_column("deleted_at")
