"""keep where a response came from, hashed, and whether it filled the honeypot

Abuse of public links (issue 11): a keyed hash of the client address (never the address), a
fingerprint of the normalised answers, and the honeypot mark, so the quality screen can flag
near-duplicates and bots. Existing responses have neither hash and no honeypot.

Revision ID: 0019_keep_where_a_response_came_from_hashed
Revises: 0018_add_data_exports_table
Create Date: 2026-12-07 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_keep_where_a_response_came_from_hashed"
down_revision: str | None = "0018_add_data_exports_table"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("address_hash", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("answers_fingerprint", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("honeypot", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("honeypot")
        batch.drop_column("answers_fingerprint")
        batch.drop_column("address_hash")
