"""The file store (design.md, "Where the data lives"): reports, exports, evidence and answer photos
are kept by key (`reports/<campaign>/<id>.pdf`), never by absolute path, so any web node or worker
reads what another wrote. A local folder by default; an S3-compatible object store through boto3.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, cast

if TYPE_CHECKING:
    import boto3
    from flask import Flask, Response
    from mypy_boto3_s3 import S3Client

FILE_STORES = ("local", "s3")
# Letters and digits of any script (Chinese file names stay readable), dot, dash, underscore; a
# segment never starts with a dot, so `..` cannot climb out and temporary `.name.*` files of the
# local store are never keys.
_SEGMENT = re.compile(r"[\w\-][\w.\-]*", re.UNICODE)
MAX_KEY_LENGTH = 500


class FileStoreError(Exception):
    """Base of the file store's errors."""


class BadKeyError(FileStoreError, ValueError):
    """A key that is not `segment/segment/...` of letters, digits, `.`, `-` and `_`."""


class MissingFileError(FileStoreError, LookupError):
    """No file is stored under the key (never written, or deleted)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no file {key!r} in the file store")
        self.key = key


def check_key(key: str) -> str:
    """`key` itself when it is a valid key; else `BadKeyError` naming it and the accepted form."""
    segments = key.split("/")
    if len(key) > MAX_KEY_LENGTH or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise BadKeyError(
            f"file key {key!r}: expected segments of letters, digits, '.', '-' and '_' joined by "
            f"'/', none empty or starting with '.', at most {MAX_KEY_LENGTH} characters"
        )
    return key


def content_type(name: str) -> str:
    """The media type a file called `name` is served with (from its suffix)."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


@dataclass
class StoredFile:
    """An open stored file: read `stream`, then close it (or use `with`); `size` in bytes."""

    key: str
    stream: IO[bytes]
    size: int

    def __enter__(self) -> StoredFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stream.close()


class FileStore(Protocol):
    """What every backend does. A file is written whole or not at all: a reader on another node
    sees the old content, the new content or none, never half of it."""

    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        """Store `data` (bytes or a binary file read to its end) under `key`, replacing any."""

    def open(self, key: str) -> StoredFile:
        """The stored file for reading; `MissingFileError` when there is none."""

    def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""

    def delete(self, key: str) -> None:
        """Remove the file under `key`; a missing file is not an error."""

    def location(self, key: str) -> str:
        """Where an operator finds the file (a path or an `s3://` URL), for messages only."""

    def all_keys(self) -> Iterator[str]:
        """Every stored key, in no particular order (for backups and checks)."""


class LocalStore:
    """Files under one folder of this machine: the embedded default (`<INSTANCE_PATH>/files`), or a
    folder every node mounts (NFS)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name in the same folder, then renamed over the target.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as stream:
                if isinstance(data, bytes):
                    stream.write(data)
                else:
                    while chunk := data.read(1 << 20):
                        stream.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> StoredFile:
        try:
            stream = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MissingFileError(key) from None
        return StoredFile(key, stream, os.fstat(stream.fileno()).st_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def location(self, key: str) -> str:
        return str(self._path(key).resolve())

    def all_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            # Temporary `.name.*` files of a write in progress are not keys.
            if path.is_file() and all(_SEGMENT.fullmatch(s) for s in key.split("/")):
                yield key


class S3Store:
    """Objects in one bucket of an S3-compatible store (AWS S3, MinIO, Ceph RGW), keys under an
    optional prefix. The boto3 client is built on first use, so building the app stays cheap and
    a Celery worker forked from a parent makes its own connections."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._options = {
            "endpoint_url": endpoint_url,
            "region": region,
            "access_key_id": access_key_id,
            "secret_access_key": secret_access_key,
        }
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        """The boto3 client, built on first use (boto3 clients are safe to share by threads)."""
        if self._client is None:
            self._client = _s3_client(**self._options)
        return self._client

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        name = self._name(key)
        if isinstance(data, bytes):
            self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type(key)
            )
        else:
            # Large files go up in parts; S3 shows the object only once every part is in.
            self.client.upload_fileobj(
                data, self.bucket, name, ExtraArgs={"ContentType": content_type(key)}
            )

    def open(self, key: str) -> StoredFile:
        from botocore.exceptions import ClientError

        name = self._name(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _is_missing(exc):
                raise MissingFileError(key) from None
            raise
        # botocore's StreamingBody is an io.IOBase with read() and close().
        return StoredFile(key, cast(IO[bytes], answer["Body"]), answer["ContentLength"])

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        name = self._name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        name = self._name(key)
        self.client.delete_object(Bucket=self.bucket, Key=name)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def all_keys(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]


def _is_missing(exc: Any) -> bool:
    # GET answers NoSuchKey; HEAD has no body, so only its status code says 404.
    return str(exc.response.get("Error", {}).get("Code")) in {"NoSuchKey", "404", "NotFound"}


def _s3_client(
    *, endpoint_url: str, region: str, access_key_id: str, secret_access_key: str
) -> S3Client:
    from botocore.config import Config

    # Path-style addressing (`host/bucket/key`) for a custom endpoint: MinIO and Ceph behind one
    # host name have no per-bucket DNS names. AWS itself keeps boto3's default.
    style: Literal["path", "auto"] = "path" if endpoint_url else "auto"
    with _SESSION_LOCK:
        return _boto3_session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            # Empty: boto3's own chain (instance role, ~/.aws, AWS_* variables) finds them.
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(s3={"addressing_style": style}, retries={"mode": "standard"}),
        )


# One boto3 session per process: it loads the S3 service description once (about a second)
# for every store built after it. Sessions are not thread-safe, so clients are made under a lock.
_SESSION_LOCK = threading.Lock()


@functools.cache
def _boto3_session() -> boto3.session.Session:
    import boto3

    return boto3.session.Session()


def make_store(config: Mapping[str, Any]) -> FileStore:
    """The store the settings choose (`FILE_STORE`); used by the app and by migrations."""
    if config["FILE_STORE"] == "s3":
        return S3Store(
            str(config["S3_BUCKET"]),
            prefix=str(config["S3_PREFIX"]),
            endpoint_url=str(config["S3_ENDPOINT_URL"]),
            region=str(config["S3_REGION"]),
            access_key_id=str(config["S3_ACCESS_KEY_ID"]),
            secret_access_key=str(config["S3_SECRET_ACCESS_KEY"]),
        )
    return LocalStore(str(config["FILE_STORE_DIR"]))


def init_app(app: Flask) -> None:
    app.extensions["minsheng.files"] = make_store(app.config)


def file_store() -> FileStore:
    """The current app's store."""
    from flask import current_app

    return cast(FileStore, current_app.extensions["minsheng.files"])


def send_stored_file(key: str, download_name: str) -> Response:
    """A download of the file under `key`, streamed from the store with the media type of
    `download_name`; 404 when the file is not there. Permission checks stay with the view."""
    from flask import abort, send_file

    try:
        stored = file_store().open(key)
    except MissingFileError:
        abort(404, description=f"The file {download_name!r} is no longer in the file store.")
    # Not conditional: ranges would need seeking, which an object store's stream cannot do.
    response = send_file(
        stored.stream,
        mimetype=content_type(download_name),
        as_attachment=True,
        download_name=download_name,
        conditional=False,
    )
    response.content_length = stored.size
    return response
