"""count failed logins for lockout

Failed logins per user name and per client address, and the lockout they cause (issue 11):
one row per hashed name or address, shared by every web node.

Revision ID: 0011_count_failed_logins_for_lockout
Revises: 0010_keep_report_and_evidence_files_by_key
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minsheng.db

revision: str = "0011_count_failed_logins_for_lockout"
down_revision: str | None = "0010_keep_report_and_evidence_files_by_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", minsheng.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", minsheng.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index(
        op.f("ix_login_throttles_window_started_at"),
        "login_throttles",
        ["window_started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttles_window_started_at"), table_name="login_throttles")
    op.drop_table("login_throttles")
