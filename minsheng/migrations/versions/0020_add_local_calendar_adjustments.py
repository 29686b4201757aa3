"""add local adjustments to the working-day calendar

Deadlines are counted in working days from the State Council's holiday notices (shipped as
data); an admin may make a day a local holiday or working day (issue 16).

Revision ID: 0020_add_local_calendar_adjustments
Revises: 0019_keep_where_a_response_came_from_hashed
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minsheng.db

revision: str = "0020_add_local_calendar_adjustments"
down_revision: str | None = "0019_keep_where_a_response_came_from_hashed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", minsheng.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_calendar_adjustments_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_adjustments")),
        sa.UniqueConstraint("day", name=op.f("uq_calendar_adjustments_day")),
    )


def downgrade() -> None:
    op.drop_table("calendar_adjustments")
