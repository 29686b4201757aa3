"""give campaigns an owner and co-organizers

Who may run a campaign (issue 11): its owner and co-organizers. Existing campaigns keep no owner,
which leaves them open to every organizer as before until one is set.

Revision ID: 0016_give_campaigns_an_owner_and_co_organizers
Revises: 0015_end_sessions_at_logout
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_give_campaigns_an_owner_and_co_organizers"
down_revision: str | None = "0015_end_sessions_at_logout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_campaigns_owner_id_users", "users", ["owner_id"], ["id"])
    op.create_table(
        "campaign_organizers",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_organizers_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_campaign_organizers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "user_id", name=op.f("pk_campaign_organizers")),
    )


def downgrade() -> None:
    op.drop_table("campaign_organizers")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint("fk_campaigns_owner_id_users", type_="foreignkey")
        batch.drop_column("owner_id")
