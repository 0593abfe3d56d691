"""``waihu import contacts`` end to end: every documented result, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import create_engine, text
from tests.e2e.conftest import last_json

GOOD = ["13912345678", "13812345679", "15912345670"]


def rows_in(db_url: str, sql: str) -> Any:
    e = create_engine(db_url)
    with e.connect() as c:
        v = c.execute(text(sql)).scalar()
    e.dispose()
    return v


def opened_attributes(db_url: str, name: str) -> dict[str, Any] | None:
    """The custom columns of the contact with this name, unsealed."""
    from waihu.bootstrap import bootstrap

    p = bootstrap(db_url)
    try:
        with p.engine.connect() as c:
            for tid, sealed_name, attrs in c.execute(text("SELECT tenant_id, name, attributes FROM contacts")):
                if p.codec.open_text(tid, sealed_name) == name:
                    return p.codec.open_json(tid, attrs if isinstance(attrs, dict) else json.loads(attrs))
    finally:
        p.dispose()
    return None


def write_mixed(path: Path, encoding: str = "utf-8") -> None:
    lines = [
        "姓名,手机号,城市,会员等级",  # row 1: header
        f"张三,{GOOD[0]},杭州,金卡",  # row 2
        "李四,12345,上海,银卡",  # row 3: malformed
        "王五,139-1234-5678,杭州,钻石",  # row 4: duplicate of row 2 written differently
        "赵六,,北京,",  # row 5: no phone
        f"钱七,+86 {GOOD[1][:3]} {GOOD[1][3:7]} {GOOD[1][7:]},深圳,",  # row 6
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def test_mixed_file_reports_every_row_and_merges_duplicates(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "list.csv"
    write_mixed(f)
    doc = last_json(waihu("import", "contacts", str(f), "--json").stdout)
    assert doc["imported"] == 2 and doc["duplicates"] == 1
    rejected = {(r["row"], r["field"], r["code"]) for r in doc["rejected"]}
    assert (3, "手机号", "phone.invalid") in rejected
    assert any(r[0] == 5 and r[2] == "import.missing_phone" for r in rejected)
    assert len(doc["rejected"]) == 2
    assert doc["merged"] == [{"row": 4, "contact_id": doc["merged"][0]["contact_id"], "reason": "duplicate_in_file"}]
    assert rows_in(db_url, "SELECT count(*) FROM contacts") == 2
    assert rows_in(db_url, "SELECT count(*) FROM contact_phones") == 2
    # the later row's values were merged into the customer record (custom column kept as attribute)
    # (names and custom columns are stored sealed: read them through the codec)
    assert "钻石" in str(opened_attributes(db_url, "王五"))
    assert rows_in(db_url, "SELECT count(*) FROM contacts WHERE name = '王五'") == 0
    # importing the same file again: everything valid is a duplicate of an existing customer
    again = last_json(waihu("import", "contacts", str(f), "--json").stdout)
    assert again["imported"] == 0 and again["duplicates"] == 3
    assert {m["reason"] for m in again["merged"]} == {"existing_contact"}
    assert rows_in(db_url, "SELECT count(*) FROM contacts") == 2


def test_gbk_file_with_chinese_headers(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "gbk.csv"
    write_mixed(f, "gbk")
    doc = last_json(waihu("import", "contacts", str(f), "--json").stdout)
    assert doc["imported"] == 2 and doc["duplicates"] == 1 and len(doc["rejected"]) == 2
    assert opened_attributes(db_url, "王五") is not None  # the later row wins (the name is stored sealed)


def test_xlsx_numeric_cells_keep_every_digit(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "list.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["name", "mobile"])
    ws.append(["A", int(GOOD[0])])
    ws.append(["B", float(GOOD[1])])
    ws.append(["C", GOOD[2]])
    wb.save(f)
    waihu("campaign", "create", "spring", "--json")
    doc = last_json(waihu("import", "contacts", str(f), "--campaign", "spring", "--json").stdout)
    assert doc["imported"] == 3 and doc["rejected"] == [] and doc["added_to_campaign"] == 3
    status = last_json(waihu("campaign", "status", "spring", "--json").stdout)
    assert status["contacts"] == 3 and status["contacts_pending"] == 3
    # a workbook with several sheets: --sheet picks one; a wrong name lists the sheets
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "说明"
    first.append(["read me"])
    second = wb.create_sheet("名单")
    second.append(["手机号"])
    second.append(["13800138077"])
    many = tmp_path / "many.xlsx"
    wb.save(many)
    doc = last_json(waihu("import", "contacts", str(many), "--sheet", "名单", "--json").stdout)
    assert doc["imported"] == 1 and doc["rejected"] == []
    p = waihu("import", "contacts", str(many), "--sheet", "Sheet9", "--json", check=False)
    err = last_json(p.stdout)["error"]
    assert p.returncode != 0 and err["code"] == "import.sheet_not_found" and "名单" in err["message"]


def test_strict_import_lands_nothing(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "list.csv"
    write_mixed(f)
    p = waihu("import", "contacts", str(f), "--strict", "--json", check=False)
    assert p.returncode != 0
    doc = last_json(p.stdout)
    assert doc["imported"] == 0 and len(doc["rejected"]) == 2
    assert doc["error"]["code"] == "import.strict_rejected"
    assert rows_in(db_url, "SELECT count(*) FROM contacts") == 0


def test_empty_and_missing_files_fail_clearly(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    p = waihu("import", "contacts", str(empty), "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "import.empty_file"
    p = waihu("import", "contacts", str(tmp_path / "nope.csv"), "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "import.file_not_found"
    assert rows_in(db_url, "SELECT count(*) FROM contacts") == 0


def test_unknown_campaign_and_bad_column_override(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "list.csv"
    write_mixed(f)
    p = waihu("import", "contacts", str(f), "--campaign", "ghost", "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "campaign.not_found"
    p = waihu("import", "contacts", str(f), "--column", "phone", "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "import.bad_column_override"
    doc = last_json(waihu("import", "contacts", str(f), "--column", "phone=手机号", "--json").stdout)
    assert doc["imported"] == 2


def test_import_output_and_server_report_hold_no_full_number(waihu, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "list.csv"
    write_mixed(f)
    p = waihu("import", "contacts", str(f), "--json")
    assert GOOD[0] not in p.stdout + p.stderr
    report = str(rows_in(db_url, "SELECT report FROM imports"))
    assert "rejected" in report
    for number in GOOD[:2]:
        assert number not in report
