"""Inserting many rows at the speed of the database driver: COPY on PostgreSQL, one
`executemany` on SQLite, inside the caller's transaction and without ORM objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    constant: Mapping[str, Any] | None = None,
) -> None:
    """Insert `rows` (values of `columns`, already in database form: ints, text, bytes) plus the
    `constant` values shared by every row, in the session's transaction, at the speed of the
    driver: COPY on PostgreSQL, one `executemany` on SQLite.

    SQLAlchemy's per-row parameter processing costs more than the database's own work at a
    million rows (issue 5, point 9), so it is applied once to the constants and skipped for
    the rows; only use this for columns whose types need no conversion.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    fixed: list[Any] = []
    for name, value in (constant or {}).items():
        process = table.c[name].type.bind_processor(dialect)
        fixed.append(process(value) if process is not None and value is not None else value)
    names = [*columns, *(constant or {})]
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    target = dialect.identifier_preparer.format_table(table)
    extra = tuple(fixed)
    if dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row + extra)
        return
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(
        f"INSERT INTO {target} ({quoted}) VALUES ({marks})", [row + extra for row in rows]
    )
