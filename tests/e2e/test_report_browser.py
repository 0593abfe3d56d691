"""A report generated from ``waihu demo`` data opens in headless Chromium with its charts drawn,
and without any network request (plotly.js is embedded)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import last_json

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _open(html: Path, shot: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(html.as_uri())
            page.wait_for_selector("#chart-hours .main-svg", timeout=60_000)
            page.screenshot(path=str(shot), full_page=True)
            info: dict[str, Any] = page.evaluate("""() => {
                const out = {};
                for (const d of document.querySelectorAll('.js-plotly-plot')) {
                    out[d.id] = {traces: (d.data || []).length, svgs: d.querySelectorAll('.main-svg').length,
                                 bars: d.querySelectorAll('.bars .point, .slice, .heatmaplayer image').length};
                }
                return out;
            }""")
        finally:
            browser.close()
    info["_outside"] = outside
    return info


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_campaign_and_daily_reports_render(waihu: Any, tmp_path: Path) -> None:
    demo = last_json(waihu("demo", "--contacts", "150", "--agents", "4", "--json").stdout)
    camp = tmp_path / "campaign.html"
    waihu("report", "campaign", "--tenant", "demo", "--campaign", demo["campaign"], "--out", str(camp))
    info = _open(camp, tmp_path / "campaign.png")
    assert info["_outside"] == []
    for chart in ("chart-hours", "chart-outcomes", "chart-agents", "chart-funnel", "chart-heatmap"):
        assert info[chart]["svgs"] >= 1 and info[chart]["traces"] >= 1, chart
    assert info["chart-hours"]["bars"] > 0 and info["chart-outcomes"]["bars"] > 0
    assert (tmp_path / "campaign.png").stat().st_size > 10_000
    text = camp.read_text(encoding="utf-8")
    assert "任务报告" in text and "Campaign report" in text and "cdn.plot.ly/plotly" not in text

    daily = tmp_path / "daily.html"
    waihu("report", "daily", "--date", "2026-01-05", "--out", str(daily))  # the only tenant with data
    d = _open(daily, tmp_path / "daily.png")
    assert d["chart-hours"]["traces"] == 2 and d["_outside"] == []

    xlsx = tmp_path / "daily.xlsx"
    doc = last_json(waihu("report", "daily", "--tenant", "demo", "--date", "2026-01-05", "--out", str(xlsx),
                          "--format", "xlsx", "--json").stdout)
    with zipfile.ZipFile(xlsx) as z:
        assert any(n.startswith("xl/charts/") for n in z.namelist())
    # the campaign may run over several days (calls deferred outside the calling window):
    # the daily reports of its days add up to every attempt of the demo
    total, day = doc["totals"]["attempts"], 5
    assert total > 0
    while total < demo["attempts"] and day < 12:
        day += 1
        total += last_json(waihu("report", "daily", "--tenant", "demo", "--date", f"2026-01-{day:02d}", "--out",
                                 str(tmp_path / f"d{day}.html"), "--json").stdout)["totals"]["attempts"]
    assert total == demo["attempts"]
    empty = last_json(waihu("report", "daily", "--tenant", "demo", "--date", "2025-12-31", "--out",
                            str(tmp_path / "empty.html"), "--json").stdout)
    assert empty["totals"]["attempts"] == 0


def test_kpis_and_staffing_contract(waihu: Any) -> None:
    demo = last_json(waihu("demo", "--contacts", "120", "--agents", "3", "--json").stdout)
    doc = last_json(waihu("report", "kpis", "--campaign", demo["campaign"], "--by", "agent",
                          "--by", "hour", "--json").stdout)
    assert doc["campaign"] == demo["campaign"]
    assert doc["totals"]["attempts"] == demo["attempts"]
    assert doc["totals"]["connect_rate"] == pytest.approx(demo["connect_rate"])
    assert sum(r["attempts"] for r in doc["rows"]) == demo["attempts"]
    for r in [doc["totals"], *doc["rows"]]:
        for k in ("connect_rate", "abandon_rate", "talk_occupancy", "conversion_rate"):
            assert 0 <= r[k] <= 1
        assert {"attempts", "answered", "aht_seconds"} <= set(r)
    s = last_json(waihu("report", "staffing", "--calls-per-hour", "360", "--aht", "100", "--agents", "14",
                        "--sl-seconds", "20", "--json").stdout)
    assert s["p_wait"] == pytest.approx(0.1741, abs=1e-4) and "p_abandon" not in s
    a = last_json(waihu("report", "staffing", "--calls-per-hour", "360", "--aht", "100", "--agents", "14",
                        "--patience", "60", "--sl-seconds", "20", "--json").stdout)
    assert 0 < a["p_abandon"] < 1
    t = last_json(waihu("report", "staffing", "--calls-per-hour", "360", "--aht", "100", "--target-sl", "0.8",
                        "--sl-seconds", "20", "--json").stdout)
    assert t["agents"] == 13
    bad = waihu("report", "staffing", "--calls-per-hour", "360", "--aht", "100", "--agents", "10",
                "--sl-seconds", "20", "--json", check=False)
    assert bad.returncode != 0 and "Infinity" not in bad.stdout
    assert json.loads(bad.stdout)["error"]["code"] == "staffing.unstable_queue"
