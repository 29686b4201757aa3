"""`minsheng backup` and `minsheng restore`: a round trip through the CLI gives back every table's
rows and every stored file byte for byte, on the suite's database engine (SQLite here,
PostgreSQL in CI) and with the S3 file store; damaged or foreign archives and a target that
holds data are refused before anything is touched."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from minsheng.backup import MANIFEST, table_counts
from minsheng.db import get_database, get_session
from minsheng.dbtool import upgrade
from minsheng.files import make_store

NewDatabase = Callable[[], str]


@pytest.fixture()
def new_database(database_url: str, tmp_path: Path) -> Iterator[NewDatabase]:
    """Empty databases of the suite's engine: files for SQLite, databases for PostgreSQL."""
    made: list[str] = []
    admin = sa.engine.make_url(database_url)

    def _new() -> str:
        if admin.get_backend_name() == "sqlite":
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.sqlite'}"
        name = f"backup_{uuid.uuid4().hex[:10]}"
        _autocommit(database_url, f'CREATE DATABASE "{name}"')
        made.append(name)
        return admin.set(database=name).render_as_string(hide_password=False)

    yield _new
    for app in _APPS:
        get_database(app).engine.dispose()
    _APPS.clear()
    for name in made:
        _autocommit(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _autocommit(url: str, sql: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


_APPS: list[Flask] = []


def _app(make_app: Callable[..., Flask], url: str, folder: Path, **store: Any) -> Flask:
    """An app on `url`; its engine is disposed before `new_database` drops the databases."""
    settings = store or {"FILE_STORE_DIR": str(folder / "files")}
    app = make_app(DATABASE_URL=url, INSTANCE_PATH=str(folder), **settings)
    _APPS.append(app)
    return app


def _fill(app: Flask) -> dict[str, str]:
    """A campaign with responses and a recommendation, and three stored files."""
    from tests.factories import CampaignFactory, RecommendationFactory, ResponseFactory

    files = {
        "reports/transport/1.pdf": b"%PDF-1.7 report",
        "evidence/1/现场照片.jpg": bytes(range(256)) * 40,
        "exports/transport/answers.csv": "编号,满意度\n1,5\n".encode(),
    }
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory()
        for _ in range(5):
            ResponseFactory(campaign=campaign)
        RecommendationFactory(campaign=campaign)
        session.commit()
        store = make_store(app.config)
        for key, data in files.items():
            store.put(key, data)
        session.close()
    return {key: hashlib.sha256(data).hexdigest() for key, data in files.items()}


def _stored(app: Flask) -> dict[str, str]:
    store = make_store(app.config)
    digests = {}
    for key in store.all_keys():
        with store.open(key) as stored:
            digests[key] = hashlib.sha256(stored.stream.read()).hexdigest()
    return digests


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture()
def source(
    make_app: Any, new_database: NewDatabase, tmp_path: Path
) -> tuple[Flask, dict[str, str]]:
    url = new_database()
    upgrade(url)
    app = _app(make_app, url, tmp_path / "source")
    return app, _fill(app)


def test_a_round_trip_gives_back_every_row_and_every_file(source, make_app, new_database, tmp_path):
    app, files = source
    archive = tmp_path / "backup.tar.gz"
    made = _cli(app, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "3 files" in made.output

    target = _app(make_app, new_database(), tmp_path / "target")
    restored = _cli(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output

    before = table_counts(app.config["DATABASE_URL"])
    assert before["responses"] == 5 and before["recommendations"] == 1
    assert table_counts(target.config["DATABASE_URL"]) == before
    assert _stored(target) == files
    with target.app_context():
        from campaigns.store import get_campaign

        assert get_campaign(get_session(), "transport-2026") is not None


def test_restore_refuses_a_target_that_holds_data_unless_told_to_replace_it(source, tmp_path):
    app, files = source
    archive = tmp_path / "backup.tar.gz"
    assert _cli(app, "backup", str(archive)).exit_code == 0
    make_store(app.config).put("exports/later.csv", b"made after the backup")

    refused = _cli(app, "restore", str(archive))
    assert refused.exit_code == 2
    assert "pass --replace" in refused.output
    assert "FILE_STORE" in refused.output and "DATABASE_URL" in refused.output

    replaced = _cli(app, "restore", "--replace", str(archive))
    assert replaced.exit_code == 0, replaced.output
    assert _stored(app) == files  # the file made after the backup is gone


def test_a_damaged_archive_is_refused_before_anything_is_touched(
    source, make_app, new_database, tmp_path
):
    app, _ = source
    archive = tmp_path / "backup.tar.gz"
    assert _cli(app, "backup", str(archive)).exit_code == 0
    members = _unpack(archive)
    key = next(name for name in members if name.startswith("files/evidence"))
    members[key] = members[key][:-1] + b"\x00"
    damaged = tmp_path / "damaged.tar.gz"
    _pack(damaged, members)

    target = _app(make_app, new_database(), tmp_path / "target")
    refused = _cli(target, "restore", str(damaged))
    assert refused.exit_code == 2
    assert key in refused.output and "checksum mismatch" in refused.output
    assert _stored(target) == {}

    not_a_backup = tmp_path / "notes.tar.gz"
    not_a_backup.write_bytes(gzip.compress(b"plain text"))
    assert "not a readable minsheng backup" in _cli(target, "restore", str(not_a_backup)).output


def test_an_archive_of_a_newer_schema_is_refused(source, make_app, new_database, tmp_path):
    app, _ = source
    archive = tmp_path / "backup.tar.gz"
    assert _cli(app, "backup", str(archive)).exit_code == 0
    members = _unpack(archive)
    manifest = json.loads(members[MANIFEST])
    manifest["revision"] = "9999_from_the_future"
    members[MANIFEST] = json.dumps(manifest).encode()
    newer = tmp_path / "newer.tar.gz"
    _pack(newer, members)

    target = _app(make_app, new_database(), tmp_path / "target")
    refused = _cli(target, "restore", str(newer))
    assert refused.exit_code == 2
    assert "newer minsheng" in refused.output


def test_the_s3_file_store_is_backed_up_and_restored(
    make_app, new_database, tmp_path, s3_settings, s3_endpoint
):
    url = new_database()
    upgrade(url)
    app = _app(make_app, url, tmp_path / "source", **s3_settings)
    files = _fill(app)
    archive = tmp_path / "backup.tar.gz"
    assert _cli(app, "backup", str(archive)).exit_code == 0

    other_bucket = {**s3_settings, "S3_BUCKET": f"restore-{uuid.uuid4().hex[:10]}"}
    make_store(other_bucket | {"FILE_STORE": "s3"}).client.create_bucket(  # type: ignore[attr-defined]
        Bucket=other_bucket["S3_BUCKET"]
    )
    target = _app(make_app, new_database(), tmp_path / "target", **other_bucket)
    restored = _cli(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert _stored(target) == files


def _unpack(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def _pack(archive: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
