"""Importing target lists: encodings, bad rows reported while good rows are kept, re-imports,
encryption at rest and opt-outs that hold across lists."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, text

from contacts.lists import (
    get_or_create_list,
    import_contacts,
    is_opted_out,
    masked_contact,
    opt_out_address,
    opt_out_contact,
)
from contacts.models import Contact
from minsheng.errors import InputError
from tests.invitations.builders import csv_bytes, people, xlsx_bytes


def contacts_on(session, contact_list):
    return session.scalar(
        select(func.count()).select_from(Contact).where(Contact.list_id == contact_list.id)
    )


def report_rows(result):
    assert result.record is not None
    return list(csv.DictReader(io.StringIO(result.record.error_report)))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_excel_encoding_imports_chinese_names_and_attributes(session, encoding):
    contact_list = get_or_create_list(session, f"residents-{encoding}")
    data = csv_bytes(people(5), encoding)
    result = import_contacts(session, contact_list, data, "residents.csv")
    assert (result.imported, result.skipped) == (5, 0)
    contact = session.scalars(
        select(Contact).where(Contact.list_id == contact_list.id).order_by(Contact.id)
    ).first()
    assert contact.attributes == {"district": "锦江区", "age_group": "18-34"}
    assert masked_contact(contact)["name"] == "居**"


def test_gb18030_file_is_not_valid_utf8_and_still_reads(session):
    data = csv_bytes(people(2), "gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = import_contacts(session, get_or_create_list(session, "gb"), data, "gb.csv")
    assert result.imported == 2


def test_xlsx_with_numeric_phone_cells_imports(session):
    rows = people(3)
    for row in rows[1:]:
        row[1] = int(str(row[1]))
    rows[2][1] = float(rows[2][1])
    result = import_contacts(session, get_or_create_list(session, "x"), xlsx_bytes(rows), "x.xlsx")
    assert (result.imported, result.skipped) == (3, 0)


def test_bad_rows_are_reported_with_row_and_reason_and_good_rows_are_kept(session):
    rows = people(4)
    rows.append(["王五", "12345678901", "wangwu@example.com", "锦江区", "18-34"])  # row 6
    rows.append(["赵六", "13912345678", "not-an-email", "青羊区", "35-59"])  # row 7
    rows.append(["钱七", "+86 139-0000-0001", "", "金牛区", ""])  # row 8: dup of row 3, no age
    rows.append(["孙八", "", "", "武侯区", "60+"])  # row 9
    rows.append(["周九", "+86 137 1234 5678", "zhoujiu@example.com", "", "60+"])  # row 10
    contact_list = get_or_create_list(session, "mixed")
    result = import_contacts(
        session,
        contact_list,
        csv_bytes(rows, "utf-8-sig"),
        "mixed.csv",
        required=["district", "age_group"],
    )
    assert result.imported == 4
    assert result.skipped == 5
    assert contacts_on(session, contact_list) == 4
    report = report_rows(result)
    reasons = {(int(r["row"]), r["column"]): r for r in report}
    assert reasons[(6, "手机号")]["reason"].startswith("invalid mainland mobile number")
    assert reasons[(6, "手机号")]["value"] == "1*********1"
    assert reasons[(7, "邮箱")]["reason"].startswith("malformed e-mail")
    assert reasons[(8, "age_group")]["reason"] == "required attribute 'age_group' empty"
    assert reasons[(9, "手机号")]["reason"] == "no mobile phone and no e-mail"
    assert reasons[(10, "district")]["reason"] == "required attribute 'district' empty"
    assert "13712345678" not in result.record.error_report


def test_duplicates_in_the_file_are_reported_against_the_first_row(session):
    rows = people(3)
    rows.append(["重复", "+86 139 0000 0001", "", "锦江区", "18-34"])  # row 5 = row 3's phone
    rows.append(["重复", "13800000000", "RESIDENT2@example.com", "锦江区", "18-34"])  # row 6
    result = import_contacts(session, get_or_create_list(session, "d"), csv_bytes(rows), "d.csv")
    assert result.imported == 3
    report = report_rows(result)
    assert [(r["row"], r["column"], r["value"], r["reason"]) for r in report] == [
        ("5", "手机号", "139****0001", "duplicate of row 3 in this file"),
        ("6", "邮箱", "r***@example.com", "duplicate of row 4 in this file"),
    ]


def test_reimporting_the_same_file_changes_nothing(session):
    contact_list = get_or_create_list(session, "again")
    data = csv_bytes(people(6))
    import_contacts(session, contact_list, data, "a.csv")
    before = session.execute(text("SELECT id, phone_enc FROM contacts ORDER BY id")).all()
    result = import_contacts(session, contact_list, data, "a.csv")
    after = session.execute(text("SELECT id, phone_enc FROM contacts ORDER BY id")).all()
    assert result.imported == 0
    assert result.skipped == 6
    assert {r["reason"] for r in report_rows(result)} == {"already on the list; row unchanged"}
    assert before == after


def test_phone_email_and_name_are_stored_encrypted(session):
    contact_list = get_or_create_list(session, "enc")
    import_contacts(session, contact_list, csv_bytes(people(1)), "e.csv")
    raw = session.execute(
        text("SELECT name_enc, phone_enc, email_enc, phone_hash FROM contacts")
    ).one()
    stored = b"".join(raw)
    for plain in ("13900000000", "resident0@example.com", "居民0"):
        assert plain.encode() not in stored
    contact = session.scalars(select(Contact)).one()
    assert masked_contact(contact) == {
        "name": "居**",
        "phone": "139****0000",
        "email": "r***@example.com",
    }


def test_file_without_phone_or_email_column_is_refused_before_anything_is_stored(session):
    contact_list = get_or_create_list(session, "nocol")
    data = csv_bytes([["姓名", "district"], ["张三", "锦江区"]])
    with pytest.raises(InputError) as caught:
        import_contacts(session, contact_list, data, "nocol.csv", required=["street"])
    messages = [p.message for p in caught.value.problems]
    assert any("no mobile phone or e-mail column" in m for m in messages)
    assert any("required column 'street' is missing" in m for m in messages)
    assert contacts_on(session, contact_list) == 0


def test_opt_out_holds_for_the_same_person_on_another_list(session):
    first = get_or_create_list(session, "first")
    second = get_or_create_list(session, "second")
    import_contacts(session, first, csv_bytes(people(2)), "1.csv")
    import_contacts(session, second, csv_bytes(people(2)), "2.csv")
    on_first = session.scalars(select(Contact).where(Contact.list_id == first.id)).first()
    assert opt_out_contact(session, on_first) == 2
    same_person = session.scalars(
        select(Contact).where(Contact.list_id == second.id).order_by(Contact.id)
    ).first()
    other = session.scalars(
        select(Contact).where(Contact.list_id == second.id).order_by(Contact.id.desc())
    ).first()
    assert is_opted_out(session, same_person)
    assert not is_opted_out(session, other)


def test_opt_out_by_address_matches_however_the_number_is_written(session):
    contact_list = get_or_create_list(session, "sms")
    import_contacts(session, contact_list, csv_bytes(people(1)), "s.csv")
    assert opt_out_address(session, "phone", "+86 139-0000-0000")
    assert not opt_out_address(session, "phone", "13900000000")
    assert is_opted_out(session, session.scalars(select(Contact)).one())


def test_long_files_report_progress_while_checking_and_storing(session):
    seen = []
    import_contacts(
        session,
        get_or_create_list(session, "long"),
        csv_bytes(people(10_001)),
        "long.csv",
        progress=lambda fraction, message: seen.append((round(fraction, 2), message)),
    )
    assert seen == [
        (0.25, "checked 5000 of 10001 rows"),
        (0.5, "checked 10000 of 10001 rows"),
        (0.75, "stored 5000 of 10001 contacts"),
        (1.0, "stored 10000 of 10001 contacts"),
    ]


def test_phone_numbers_excel_saved_in_scientific_notation_get_a_specific_reason(session):
    rows = [*people(1), ["李四", "1.38123E+10", "", "锦江区", "18-34"]]
    result = import_contacts(session, get_or_create_list(session, "sci"), csv_bytes(rows), "s")
    [problem] = report_rows(result)
    assert problem["row"] == "3"
    assert "scientific notation" in problem["reason"]
    assert result.imported == 1


def test_empty_file_is_refused_with_the_file_name(session):
    with pytest.raises(InputError, match=r"empty\.csv: the first row must name the columns"):
        import_contacts(session, get_or_create_list(session, "e"), b"", "empty.csv")
