"""chain audit events and refuse changes

Every audit event gets `prev_hash` (the hash of the event before it, unique, so the chain can not
fork) and `hash` (SHA-256 of its canonical fields, `minsheng.audit.event_hash`); the events
already stored are chained in id order. Triggers then refuse UPDATE and DELETE on the table (and
TRUNCATE on PostgreSQL). On SQLite a later batch migration of `audit_events` recreates the table
and so drops its triggers: such a migration must create them again (`create_triggers`).

Revision ID: 0013_chain_audit_events_and_refuse_changes
Revises: 0012_add_job_leases_and_the_outbox
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minsheng.db
from minsheng.audit import GENESIS, event_hash

revision: str = "0013_chain_audit_events_and_refuse_changes"
down_revision: str | None = "0012_add_job_leases_and_the_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("at", minsheng.db.UTCDateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
REFUSAL = "audit_events is append-only"


def create_triggers() -> None:
    """The triggers that refuse changing or removing an audit event."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation} "
            f"ON audit_events BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {operation} refused'); END"
        )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def _chain_existing_events() -> None:
    bind = op.get_bind()
    previous = GENESIS
    for row in bind.execute(sa.select(EVENTS).order_by(EVENTS.c.id)).mappings().all():
        own = event_hash(
            at=row["at"],
            actor_id=row["actor_id"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            detail=row["detail"],
            prev_hash=previous,
        )
        bind.execute(
            EVENTS.update()
            .where(EVENTS.c.id == row["id"])
            .values(prev_hash=previous, hash=own)
        )
        previous = own


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_audit_events_prev_hash"), ["prev_hash"]
        )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_prev_hash"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
