"""add data exports table

The exports a campaign's Exports page asks for (issue 12): their format, options, state and the
file store key of the finished file.

Revision ID: 0018_add_data_exports_table
Revises: 0017_mask_personal_data_stored_before_masking
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minsheng.db

revision: str = "0018_add_data_exports_table"
down_revision: str | None = "0017_mask_personal_data_stored_before_masking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("labels", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("file_key", sa.String(length=500), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", minsheng.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", minsheng.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_data_exports_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_data_exports_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_data_exports_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports") as batch:
        batch.create_index("ix_data_exports_campaign_id_created_at", ["campaign_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("data_exports") as batch:
        batch.drop_index("ix_data_exports_campaign_id_created_at")
    op.drop_table("data_exports")
