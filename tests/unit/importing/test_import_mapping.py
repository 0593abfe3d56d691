"""Column recognition and row validation: waihu.service.importing.{columns,mapping}."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.service.importing.mapping import FIELD_HEADERS, map_columns, parse_contact_file


def codes(details: list[ErrorDetail]) -> list[tuple[int | None, str | None, str]]:
    return [(d.row, d.field, d.code) for d in details]


# -- column recognition ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("手机号", "phone"),
        (" 联系电话 ", "phone"),
        ("Phone Number", "phone"),
        ("PHONE-NUMBER", "phone"),
        ("mobile_phone", "phone"),
        ("*手机号码", "phone"),
        ("Ｐｈｏｎｅ", "phone"),
        ("固话", "alt_phone"),
        ("Alt Phone", "alt_phone"),
        ("other-phone", "alt_phone"),
        ("客户姓名", "name"),
        ("Full Name", "name"),
        ("E-Mail", "email"),
        ("电子邮箱", "email"),
        ("出生日期", "birthday"),
        ("Date of Birth", "birthday"),
        ("省份", "region"),
        ("标签", "tags"),
        ("渠道", "source"),
        ("客户ID", "external_id"),
        ("customer id", "external_id"),
        ("优先级", "priority"),
        ("客户等级", "spend_tier"),
        ("Remark", "notes"),
        ("Sex", "gender"),
        ("年龄", "age"),
    ],
)
def test_headers_are_recognised(header: str, field: str) -> None:
    cmap = map_columns(["电话" if field != "phone" else "x", header])
    assert cmap.as_dict()[field] == [header]


def test_every_listed_header_maps_to_its_field() -> None:
    for field, headers in FIELD_HEADERS.items():
        for header in headers:
            mapped = map_columns(["x", header, "电话"] if field != "phone" else ["x", header]).as_dict()
            assert mapped[field] == [header], (field, header)


def test_primary_and_additional_phones_and_custom_attributes() -> None:
    cmap = map_columns(["座机", "姓名", "手机号", "会员卡", "备用电话", "电话"])
    assert cmap.as_dict() == {
        "phone": ["手机号"],
        "alt_phone": ["座机", "备用电话", "电话"],
        "name": ["姓名"],
        "attributes": ["会员卡"],
    }


def test_only_an_additional_phone_column_becomes_primary() -> None:
    assert map_columns(["姓名", "座机"]).as_dict()["phone"] == ["座机"]


def test_second_column_for_a_single_field_is_kept_as_attribute_with_warning() -> None:
    cmap = map_columns(["phone", "省份", "城市"])
    assert cmap.as_dict()["region"] == ["省份"]
    assert cmap.as_dict()["attributes"] == ["城市"]
    assert codes(cmap.warnings) == [(None, "城市", "import.duplicate_column")]


def test_no_phone_column_lists_headers_and_recognised_names() -> None:
    with pytest.raises(ValidationError) as info:
        map_columns(["姓名", "客户手机"])
    assert info.value.code == "import.no_phone_column"
    assert "客户手机" in info.value.message
    assert "手机号" in info.value.message


def test_override_picks_the_phone_column_and_demotes_the_guess() -> None:
    cmap = map_columns(["电话", "客户手机", "姓名"], {"phone": "客户手机", "notes": "姓名"})
    assert cmap.as_dict() == {"phone": ["客户手机"], "alt_phone": ["电话"], "notes": ["姓名"]}


def test_override_matches_headers_loosely() -> None:
    assert map_columns(["Customer Mobile"], {"phone": "customer_mobile"}).as_dict()["phone"] == [
        "Customer Mobile"
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"telephone": "电话"}, "telephone"),
        ({"phone": "不存在"}, "phone"),
        ({"phone": "电话", "notes": "电话"}, "notes"),
    ],
)
def test_bad_overrides(overrides: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        map_columns(["电话", "姓名"], overrides)
    assert info.value.code == "import.bad_column_override"
    assert [(d.code, d.field) for d in info.value.details] == [("import.bad_column_override", field)]


# -- whole files ---------------------------------------------------------------------------

MIXED_ROWS = [
    # row 2: good, several numbers, one repeated, tags split
    "13800138000,张三,0571-88888888,标签A， 标签B;标签A,30,a@example.com,5,VIP卡,北京",
    # row 3: duplicate of row 2's number in another format: still returned
    "+86 138 0013 8000,张三丰,,,,,,,",
    # row 4: blank
    ",,,,,,,,",
    # row 5: primary empty, landline valid -> accepted with landline as primary
    ",李四,010-12345678,,,,,,",
    # row 6: primary empty, nothing else -> missing phone
    ",王五,,,,,,,",
    # row 7: bad primary, bad age, bad email, bad priority: four problems
    "1380013800,赵六,,,200,not-an-email,high,,",
    # row 8: good primary, bad secondary -> warning only
    "13900139000,钱七,88888888,,,,,,",
    # row 9: spreadsheet scientific notation stored as text
    "1.3800138E+10,孙八,,,,,,,",
    # row 10: letters
    "call me,周九,,,,,,,",
]
MIXED_HEADER = "手机号,姓名,固话,标签,年龄,邮箱,优先级,会员卡,地区"


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.csv"
    path.write_bytes(("\n".join([MIXED_HEADER, *MIXED_ROWS]) + "\n").encode("gbk"))
    return path


def test_mixed_file_rows_and_problems(mixed_csv: Path) -> None:
    result = parse_contact_file(mixed_csv)
    assert result.encoding == "gb18030"
    assert result.format == "csv"
    assert [r.row for r in result.rows] == [2, 3, 5, 8]
    assert codes(result.rejected) == [
        (6, "手机号", "import.missing_phone"),
        (7, "手机号", "phone.too_short"),
        (7, "年龄", "contact.invalid_age"),
        (7, "邮箱", "contact.invalid_email"),
        (7, "优先级", "contact.invalid_priority"),
        (9, "手机号", "phone.scientific_notation"),
        (10, "手机号", "phone.not_a_number"),
    ]
    assert codes(result.warnings) == [(8, "固话", "phone.missing_area_code")]

    first, second, third, fourth = result.rows
    assert [p.phone.e164 for p in first.phones] == ["+8613800138000", "+8657188888888"]
    assert first.name == "张三"
    assert first.fields == {
        "tags": ["标签A", "标签B"],
        "age": 30,
        "email": "a@example.com",
        "priority": 5,
        "region": "北京",
    }
    assert first.attributes == {"会员卡": "VIP卡"}
    assert [p.phone.e164 for p in second.phones] == ["+8613800138000"]
    assert second.fields == {}
    assert second.attributes == {}
    assert [p.phone.e164 for p in third.phones] == ["+861012345678"]
    assert third.phones[0].kind == "landline"
    assert [p.phone.e164 for p in fourth.phones] == ["+8613900139000"]
    assert result.column_map == {
        "phone": ["手机号"],
        "alt_phone": ["固话"],
        "name": ["姓名"],
        "tags": ["标签"],
        "age": ["年龄"],
        "email": ["邮箱"],
        "priority": ["优先级"],
        "region": ["地区"],
        "attributes": ["会员卡"],
    }


def test_messages_never_contain_full_numbers(mixed_csv: Path) -> None:
    result = parse_contact_file(mixed_csv)
    for detail in result.rejected + result.warnings:
        for digits in ("1380013800", "88888888", "13800138000"):
            assert digits not in detail.message


def test_same_number_in_primary_and_secondary_is_kept_once(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("phone,phone2\n13800138000,+8613800138000\n", "utf-8")
    (row,) = parse_contact_file(path).rows
    assert [p.phone.e164 for p in row.phones] == ["+8613800138000"]


def test_invalid_primary_is_rejected_even_if_secondary_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("phone,landline\nabc,010-12345678\n", "utf-8")
    result = parse_contact_file(path)
    assert result.rows == []
    assert codes(result.rejected) == [(2, "phone", "phone.not_a_number")]


def test_name_too_long(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text(f"phone,name\n13800138000,{'x' * 101}\n13900139000,{'y' * 100}\n", "utf-8")
    result = parse_contact_file(path)
    assert codes(result.rejected) == [(2, "name", "contact.name_too_long")]
    assert [r.name for r in result.rows] == ["y" * 100]


@pytest.mark.parametrize(
    ("age", "accepted"),
    [("0", 0), ("150", 150), ("42.0", 42), ("151", None), ("-1", None), ("3.5", None), ("老", None)],
)
def test_age_bounds(tmp_path: Path, age: str, accepted: int | None) -> None:
    path = tmp_path / "a.csv"
    path.write_text(f"phone,age\n13800138000,{age}\n", "utf-8")
    result = parse_contact_file(path)
    if accepted is None:
        assert codes(result.rejected) == [(2, "age", "contact.invalid_age")]
    else:
        assert result.rows[0].fields == {"age": accepted}


def test_override_from_cli_applies_to_file(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("客户手机,电话\n13800138000,0571-88888888\n", "utf-8")
    result = parse_contact_file(path, column_overrides={"phone": "客户手机"})
    assert [p.phone.e164 for p in result.rows[0].phones] == ["+8613800138000", "+8657188888888"]


def test_blank_and_duplicate_custom_headers_keep_every_value(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("phone,会员卡,,会员卡\n13800138000,A,B,C\n", "utf-8")
    (row,) = parse_contact_file(path).rows
    assert row.attributes == {"会员卡": "A", "col3": "B", "会员卡 (2)": "C"}


def test_xlsx_with_numeric_phone_cells(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(["Phone", "Name", "Priority", "Tags"])
    ws.append([13800138000, "Ann", 3, "a|b"])
    ws.append([13900139000.0, "Bo", 2.0, None])
    ws.append([None, None, None, None])
    ws.append([8613700137000, "Cy", "x", "c"])
    workbook.save(tmp_path / "p.xlsx")
    result = parse_contact_file(tmp_path / "p.xlsx")
    assert result.format == "xlsx"
    assert [(r.row, r.phones[0].phone.e164, r.fields) for r in result.rows] == [
        (2, "+8613800138000", {"priority": 3, "tags": ["a", "b"]}),
        (3, "+8613900139000", {"priority": 2}),
    ]
    assert codes(result.rejected) == [(5, "Priority", "contact.invalid_priority")]


def test_file_level_errors_propagate(tmp_path: Path) -> None:
    path = tmp_path / "np.csv"
    path.write_text("name,city\nAnn,Paris\n", "utf-8")
    with pytest.raises(ValidationError) as info:
        parse_contact_file(path)
    assert info.value.code == "import.no_phone_column"
    with pytest.raises(ValidationError) as info:
        parse_contact_file(tmp_path / "missing.xlsx")
    assert info.value.code == "import.file_not_found"


def test_default_region_applies_to_national_numbers(tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text("phone\n(650) 253-0000\n", "utf-8")
    (row,) = parse_contact_file(path, default_region="US").rows
    assert row.phones[0].phone.e164 == "+16502530000"
    assert row.phones[0].timezone == "America/Los_Angeles"
