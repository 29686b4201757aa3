"""Backup and restore of the database and the file store as one archive (`minsheng backup`,
`minsheng restore`).

An archive is a gzip'd tar holding the database dump, every stored file under `files/<key>`
and, last, `manifest.json`: the format, when and from which schema revision it was made, the
row count of every table and the SHA-256 and size of every member. The database is copied
consistently while the app runs: SQLite through its online backup API, PostgreSQL with
`pg_dump --format=custom` (one snapshot). Files are copied after the dump, so the archive may
hold a file no row names yet (harmless), never a row whose file is missing, because reports and
evidence are written to the store before their row commits.

Restoring checks every checksum before it touches anything, refuses a database or store that
already holds data unless `replace` is given, refuses an archive of a newer schema than this
code knows, and compares every table's row count afterwards. For PostgreSQL in production this
is the logical backup; point-in-time recovery (base backups plus WAL archiving) is the README's.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from minsheng.files import FileStore, make_store
from minsheng.problems import InputError, Problem

FORMAT = "minsheng-backup/1"
MANIFEST = "manifest.json"
FILES = "files/"
_CHUNK = 1 << 20


@dataclass
class Manifest:
    """What an archive holds; `members` maps each member name to its SHA-256 and size."""

    format: str
    created_at: str
    dialect: str
    revision: str | None
    tables: dict[str, int]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def file_keys(self) -> list[str]:
        return sorted(name[len(FILES) :] for name in self.members if name.startswith(FILES))

    @property
    def database_member(self) -> str:
        return "database.dump" if self.dialect == "postgresql" else "database.sqlite"


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it, so a file is read once into the archive."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        chunk = self.stream.read(-1 if size is None else size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def table_counts(url: str) -> dict[str, int]:
    """Rows per table of the database at `url` (every table, the version table included)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return _counts(conn)
    finally:
        engine.dispose()


def _counts(conn: sa.Connection) -> dict[str, int]:
    names = sorted(sa.inspect(conn).get_table_names())
    count = sa.select(sa.func.count())
    return {name: int(conn.execute(count.select_from(sa.table(name))).one()[0]) for name in names}


def _revision(url: str) -> str | None:
    """The schema revision of the database at `url` (None before its first migration)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore and the environment that carries the
    password (so it never shows in the process list)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: Mapping[str, str] | None = None) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InputError([Problem(command[0], done.stderr.strip() or f"exit {done.returncode}")])


def _dump_database(url: str, dialect: str, target: Path) -> dict[str, int]:
    """Dump the database at `url` into `target`; returns the row counts of what was dumped."""
    if dialect == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        return table_counts(f"sqlite:///{target}")
    if dialect != "postgresql":
        raise InputError([Problem("DATABASE_URL", f"backup of {dialect} is not supported")])
    # The counts and the dump read one snapshot (pg_dump --snapshot), so they agree while the
    # app keeps writing; otherwise the restore's count check would refuse a live backup.
    engine = sa.create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            counts = _counts(conn)
            dsn, env = _libpq(url)
            command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
            _run([*command, f"--snapshot={snapshot}", f"--file={target}", dsn], env)
    finally:
        engine.dispose()
    return counts


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise InputError([Problem("DATABASE_URL", "an in-memory SQLite database has no backup")])
    return path


def _add(tar: tarfile.TarFile, name: str, stream: IO[bytes], size: int) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(datetime.now(UTC).timestamp()), 0o600
    reader = _Hashing(stream)
    tar.addfile(info, reader)
    if reader.size != size:
        raise InputError([Problem(name, f"changed while it was copied ({reader.size} != {size})")])
    return {"sha256": reader.digest.hexdigest(), "size": size}


def store_keys(store: FileStore) -> list[str]:
    return sorted(store.all_keys())


def create_backup(config: Mapping[str, Any], target: Path) -> Manifest:
    """Write an archive of the database at `DATABASE_URL` and the configured file store to
    `target` (written under a temporary name, then renamed: a half archive never exists)."""
    url = str(config["DATABASE_URL"])
    dialect = make_url(url).get_backend_name()
    store = make_store(config)
    manifest = Manifest(
        format=FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dialect=dialect,
        revision=_revision(url),
        tables={},
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        with tempfile.TemporaryDirectory() as scratch, tarfile.open(partial, "w:gz") as tar:
            dump = Path(scratch) / manifest.database_member
            manifest.tables = _dump_database(url, dialect, dump)
            with dump.open("rb") as stream:
                member = manifest.database_member
                manifest.members[member] = _add(tar, member, stream, dump.stat().st_size)
            for key in store_keys(store):
                with store.open(key) as stored:
                    manifest.members[FILES + key] = _add(
                        tar, FILES + key, stored.stream, stored.size
                    )
            body = json.dumps(asdict(manifest), ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The manifest of an archive, after checking every member against it."""
    try:
        with tarfile.open(source, "r:gz") as tar:
            raw = tar.extractfile(MANIFEST)
            if raw is None:
                raise KeyError(MANIFEST)
            data = json.loads(raw.read())
            manifest = Manifest(**data)
            seen: set[str] = set()
            for member in _members(tar):
                expected = manifest.members.get(member.name)
                if expected is None:
                    raise InputError([Problem(member.name, "is not listed in the manifest")])
                digest = _digest(tar, member)
                if digest != expected["sha256"] or member.size != expected["size"]:
                    raise InputError(
                        [Problem(member.name, "checksum mismatch: the archive is damaged")]
                    )
                seen.add(member.name)
    except (tarfile.TarError, OSError, KeyError, EOFError, json.JSONDecodeError, TypeError) as exc:
        raise InputError([Problem(str(source), f"not a readable minsheng backup: {exc}")]) from None
    if manifest.format != FORMAT:
        raise InputError([Problem(MANIFEST, f"format {manifest.format!r}; expected {FORMAT!r}")])
    missing = sorted(set(manifest.members) - seen)
    if missing:
        raise InputError([Problem(name, "listed in the manifest but missing") for name in missing])
    return manifest


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        if member.name == MANIFEST:
            continue
        if not member.isfile() or member.name.startswith("/") or ".." in member.name.split("/"):
            raise InputError([Problem(member.name, "unexpected member in a backup archive")])
        yield member


