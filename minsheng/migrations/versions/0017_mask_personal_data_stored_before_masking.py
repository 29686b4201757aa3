"""mask personal data stored before masking

Text copied from residents' suggestions into recommendations and golden-idea citations, staff
feedback, and the comments of satisfaction evaluations are stored masked since issue 11
(`minsheng.masking`); rows written before then still hold phone numbers, e-mail addresses and ID
numbers verbatim, and pages, reports and department PDFs show those columns as stored. This
rewrites them with the same masking, which leaves already masked text unchanged, so running it
on a database that has nothing to mask changes nothing. Masking cannot be undone: the downgrade
keeps the masked text.

Revision ID: 0017_mask_personal_data_stored_before_masking
Revises: 0016_give_campaigns_an_owner_and_co_organizers
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_mask_personal_data_stored_before_masking"
down_revision: str | None = "0016_give_campaigns_an_owner_and_co_organizers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns that hold text a resident wrote, or staff wrote about it, outside the responses.
COLUMNS = {
    "recommendations": ("title", "text", "public_feedback"),
    "golden_ideas": ("citation",),
    "recommendation_evaluations": ("comment",),
}


def upgrade() -> None:
    from minsheng.masking import masked

    connection = op.get_bind()
    for table, columns in COLUMNS.items():
        rows = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns))
        last = 0
        while True:
            # In batches of ids, so a large table is never held in memory at once.
            batch = connection.execute(
                sa.select(rows).where(rows.c.id > last).order_by(rows.c.id).limit(1000)
            ).all()
            if not batch:
                break
            for row in batch:
                changed = {
                    c: new
                    for c in columns
                    if (old := getattr(row, c)) and (new := masked(old)) != old
                }
                if changed:
                    connection.execute(rows.update().where(rows.c.id == row.id).values(changed))
            last = batch[-1].id


def downgrade() -> None:
    """Nothing to undo: the personal data is gone by design."""
