"""The file store, both backends through the same tests: a local folder, and S3 against a real
S3-compatible server (moto's) listening on 127.0.0.1."""

from __future__ import annotations

import io

import pytest

from minsheng.config import load_settings
from minsheng.files import (
    BadKeyError,
    FileStore,
    LocalStore,
    MissingFileError,
    S3Store,
    make_store,
)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> FileStore:
    if request.param == "local":
        return LocalStore(tmp_path / "files")
    return make_store(request.getfixturevalue("s3_settings"))


class FailingStream(io.RawIOBase):
    """A stream that breaks after its first chunk, like an upload cut off half-way."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.calls += 1
        if self.calls > 1:
            raise OSError("connection reset while reading the upload")
        buffer[:4] = b"%PDF"
        return 4


def test_a_file_put_by_key_reads_back_whole_with_its_size(store):
    store.put("reports/transport-2026/1.pdf", b"%PDF-1.7 report")
    with store.open("reports/transport-2026/1.pdf") as stored:
        assert stored.stream.read() == b"%PDF-1.7 report"
        assert stored.size == len(b"%PDF-1.7 report")
    assert store.exists("reports/transport-2026/1.pdf")
    assert not store.exists("reports/transport-2026/2.pdf")


def test_a_large_stream_is_stored_and_a_second_put_replaces_the_first(store):
    # Past boto3's 8 MB threshold, so the S3 upload goes in parts.
    content = bytes(range(256)) * (9 * 4096)
    store.put("exports/big.bin", io.BytesIO(content))
    with store.open("exports/big.bin") as stored:
        assert stored.size == len(content)
        assert stored.stream.read() == content
    store.put("exports/big.bin", b"small now")
    with store.open("exports/big.bin") as stored:
        assert stored.stream.read() == b"small now"


def test_keys_may_be_chinese_file_names(store):
    store.put("evidence/7/1-时刻表.pdf", b"%PDF evidence")
    with store.open("evidence/7/1-时刻表.pdf") as stored:
        assert stored.stream.read() == b"%PDF evidence"


def test_delete_removes_the_file_and_a_missing_file_is_no_error(store):
    store.put("evidence/1/1-a.txt", b"a")
    store.delete("evidence/1/1-a.txt")
    assert not store.exists("evidence/1/1-a.txt")
    store.delete("evidence/1/1-a.txt")
    with pytest.raises(MissingFileError, match=r"no file 'evidence/1/1-a.txt' in the file store"):
        store.open("evidence/1/1-a.txt")


@pytest.mark.parametrize(
    "key", ["../secret", "/etc/passwd", "reports//1.pdf", ".hidden/x", "reports/", "", "a b"]
)
def test_a_key_that_could_leave_the_store_or_is_malformed_is_refused(store, key):
    with pytest.raises(BadKeyError, match="expected segments of letters, digits"):
        store.put(key, b"x")
    with pytest.raises(BadKeyError):
        store.open(key)


def test_a_put_cut_off_half_way_leaves_no_file_behind(store):
    with pytest.raises(OSError, match="connection reset"):
        store.put("reports/x/1.pdf", io.BufferedReader(FailingStream()))
    assert not store.exists("reports/x/1.pdf")


def test_a_put_cut_off_leaves_the_previous_version_and_no_temporary_file(tmp_path):
    store = LocalStore(tmp_path)
    store.put("reports/x/1.pdf", b"first")
    with pytest.raises(OSError):
        store.put("reports/x/1.pdf", io.BufferedReader(FailingStream()))
    with store.open("reports/x/1.pdf") as stored:
        assert stored.stream.read() == b"first"
    assert [p.name for p in (tmp_path / "reports" / "x").iterdir()] == ["1.pdf"]


def test_the_s3_store_keeps_keys_under_its_prefix_with_their_media_type(s3_settings):
    store = make_store(s3_settings)
    assert isinstance(store, S3Store)
    bucket = s3_settings["S3_BUCKET"]
    store.put("reports/t/1.pdf", b"%PDF")
    assert store.location("reports/t/1.pdf") == f"s3://{bucket}/instance-a/reports/t/1.pdf"
    listed = store.client.list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listed["Contents"]] == ["instance-a/reports/t/1.pdf"]
    head = store.client.head_object(Bucket=bucket, Key="instance-a/reports/t/1.pdf")
    assert head["ContentType"] == "application/pdf"
    assert not make_store({**s3_settings, "S3_PREFIX": "instance-b"}).exists("reports/t/1.pdf")


def test_by_default_files_go_to_a_folder_under_the_instance(tmp_path):
    store = make_store(load_settings(environ={"MINSHENG_INSTANCE_PATH": str(tmp_path / "node")}))
    store.put("reports/t/1.pdf", b"%PDF")
    assert store.location("reports/t/1.pdf") == str(tmp_path / "node/files/reports/t/1.pdf")
    assert (tmp_path / "node/files/reports/t/1.pdf").read_bytes() == b"%PDF"
