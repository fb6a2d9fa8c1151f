"""retraining actions of monitors and the retrainings they started or skipped

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _monitor(*, unique: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "monitor_id",
        sa.Integer(),
        sa.ForeignKey("monitors.id", ondelete="CASCADE"),
        nullable=False,
        unique=unique,
    )


def _env(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("environments.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "retrain_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _monitor(unique=True),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("output", sa.String(64), nullable=False),
        sa.Column("example", sa.String(64), nullable=True),
        sa.Column("model", sa.String(64), nullable=False),
        _env("train_env_id"),
        _env("target_env_id"),
        sa.Column("alias", sa.String(64), nullable=True),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_started_at", TS, nullable=True),
    )
    op.create_table(
        "retrainings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _monitor(),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column(
            "alert_event_id",
            sa.Integer(),
            sa.ForeignKey("alert_events.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("rule", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("promotion_id", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_retrainings_monitor_id", "retrainings", ["monitor_id", "id"])


def downgrade() -> None:
    op.drop_table("retrainings")
    op.drop_table("retrain_actions")
