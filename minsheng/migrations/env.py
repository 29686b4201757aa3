"""Alembic environment: every package's models are imported so autogenerate sees the whole schema;
SQLite runs in batch mode so ALTERs work there too."""

from __future__ import annotations

from alembic import context
from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    engine_from_config,
    inspect,
    pool,
)

from minsheng.models import import_all_models

config = context.config
target_metadata = import_all_models()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


# Revision ids are `NNNN_<slug>` (up to 45 characters), longer than the VARCHAR(32) Alembic gives
# `alembic_version.version_num`, which PostgreSQL enforces (SQLite does not): `upgrade head` on a
# new PostgreSQL database failed at revision 0002. The table is created first with a wider column.
VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(128), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _ensure_version_table(connection: Connection) -> None:
    # The inspection autobegins a transaction; it must end here, or Alembic joins it instead of
    # opening its own and the connection's close rolls back every migration it ran (an upgrade
    # of an existing database did nothing, silently).
    if not inspect(connection).has_table("alembic_version"):
        VERSION_TABLE.create(connection)
    connection.commit()


def _run(connection: Connection) -> None:
    _ensure_version_table(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
