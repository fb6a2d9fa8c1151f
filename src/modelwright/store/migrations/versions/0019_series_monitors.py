"""monitors of dataset series: a nullable endpoint, a dataset name

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitors") as batch:
        batch.alter_column("endpoint_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("dataset", sa.String(64), nullable=True))


def downgrade() -> None:
    # Series monitors have no endpoint to keep: they go with the column.
    op.execute("DELETE FROM monitors WHERE endpoint_id IS NULL")
    with op.batch_alter_table("monitors") as batch:
        batch.drop_column("dataset")
        batch.alter_column("endpoint_id", existing_type=sa.Integer(), nullable=False)
