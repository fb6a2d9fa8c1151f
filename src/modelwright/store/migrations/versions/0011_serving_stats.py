"""serving statistics written by endpoint routers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The latency histogram's buckets (store.latency.SERVING_LATENCY_BOUNDS_MS and one more), as of
# this revision: a migration keeps the columns it made, whatever the code says later.
_BUCKETS = 21


def upgrade() -> None:
    op.create_table(
        "serving_stats",
        sa.Column("router", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(length=64), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("client_errors", sa.BigInteger(), nullable=False),
        sa.Column("server_errors", sa.BigInteger(), nullable=False),
        sa.Column("shed", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        *(sa.Column(f"le_{i:02d}", sa.BigInteger(), nullable=False) for i in range(_BUCKETS)),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("router", "seq", "endpoint_id", "deployment"),
    )
    op.create_index(
        "ix_serving_stats_endpoint_end", "serving_stats", ["endpoint_id", "end_ms"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_serving_stats_endpoint_end", table_name="serving_stats")
    op.drop_table("serving_stats")
