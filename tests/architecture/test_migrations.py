"""Migrations are code, checked like code: one head, and a database built by `upgrade head`
matches the models (`alembic check`), on SQLite and, in CI, on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from minsheng.dbtool import MIGRATIONS, check, heads, upgrade


def test_migrations_have_a_single_head():
    assert len(heads()) == 1, f"several heads: {heads()}; chain the newest revision after the other"


def test_the_migrated_test_database_matches_the_models(database_url):
    check(database_url)


def test_revision_files_are_named_by_number_and_slug():
    names = sorted(p.stem for p in Path(MIGRATIONS, "versions").glob("*.py"))
    assert names, "no revisions"
    for number, name in enumerate(names, start=1):
        assert name.startswith(f"{number:04d}_"), f"{name}: expected {number:04d}_<slug>"


def test_an_existing_database_is_upgraded_not_rolled_back(tmp_path):
    # The version-table probe once left a transaction open that Alembic joined, so closing the
    # connection rolled back every migration applied to a database that already had a version.
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    revisions = sorted(p.stem for p in Path(MIGRATIONS, "versions").glob("*.py"))
    upgrade(url, revisions[-2])
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        (version,) = conn.execute(text("SELECT version_num FROM alembic_version")).one()
    engine.dispose()
    assert version == revisions[-1]
