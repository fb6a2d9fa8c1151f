"""promotions across workspaces and with a rollout as the last gate

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.add_column(sa.Column("release", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rollout_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "result_version_id",
                sa.Integer(),
                sa.ForeignKey(
                    "model_versions.id",
                    name="fk_promotions_result_version_id",
                    ondelete="SET NULL",
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.drop_column("result_version_id")
        batch.drop_column("rollout_id")
        batch.drop_column("release")
