"""Hostile contact files and XLSForms: too many bytes, rows or characters, a zip bomb, a DTD, and
bytes that are not text, each refused or reported with where and why, never a 500 (issue 11)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import func, select

from contacts.files import MAX_CELL_CHARS, MAX_FILE_BYTES, MAX_ROWS
from contacts.lists import get_or_create_list, import_contacts
from contacts.models import Contact
from forms.xlsform import read_xlsform
from minsheng.errors import InputError, TooLargeError
from minsheng.workbooks import MAX_UNZIPPED_BYTES
from tests.invitations.builders import csv_bytes, people, xlsx_bytes


def contacts_on(session, contact_list):
    return session.scalar(
        select(func.count()).select_from(Contact).where(Contact.list_id == contact_list.id)
    )


def rewritten(workbook: bytes, change) -> bytes:
    """The workbook with `change(name, data) -> data` applied to each part, plus any parts
    `change(None, None)` returns."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info)))
        for name, data in change(None, None) or []:
            target.writestr(name, data, compresslevel=9)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A small workbook that unzips past the limit: one extra part of zeros."""
    extra = [("xl/media/padding.bin", b"\0" * (MAX_UNZIPPED_BYTES + 1))]
    bomb = rewritten(xlsx_bytes(people(3)), lambda n, d: extra if n is None else d)
    assert len(bomb) < 1 << 20
    return bomb


def with_dtd() -> bytes:
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'

    def change(name, data):
        if name is None:
            return None
        if name == "xl/worksheets/sheet1.xml":
            return doctype + (data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data)
        return data

    return rewritten(xlsx_bytes(people(3)), change)


def upload(client, data, filename="residents.xlsx"):
    """Post the upload form with a multipart body built here: werkzeug's test client spools a
    large file to a temporary file it never closes (a ResourceWarning)."""
    boundary = "hostile-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="list_name"\r\n\r\nhostile\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n",
    ]
    body = "".join(parts).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        "/contacts/lists/",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_zip_bomb_is_413_on_the_upload_page_before_anything_is_stored(client, login, session):
    login("organizer")
    reply = upload(client, zip_bomb())
    assert reply.status_code == 413
    assert "unzips to more than 100 MB" in reply.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_zip_bomb_is_refused_by_the_import_and_the_xlsform_reader(session, tmp_path):
    contact_list = get_or_create_list(session, "bomb")
    with pytest.raises(TooLargeError):
        import_contacts(session, contact_list, zip_bomb(), "bomb.xlsx")
    (tmp_path / "bomb.xlsx").write_bytes(zip_bomb())
    with pytest.raises(TooLargeError, match="unzips to more than"):
        read_xlsform(tmp_path / "bomb.xlsx")


def test_an_xlsx_with_a_dtd_is_refused_cleanly_on_the_page_and_in_the_readers(
    client, login, session, tmp_path
):
    login("organizer")
    reply = upload(client, with_dtd())
    assert reply.status_code == 422
    assert "declares a DTD" in reply.get_data(as_text=True)
    (tmp_path / "dtd.xlsx").write_bytes(with_dtd())
    with pytest.raises(InputError, match="declares a DTD"):
        read_xlsform(tmp_path / "dtd.xlsx")


def test_openpyxl_reads_through_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML


def test_a_file_over_the_byte_limit_is_413_on_the_upload_page(client, login):
    login("organizer")
    data = csv_bytes(people(1)) + b"x" * MAX_FILE_BYTES
    reply = upload(client, data, "big.csv")
    assert reply.status_code == 413
    assert "20 MB" in reply.get_data(as_text=True)


def test_more_rows_than_the_limit_are_refused_whole(session):
    lines = ["手机号"] + [f"139{i:08d}" for i in range(MAX_ROWS + 1)]
    contact_list = get_or_create_list(session, "rows")
    with pytest.raises(TooLargeError, match=f"more than {MAX_ROWS:,} rows"):
        import_contacts(session, contact_list, "\n".join(lines).encode(), "rows.csv")
    assert contacts_on(session, contact_list) == 0


@pytest.mark.parametrize("build", [csv_bytes, xlsx_bytes])
def test_a_cell_over_the_limit_is_refused_naming_its_row_and_column(session, build):
    rows = people(3)
    rows[2][0] = "名" * (MAX_CELL_CHARS + 1)
    contact_list = get_or_create_list(session, f"cell-{build.__name__}")
    with pytest.raises(TooLargeError) as refused:
        import_contacts(session, contact_list, build(rows), "cells")
    assert refused.value.problems[0].location == "cells:3"
    assert "column '姓名'" in refused.value.problems[0].message


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_undecodable_bytes_are_reported_per_row_and_column_not_replaced(session, encoding):
    rows = people(4)
    name = "居民2".encode(encoding)
    data = csv_bytes(rows, encoding).replace(name, b"\xff\xfe" + name)
    contact_list = get_or_create_list(session, f"bytes-{encoding}")
    result = import_contacts(session, contact_list, data, "residents.csv")
    assert result.imported == 3
    report = list(csv.DictReader(io.StringIO(result.record.error_report)))
    assert [(r["row"], r["column"]) for r in report] == [("4", "姓名")]
    assert "byte 0xFF at character 1" in report[0]["reason"]
    assert contacts_on(session, contact_list) == 3


def test_broken_utf16_is_a_file_problem_not_a_500(session):
    contact_list = get_or_create_list(session, "utf16")
    data = csv_bytes(people(2), "utf-16") + b"\x00"
    with pytest.raises(InputError, match="not valid UTF-16"):
        import_contacts(session, contact_list, data, "u16.csv")


def test_undecodable_bytes_in_a_column_name_refuse_the_file_naming_the_column(session):
    # The column name goes with every problem of its column and into the attributes: no row
    # could be reported or stored with it.
    data = csv_bytes(people(2)).replace(b"district", b"dis\xfftrict")
    contact_list = get_or_create_list(session, "header-bytes")
    with pytest.raises(InputError) as refused:
        import_contacts(session, contact_list, data, "residents.csv")
    (problem,) = refused.value.problems
    assert problem.location == "residents.csv:1"
    assert problem.message.startswith("column 4: byte 0xFF at character 4")
    assert contacts_on(session, contact_list) == 0


def _central_directory_patched(workbook: bytes, offset: int, value: bytes) -> bytes:
    """The workbook with `value` written at `offset` of each central directory entry."""
    out = bytearray(workbook)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        out[at + offset : at + offset + len(value)] = value
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


@pytest.mark.parametrize(
    ("offset", "value", "reason"),
    [
        (8, b"\x01\x00", "is encrypted"),  # general purpose flags: encrypted
        (6, b"\x53\x00", "zip file version 8.3"),  # version needed to extract
    ],
)
def test_an_encrypted_or_future_zip_is_a_file_problem_not_a_500(
    session, tmp_path, offset, value, reason
):
    data = _central_directory_patched(xlsx_bytes(people(2)), offset, value)
    contact_list = get_or_create_list(session, "odd-zip")
    with pytest.raises(InputError, match=reason):
        import_contacts(session, contact_list, data, "residents.xlsx")
    (tmp_path / "form.xlsx").write_bytes(data)
    with pytest.raises(InputError, match=reason):
        read_xlsform(tmp_path / "form.xlsx")
