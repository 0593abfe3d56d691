"""No imported phone number, name or custom value in plain text at rest: the SQLite file, the PostgreSQL dump."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.conftest import last_json

NUMBERS = ["13912345678", "13812345679", "15912345670", "18611112222"]
NAMES = ["张三丰", "李四光", "王五娘", "赵六郎"]
SECRET = "秘密备注XJ42"


def dump(db_url: str) -> bytes:
    """Every byte the database keeps: the SQLite files (WAL included), or a pg_dump of the test schema."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    schema = re.search(r"search_path%3D(\w+)", db_url)
    assert schema is not None
    out = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-n", schema.group(1)],
                         capture_output=True, check=True, timeout=120)
    return out.stdout


def forms(national: str) -> list[bytes]:
    """The ways a number could appear: national, E.164, with +86 or 86, as UTF-16 too."""
    texts = [national, "+86" + national, "86" + national]
    return [t.encode() for t in texts] + [t.encode("utf-16-le") for t in texts]


def test_imported_numbers_names_and_custom_columns_are_not_in_plain_text(waihu, db_url: str,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    f = tmp_path / "contacts.csv"
    lines = ["姓名,手机号,备注,会员卡号,邮箱"] + [f"{n},{p},{SECRET},{SECRET}{i},u{i}@example.org"
                                          for i, (n, p) in enumerate(zip(NAMES, NUMBERS, strict=True))]
    lines.append("坏号码,1391234,x,y,")  # a rejected row: its report is kept on the server
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    waihu("campaign", "create", "pii", "--job-type", "service", "--json")
    doc = last_json(waihu("import", "contacts", str(f), "--campaign", "pii", "--json").stdout)
    assert doc["imported"] == 4 and len(doc["rejected"]) == 1
    waihu("dnc", "add", NUMBERS[3], "--source", "complaint")
    waihu("contact", "complaint", NUMBERS[2])
    waihu("contact", "consent", NUMBERS[1], "--source", "web_form")
    shown = waihu("explain", NUMBERS[0], "--json").stdout
    assert NUMBERS[0] not in shown and "139****5678" in shown  # masked on display
    erased = last_json(waihu("contact", "erase", NUMBERS[1], "--yes", "--json").stdout)
    assert erased["numbers"] == 1
    blob = dump(db_url)
    assert len(blob) > 10_000
    for n in NUMBERS:
        for form in forms(n):
            assert form not in blob, f"a number in plain text ({n[:3]}****)"
    for name in NAMES:
        assert name.encode() not in blob
    assert SECRET.encode() not in blob  # notes (a personal field) and a custom column
    assert b"@example.org" not in blob
    assert b"1391234" not in blob  # not even the rejected row's digits
