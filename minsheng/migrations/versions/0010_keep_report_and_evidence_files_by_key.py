"""keep report and evidence files by key

Report files were stored by absolute local path (`reports.file_path`), and evidence files as bare
names in `<INSTANCE_PATH>/recommendations/<assignment id>/`, so only the node that wrote a file
could serve it. Both move into the file store (`minsheng.files`, configured by `FILE_STORE`):
each file is copied there and the rows keep its key. The old files are left where they were and
can be deleted once the upgrade is committed. A report whose file is already gone is marked
failed, so its page offers a new request instead of a download that answers 404.

Downgrading copies the files back to where the previous code looked for them
(`<INSTANCE_PATH>/reports/<slug>-report-<id>.pdf`, the old default REPORT_DIR).

Revision ID: 0010_keep_report_and_evidence_files_by_key
Revises: 0009_add_contact_uploads_waiting_for_import
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

from minsheng.files import FileStore, MissingFileError, make_store

revision: str = "0010_keep_report_and_evidence_files_by_key"
down_revision: str | None = "0009_add_contact_uploads_waiting_for_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORTS = sa.table(
    "reports",
    sa.column("id", sa.Integer),
    sa.column("campaign_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("error", sa.String),
    sa.column("file_key", sa.String),
    sa.column("file_path", sa.String),
)
CAMPAIGNS = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("slug", sa.String))
UPDATES = sa.table(
    "progress_updates",
    sa.column("id", sa.Integer),
    sa.column("assignment_id", sa.Integer),
    sa.column("attachments", sa.JSON),
)


def _settings() -> Mapping[str, Any]:
    # `minsheng db upgrade` runs inside the app; a bare `alembic upgrade` reads MINSHENG_*.
    from flask import current_app, has_app_context

    if has_app_context():
        return dict(current_app.config)
    from minsheng.config import load_settings

    return load_settings()


def _report_rows(column: str) -> list[sa.Row[Any]]:
    stored = REPORTS.c[column]
    query = (
        sa.select(REPORTS.c.id, CAMPAIGNS.c.slug, stored)
        .join(CAMPAIGNS, CAMPAIGNS.c.id == REPORTS.c.campaign_id)
        .where(stored.is_not(None))
    )
    return list(op.get_bind().execute(query))


def _mark_lost(report_id: int, column: str, where: str) -> None:
    op.get_bind().execute(
        REPORTS.update()
        .where(REPORTS.c.id == report_id)
        .values(
            {
                column: None,
                "status": "failed",
                "error": f"its file {where} was not found when reports moved; "
                "request the report again",
            }
        )
    )


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.alter_column(
            "file_path",
            new_column_name="file_key",
            existing_type=sa.String(length=500),
            existing_nullable=True,
        )
    settings = _settings()
    store, instance = make_store(settings), Path(str(settings["INSTANCE_PATH"]))
    bind = op.get_bind()
    for report_id, slug, path in _report_rows("file_key"):
        source = Path(path)
        if not source.is_file():
            _mark_lost(report_id, "file_key", path)
            continue
        key = f"reports/{slug}/{report_id}.pdf"
        with source.open("rb") as stream:
            store.put(key, stream)
        bind.execute(REPORTS.update().where(REPORTS.c.id == report_id).values(file_key=key))

    for update_id, assignment_id, names in list(bind.execute(sa.select(UPDATES))):
        keys = []
        for name in names or []:
            key = f"evidence/{assignment_id}/{name}"
            source = instance / "recommendations" / str(assignment_id) / name
            if source.is_file():
                with source.open("rb") as stream:
                    store.put(key, stream)
            keys.append(key)
        if keys:
            bind.execute(UPDATES.update().where(UPDATES.c.id == update_id).values(attachments=keys))


def _copy_out(store: FileStore, key: str, target: Path) -> bool:
    try:
        stored = store.open(key)
    except MissingFileError:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with stored, target.open("wb") as out:
        while chunk := stored.stream.read(1 << 20):
            out.write(chunk)
    return True


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.alter_column(
            "file_key",
            new_column_name="file_path",
            existing_type=sa.String(length=500),
            existing_nullable=True,
        )
    settings = _settings()
    store, instance = make_store(settings), Path(str(settings["INSTANCE_PATH"]))
    bind = op.get_bind()
    for report_id, slug, key in _report_rows("file_path"):
        target = instance / "reports" / f"{slug}-report-{report_id}.pdf"
        if not _copy_out(store, key, target):
            _mark_lost(report_id, "file_path", key)
            continue
        bind.execute(
            REPORTS.update().where(REPORTS.c.id == report_id).values(file_path=str(target))
        )

    for update_id, assignment_id, keys in list(bind.execute(sa.select(UPDATES))):
        names = []
        for key in keys or []:
            name = key.rsplit("/", 1)[-1]
            _copy_out(store, key, instance / "recommendations" / str(assignment_id) / name)
            names.append(name)
        if names:
            bind.execute(
                UPDATES.update().where(UPDATES.c.id == update_id).values(attachments=names)
            )
