"""The sample files under examples/contacts import as documented in docs/import.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from waihu.service.importing.mapping import parse_contact_file

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "contacts"


@pytest.mark.parametrize(
    ("name", "fmt", "accepted", "rejected", "warnings"),
    [
        (
            "sample_zh_gbk.csv",
            "csv",
            [2, 3, 4, 5, 7],
            [(6, "手机号", "phone.too_short"), (6, "年龄", "contact.invalid_age")],
            [(7, "备用电话", "phone.missing_area_code")],
        ),
        (
            "sample_en.csv",
            "csv",
            [2, 3, 4],
            [(5, "Email", "contact.invalid_email"), (5, "Priority", "contact.invalid_priority")],
            [],
        ),
        ("sample.xlsx", "xlsx", [2, 3, 5], [(6, "手机号", "phone.scientific_notation")], []),
    ],
)
def test_samples(
    name: str,
    fmt: str,
    accepted: list[int],
    rejected: list[tuple[int, str, str]],
    warnings: list[tuple[int, str, str]],
) -> None:
    result = parse_contact_file(SAMPLES / name)
    assert result.format == fmt
    assert [r.row for r in result.rows] == accepted
    assert [(d.row, d.field, d.code) for d in result.rejected] == rejected
    assert [(d.row, d.field, d.code) for d in result.warnings] == warnings


def test_gbk_sample_reads_chinese_text() -> None:
    result = parse_contact_file(SAMPLES / "sample_zh_gbk.csv")
    assert result.encoding == "gb18030"
    first = result.rows[0]
    assert first.name == "张伟"
    assert first.fields["tags"] == ["老客户", "高意向"]
    assert [p.kind for p in first.phones] == ["mobile", "landline"]
