"""durable workflows (jobs, steps, signals, schedules) and domain events with triggers

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-10 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

N = 64
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(N), nullable=False, index=True),
        sa.Column("queue", sa.String(N), nullable=False),
        sa.Column("workspace", sa.String(N), nullable=False),
        sa.Column("environment", sa.String(N), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(N), nullable=False),
        sa.Column("key", sa.String(300), nullable=True, unique=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("wake_at", TS, nullable=True),
        sa.Column("waiting_for", sa.String(N), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_jobs_due", "jobs", ["status", "wake_at"])
    op.create_table(
        "job_steps",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    op.create_table(
        "job_signals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), nullable=False, index=True),
        sa.Column("name", sa.String(N), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("sent_by", sa.String(N), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("consumed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(N), primary_key=True),
        sa.Column("kind", sa.String(N), nullable=False),
        sa.Column("workspace", sa.String(N), nullable=False),
        sa.Column("environment", sa.String(N), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("cron", sa.String(100), nullable=True),
        sa.Column("every_seconds", sa.Float(), nullable=True),
        sa.Column("next_at", TS, nullable=False),
        sa.Column("created_by", sa.String(N), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(N), nullable=False),
        sa.Column("environment", sa.String(N), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("principal", sa.String(N), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_events_kind_id", "events", ["kind", "id"])
    op.create_table(
        "triggers",
        sa.Column("name", sa.String(N), primary_key=True),
        sa.Column("event_kind", sa.String(64), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("workflow", sa.String(N), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(N), nullable=False),
    )


def downgrade() -> None:
    for table in ("triggers", "events", "schedules", "job_signals", "job_steps", "jobs"):
        op.drop_table(table)
