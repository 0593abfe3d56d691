"""waihu.service.importing.reader.read_table on real files written to tmp_path."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from waihu.domain.errors import ValidationError
from waihu.service.importing.reader import cell_text, read_table

ZH_CSV = "手机号,姓名,备注\n13800138000,张三,老客户\n\n13900139000,李四,\n"


def write_xlsx(path: Path, rows: list[list[Any]], *, sheet: str = "Sheet1") -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    workbook.save(path)
    return path


def error_code(path: Path, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as info:
        read_table(path, **kwargs)
    return info.value.code


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (ZH_CSV.encode("gbk"), "gb18030"),
        (ZH_CSV.encode("gb18030"), "gb18030"),
        (ZH_CSV.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + ZH_CSV.encode("utf-8"), "utf-8-sig"),
        (ZH_CSV.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + ZH_CSV.encode("utf-16-be"), "utf-16"),
    ],
)
def test_csv_encodings_are_detected(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    table = read_table(path)
    assert table.encoding == encoding
    assert table.format == "csv"
    assert table.headers == ["手机号", "姓名", "备注"]
    assert table.rows == [(2, ["13800138000", "张三", "老客户"]), (4, ["13900139000", "李四", ""])]


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "d.csv"
    text = f'phone{delimiter}name{delimiter}notes\n13800138000{delimiter}"Ann, Lee"{delimiter}"a;b|c"\n'
    path.write_text(text if delimiter == "," else text.replace('"Ann, Lee"', "Ann Lee"), encoding="utf-8")
    table = read_table(path)
    assert table.headers == ["phone", "name", "notes"]
    assert table.rows[0][1][0] == "13800138000"
    assert table.rows[0][1][1:] == ["Ann, Lee" if delimiter == "," else "Ann Lee", "a;b|c"]


def test_quoted_comma_and_multiline_cell_count_as_one_excel_row(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('phone,notes\n13800138000,"line one\nline two, with comma"\n13900139000,x\n', "utf-8")
    table = read_table(path)
    assert table.rows == [(2, ["13800138000", "line one\nline two, with comma"]), (3, ["13900139000", "x"])]


def test_single_column_file(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("电话\n13800138000\n 13900139000 \n", "utf-8")
    assert read_table(path).rows == [(2, ["13800138000"]), (3, ["13900139000"])]


def test_forced_encoding_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(ZH_CSV.encode("gbk"))
    table = read_table(path, encoding="gbk")
    assert table.encoding == "gbk"
    assert table.headers[0] == "手机号"


def test_forced_wrong_encoding_is_unreadable_and_says_which(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes(ZH_CSV.encode("gbk"))
    with pytest.raises(ValidationError) as info:
        read_table(path, encoding="utf-8")
    assert info.value.code == "import.unreadable"
    assert "utf-8" in info.value.message


def test_unknown_forced_encoding(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("phone\n13800138000\n", "utf-8")
    assert error_code(path, encoding="no-such-codec") == "import.unreadable"


def test_blank_and_duplicate_headers_get_unique_keys(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("phone, ,phone,notes\n13800138000,a,13900139000,n\n", "utf-8")
    table = read_table(path)
    assert table.headers == ["phone", "", "phone", "notes"]
    assert table.keys == ["phone", "col2", "phone (2)", "notes"]
    assert table.label(1) == "col2"
    assert table.label(2) == "phone"


def test_ragged_rows_are_padded_and_extra_cells_get_a_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("phone,name\n13800138000\n13900139000,Bo,extra\n", "utf-8")
    table = read_table(path)
    assert table.headers == ["phone", "name", ""]
    assert table.rows == [(2, ["13800138000", "", ""]), (3, ["13900139000", "Bo", "extra"])]


def test_blank_lines_before_header_keep_numbering(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("\n,,\nphone\n13800138000\n", "utf-8")
    table = read_table(path)
    assert table.header_row == 3
    assert table.rows == [(4, ["13800138000"])]


def test_xlsx_numbers_dates_and_blank_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            ["手机号", "姓名", "金额", "生日", "备用电话"],
            [13800138000, "张三", 12.5, dt.datetime(1990, 5, 17), 13900139000.0],
            [None, None, None, None, None],
            ["13700137000", "  李四 ", 3.0, dt.date(2001, 1, 2), None],
        ],
    )
    table = read_table(path)
    assert table.format == "xlsx"
    assert table.encoding is None
    assert table.headers == ["手机号", "姓名", "金额", "生日", "备用电话"]
    assert table.rows == [
        (2, ["13800138000", "张三", "12.5", "1990-05-17", "13900139000"]),
        (4, ["13700137000", "李四", "3", "2001-01-02", ""]),
    ]


def test_xlsx_sparse_rows_keep_excel_numbering(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws["A1"] = "phone"
    ws["A2"] = 13800138000
    ws["A7"] = 13900139000
    workbook.save(tmp_path / "s.xlsx")
    assert read_table(tmp_path / "s.xlsx").rows == [(2, ["13800138000"]), (7, ["13900139000"])]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append(["other"])
    first.append(["x"])
    second = workbook.create_sheet("客户")
    second.append(["phone"])
    second.append([13800138000])
    workbook.save(tmp_path / "n.xlsx")
    assert read_table(tmp_path / "n.xlsx").headers == ["other"]
    assert read_table(tmp_path / "n.xlsx", sheet="客户").rows == [(2, ["13800138000"])]
    assert error_code(tmp_path / "n.xlsx", sheet="Nope") == "import.sheet_not_found"


def test_format_is_detected_by_content_not_extension(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "x.xlsx", [["phone"], [13800138000]])
    renamed = tmp_path / "contacts.csv"
    renamed.write_bytes((tmp_path / "x.xlsx").read_bytes())
    assert read_table(renamed).format == "xlsx"
    text_named_xlsx = tmp_path / "t.txt"
    text_named_xlsx.write_text("phone\n13800138000\n", "utf-8")
    assert read_table(text_named_xlsx).format == "csv"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.csv", b"", "import.empty_file"),
        ("blank.csv", b"\n \n,,\n", "import.empty_file"),
        ("header.csv", b"phone,name\n", "import.no_rows"),
        ("header_blank.csv", b"phone,name\n,\n\n", "import.no_rows"),
        ("corrupt.xlsx", b"PK\x03\x04this is not really a zip", "import.unreadable"),
        ("renamed.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00", "import.unreadable"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "import.unsupported_format"),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "import.unsupported_format"),
        ("sheet.ods", b"phone\n1\n", "import.unsupported_format"),
        ("image.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "import.unsupported_format"),
        ("bytes.csv", b"phone\n\xff\xfe\xfd\x80\x80\n", "import.unreadable"),
    ],
)
def test_file_level_errors(tmp_path: Path, name: str, data: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert error_code(path) == code


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        read_table(tmp_path / "nope.csv")
    assert info.value.code == "import.file_not_found"
    assert str(tmp_path) not in info.value.message


def test_xlsx_header_only_and_empty_sheet(tmp_path: Path) -> None:
    assert error_code(write_xlsx(tmp_path / "h.xlsx", [["手机号", "姓名"]])) == "import.no_rows"
    assert error_code(write_xlsx(tmp_path / "e.xlsx", [])) == "import.empty_file"


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "doc.xlsx", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert error_code(tmp_path / "doc.xlsx") == "import.unsupported_format"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (13800138000, "13800138000"),
        (13800138000.0, "13800138000"),
        (8613800138000.0, "8613800138000"),
        (1.5e-7, "0.00000015"),
        (2.25, "2.25"),
        (1e20, "100000000000000000000"),
        (True, "TRUE"),
        (dt.datetime(2024, 3, 4), "2024-03-04"),
        (dt.datetime(2024, 3, 4, 5, 6, 7), "2024-03-04 05:06:07"),
        (dt.date(2024, 3, 4), "2024-03-04"),
        ("  text ", "text"),
    ],
)
def test_cell_text(value: Any, text: str) -> None:
    assert cell_text(value) == text
