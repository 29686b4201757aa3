"""Builders for contact files used by the target-list, sampling and link tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

DISTRICTS = ("锦江区", "青羊区", "金牛区", "武侯区")
AGE_GROUPS = ("18-34", "35-59", "60+")


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    """A CSV file as Excel writes it: `utf-8-sig` adds the BOM, `gb18030` is Chinese Excel."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def people(count: int, start: int = 0) -> list[list[object]]:
    """`count` valid rows (姓名, 手机号, 邮箱, district, age_group), spread over strata."""
    rows: list[list[object]] = [["姓名", "手机号", "邮箱", "district", "age_group"]]
    for i in range(start, start + count):
        rows.append(
            [
                f"居民{i}",
                f"139{i:08d}",
                f"resident{i}@example.com",
                DISTRICTS[i % len(DISTRICTS)],
                AGE_GROUPS[i % len(AGE_GROUPS)],
            ]
        )
    return rows
