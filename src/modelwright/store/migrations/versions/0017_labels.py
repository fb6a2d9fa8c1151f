"""ground-truth labels of captured requests; options of monitors

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "endpoint_id",
            sa.Integer(),
            sa.ForeignKey("endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("endpoint_id", "request_id"),
    )
    op.create_index("ix_labels_endpoint_received", "labels", ["endpoint_id", "received_at"])
    with op.batch_alter_table("monitors") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitors") as batch:
        batch.drop_column("options")
    op.drop_table("labels")
