"""object claims and the index of production bytes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_claims",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["principal_id"], ["principals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("digest", "principal_id"),
    )
    op.create_table(
        "production_objects",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"], ["dataset_versions.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("digest"),
    )
    # Versions registered before this revision: their top-level objects (a file, or a
    # directory's manifest); the files inside older directories are not indexed.
    op.execute(
        "INSERT INTO production_objects (digest, dataset_version_id) "
        "SELECT v.digest, MIN(v.id) FROM dataset_versions v "
        "JOIN datastores d ON d.id = v.datastore_id "
        "WHERE d.classification = 'production' GROUP BY v.digest"
    )


def downgrade() -> None:
    op.drop_table("production_objects")
    op.drop_table("object_claims")