def _digest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    stream = tar.extractfile(member)
    assert stream is not None
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _known_revision(revision: str | None) -> None:
    if revision is None:
        return
    from alembic.script import ScriptDirectory

    from minsheng.dbtool import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        script.get_revision(revision)
    except Exception:
        raise InputError(
            [
                Problem(
                    "revision",
                    f"{revision} is unknown here: the archive comes from a newer minsheng",
                )
            ]
        ) from None


def _refuse_data(url: str, store: FileStore) -> None:
    counts = {name: n for name, n in table_counts(url).items() if n and name != "alembic_version"}
    problems = []
    if counts:
        problems.append(
            Problem(
                "DATABASE_URL",
                f"holds {sum(counts.values())} rows in {len(counts)} tables; "
                "pass --replace to overwrite it",
            )
        )
    if store_keys(store):
        problems.append(Problem("FILE_STORE", "is not empty; pass --replace to overwrite it"))
    if problems:
        raise InputError(problems)


def _restore_database(url: str, manifest: Manifest, dump: Path) -> None:
    dialect = make_url(url).get_backend_name()
    if dialect != manifest.dialect:
        raise InputError(
            [Problem("DATABASE_URL", f"is {dialect}; the archive holds a {manifest.dialect} dump")]
        )
    if dialect == "sqlite":
        path = Path(_sqlite_path(url))
        path.parent.mkdir(parents=True, exist_ok=True)
        source, target = sqlite3.connect(dump), sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    dsn, env = _libpq(url)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(dump),
        ],
        env,
    )


def restore_backup(config: Mapping[str, Any], source: Path, *, replace: bool = False) -> Manifest:
    """Restore the archive at `source` into the configured database and file store."""
    manifest = read_manifest(source)
    _known_revision(manifest.revision)
    url = str(config["DATABASE_URL"])
    store = make_store(config)
    if not replace:
        _refuse_data(url, store)
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(source, "r:gz") as tar:
        dump = Path(scratch) / manifest.database_member
        stream = tar.extractfile(manifest.database_member)
        assert stream is not None
        with dump.open("wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
        _restore_database(url, manifest, dump)
        for member in _members(tar):
            if member.name.startswith(FILES):
                payload = tar.extractfile(member)
                assert payload is not None
                store.put(member.name[len(FILES) :], payload)
    if replace:
        for key in set(store_keys(store)) - set(manifest.file_keys):
            store.delete(key)
    restored = table_counts(url)
    differing = [
        Problem(name, f"{restored.get(name)} rows after restore; the archive had {count}")
        for name, count in manifest.tables.items()
        if restored.get(name) != count
    ]
    if differing:
        raise InputError(differing)
    return manifest
