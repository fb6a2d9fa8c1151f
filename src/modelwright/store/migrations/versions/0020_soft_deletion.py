"""soft deletion of runs and experiments: when, and by whom; the last version number a
model or dataset gave, so that a deleted version's number is never given again

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
_NUMBERED = (
    ("registered_models", "model_versions", "model_id"),
    ("datasets", "dataset_versions", "dataset_id"),
)


def upgrade() -> None:
    for table in ("runs", "experiments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("deleted_at", TS, nullable=True))
            batch.add_column(sa.Column("deleted_by", sa.String(64), nullable=True))
            batch.create_index(f"ix_{table}_deleted_at", ["deleted_at"])
    for table, versions, key in _NUMBERED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("last_version", sa.Integer(), nullable=False, server_default="0")
            )
        # The names are the constants above, not input.
        op.execute(
            f"UPDATE {table} SET last_version = (SELECT COALESCE(MAX(v.version), 0) "  # noqa: S608
            f"FROM {versions} v WHERE v.{key} = {table}.id)"
        )


def downgrade() -> None:
    for table, _, _ in _NUMBERED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("last_version")
    for table in ("runs", "experiments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_deleted_at")
            batch.drop_column("deleted_by")
            batch.drop_column("deleted_at")
