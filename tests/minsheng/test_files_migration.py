"""Migration 0010 moves report and evidence files that already exist into the file store.

A database of its own is filled at head, taken down to 0009 (files back at their old paths,
rows holding paths and bare names, as the previous code left them), then upgraded again: every
row must end up holding a key whose stored bytes are the original ones, and a report whose file
vanished is marked failed instead of offering a download that answers 404.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask

from exporters.models import Report
from minsheng.db import get_session
from minsheng.dbtool import alembic_config, upgrade
from minsheng.files import make_store
from recommendations.models import Assignment, ProgressUpdate

BEFORE = "0009_add_contact_uploads_waiting_for_import"
KEPT, LOST = b"%PDF-1.7 kept report", b"%PDF-1.7 lost report"


@pytest.fixture()
def filled(make_app: Any, tmp_path: Path) -> Iterator[tuple[Flask, dict[str, int]]]:
    """An app on a new SQLite database at head with two reports and one evidence upload."""
    from tests.factories import CampaignFactory, DepartmentFactory, RecommendationFactory

    url = f"sqlite:///{tmp_path / 'migrate.sqlite'}"
    upgrade(url)
    app = make_app(DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "instance"))
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory()
        kept = Report(campaign=campaign, status="done", file_key=f"reports/{campaign.slug}/k.pdf")
        lost = Report(campaign=campaign, status="done", file_key=f"reports/{campaign.slug}/l.pdf")
        assignment = Assignment(
            recommendation=RecommendationFactory(campaign=campaign),
            department=DepartmentFactory(),
            deadline=date(2026, 12, 31),
        )
        session.add_all([kept, lost, assignment])
        session.flush()
        update = ProgressUpdate(
            note="已完成站点改造", attachments=[f"evidence/{assignment.id}/photo.jpg"]
        )
        assignment.updates.append(update)
        session.flush()
        store = make_store(app.config)
        store.put(kept.file_key, _stream(KEPT))
        store.put(lost.file_key, _stream(LOST))
        store.put(update.attachments[0], _stream(b"JPEG evidence"))
        session.commit()
        ids = {"kept": kept.id, "lost": lost.id, "update": update.id, "assignment": assignment.id}
        session.close()
    yield app, ids


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def _rows(app: Flask, sql: str) -> dict[int, Any]:
    engine = sa.create_engine(app.config["DATABASE_URL"])
    with engine.connect() as conn:
        rows = {row[0]: row[1:] for row in conn.execute(sa.text(sql))}
    engine.dispose()
    return rows


def _read(app: Flask, key: str) -> bytes:
    with make_store(app.config).open(key) as stored:
        return bytes(stored.stream.read())


def test_downgrade_puts_files_back_where_the_previous_code_looked(filled):
    app, ids = filled
    instance = Path(app.config["INSTANCE_PATH"])
    with app.app_context():
        command.downgrade(alembic_config(app.config["DATABASE_URL"]), BEFORE)

    reports = _rows(app, "SELECT id, file_path, status FROM reports")
    kept_path = Path(reports[ids["kept"]][0])
    assert kept_path.parent == instance / "reports"
    assert kept_path.read_bytes() == KEPT
    updates = _rows(app, "SELECT id, attachments FROM progress_updates")
    assert "photo.jpg" in str(updates[ids["update"]][0])
    evidence = instance / "recommendations" / str(ids["assignment"]) / "photo.jpg"
    assert evidence.read_bytes() == b"JPEG evidence"


def test_upgrade_moves_existing_files_into_the_store_and_fails_reports_whose_file_is_gone(filled):
    app, ids = filled
    url = app.config["DATABASE_URL"]
    with app.app_context():
        command.downgrade(alembic_config(url), BEFORE)
    reports = _rows(app, "SELECT id, file_path FROM reports")
    Path(reports[ids["lost"]][0]).unlink()
    store_dir = Path(app.config["INSTANCE_PATH"]) / "files"
    for stored in sorted(store_dir.rglob("*"), reverse=True):
        stored.unlink() if stored.is_file() else stored.rmdir()

    with app.app_context():
        upgrade(url)

    after = _rows(app, "SELECT id, file_key, status, error FROM reports")
    key, status, _ = after[ids["kept"]]
    assert status == "done" and not key.startswith("/")
    assert _read(app, key) == KEPT
    key, status, error = after[ids["lost"]]
    assert key is None and status == "failed"
    assert "request the report again" in error
    updates = _rows(app, "SELECT id, attachments FROM progress_updates")
    (evidence_key,) = json.loads(updates[ids["update"]][0])
    assert evidence_key == f"evidence/{ids['assignment']}/photo.jpg"
    assert _read(app, evidence_key) == b"JPEG evidence"
