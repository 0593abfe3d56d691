"""``waihu dnc``, ``waihu compliance``, ``waihu explain`` end to end: bad input is refused and changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import last_json

NUM = "13912345678"


def test_dnc_cli_round_trip_and_bad_input(waihu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = waihu("dnc", "add", NUM, "--until", "2020-01-01T00:00:00+08:00", "--json", check=False)
    assert p.returncode != 0
    err = last_json(p.stdout)["error"]
    assert err["code"] == "dnc.invalid" and err["details"][0]["code"] == "dnc.expiry_in_past"
    assert last_json(waihu("dnc", "list", "--json").stdout)["entries"] == []
    f = tmp_path / "dnc.csv"
    f.write_text(f"number,source\n{NUM},complaint\n12345,regulator\n", encoding="utf-8")
    p = waihu("dnc", "import", str(f), "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["details"][0]["row"] == 3
    assert last_json(waihu("dnc", "list", "--json").stdout)["entries"] == []  # nothing half-applied
    f.write_text(f"number,source\n{NUM},complaint\n", encoding="utf-8")
    assert last_json(waihu("dnc", "import", str(f), "--json").stdout) == {"added": 1}
    out = tmp_path / "export.csv"
    waihu("dnc", "export", "-o", str(out))
    assert NUM not in out.read_text() and len(out.read_text().splitlines()) == 2
    assert last_json(waihu("dnc", "remove", NUM, "--json").stdout) == {"removed": 1}


def test_compliance_rules_cli_refuses_bad_rules(waihu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.yaml"
    good.write_text("windows: ['09:00-20:00']\nholidays: ['2026-02-17']\n", encoding="utf-8")
    waihu("compliance", "set", str(good))
    bad = tmp_path / "bad.yaml"
    bad.write_text("windows: ['25:00-26:00']\nmax_per_day: -1\ntimezone: Mars/Base\n", encoding="utf-8")
    p = waihu("compliance", "set", str(bad), "--json", check=False)
    assert p.returncode != 0
    codes = {d["code"] for d in last_json(p.stdout)["error"]["details"]}
    assert {"compliance.invalid_time", "compliance.invalid_cap", "compliance.unknown_timezone"} <= codes
    shown = last_json(waihu("compliance", "show", "--json").stdout)["compliance"]
    assert shown == {"windows": ["09:00-20:00"], "holidays": ["2026-02-17"]}  # unchanged
    p = waihu("explain", "13800000000", "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "contact.not_found"
