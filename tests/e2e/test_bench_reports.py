"""``waihu bench reports`` writes the CDRs it is asked for and times every report."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import last_json


def test_bench_reports_small(waihu: Any) -> None:
    doc = last_json(waihu("bench", "reports", "--cdrs", "3000", "--days", "3", "--json").stdout)
    assert doc["cdrs"] == 3000 and doc["days"] == 3
    assert set(doc["seconds"]) >= {"daily_data", "daily_html", "daily_xlsx", "campaign_report_html"}
    assert all(v >= 0 for v in doc["seconds"].values())
    assert doc["daily_from_rollup"] is True and doc["rollup_rebuild_seconds"] >= 0
    assert doc["rollup_rows"]["hourly"] > 0 and "daily_data_raw" in doc["seconds"]
    again = last_json(waihu("bench", "reports", "--cdrs", "3000", "--days", "3", "--reuse", "--json").stdout)
    assert again["cdrs"] == 3000 and again["generate_seconds"] == 0
    kpis = last_json(waihu("report", "kpis", "--tenant", "bench-reports-3000-3", "--json").stdout)
    assert kpis["totals"]["attempts"] == 3000
    rebuilt = last_json(waihu("report", "rollup", "--tenant", "bench-reports-3000-3", "--json").stdout)
    assert rebuilt["hourly_rows"] == doc["rollup_rows"]["hourly"] and rebuilt["day_rows"] == doc["rollup_rows"]["day"]
