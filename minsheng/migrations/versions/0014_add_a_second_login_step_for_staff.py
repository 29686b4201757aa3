"""add a second login step for staff

The TOTP secret of a staff account and the last time step whose code was used (issue 11): both
empty for every existing account, which keeps logging in with its password alone until it enrols.

Revision ID: 0014_add_a_second_login_step_for_staff
Revises: 0013_chain_audit_events_and_refuse_changes
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_add_a_second_login_step_for_staff"
down_revision: str | None = "0013_chain_audit_events_and_refuse_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
