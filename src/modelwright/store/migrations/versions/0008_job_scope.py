"""the action that governs a job, and an index on its scope

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Recorded when the job starts: a process that cancels or retries it may not have
    # imported the workflow's code, so it cannot ask the workflow which action it declared.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("action", sa.String(64), nullable=False, server_default="pipeline.run")
        )
    op.create_index("ix_jobs_scope", "jobs", ["workspace", "environment", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_scope", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("action")
