"""Reports and analytics through the API: the daily and campaign reports as files (audited), KPIs,
funnel, ROI, time slots and staffing; bad input listed at once; another tenant's data never
counted and its campaigns answering 404."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.apitools import Tenant, World, error_code

from waihu.domain.errors import ValidationError
from waihu.service.analytics.staffing import staffing

MISSING = "f" * 32


def _calls(world: World, t: Tenant, name: str, phones: list[str]) -> str:
    """A running campaign with calls answered by the robot seat; returns the campaign id."""
    camp = world.post("/v1/campaigns", t, json={"name": name}).json()["id"]
    assert world.post(f"/v1/campaigns/{camp}/start", t).status_code == 200
    for p in phones:
        r = world.post("/v1/outbound", t, json={"phone": p, "campaign_id": camp})
        assert r.status_code == 202, r.text
    world.advance(120)
    return camp


def _cdrs(world: World, t: Tenant, campaign_id: str | None = None) -> list[dict[str, Any]]:
    q = f"?limit=500&campaign_id={campaign_id}" if campaign_id else "?limit=500"
    return list(world.get(f"/v1/cdrs{q}", t).json()["items"])


def _today(world: World) -> str:
    return datetime.fromtimestamp(world.clock.now(), ZoneInfo("Asia/Shanghai")).date().isoformat()


def _downloads(world: World, t: Tenant) -> list[dict[str, Any]]:
    return list(world.get("/v1/audit?action=report.download", t).json()["items"])


def test_report_files_in_every_format_are_audited(world: World) -> None:
    t = world.tenant("acme")
    camp = _calls(world, t, "spring", ["+8613800138001", "+8613800138002", "+8613800138003"])
    n = len(_cdrs(world, t))
    assert n == 3
    day = _today(world)
    r = world.get(f"/v1/reports/daily?day={day}&format=json", t, "qa")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"] == f'attachment; filename="daily-{day}.json"'
    doc = r.json()
    assert (doc["kind"], doc["date"], doc["totals"]["attempts"]) == ("daily", day, n)
    assert [c["campaign"] for c in doc["campaigns"]] == ["spring"]
    r = world.get(f"/v1/reports/daily?day={day}&format=csv", t, "supervisor")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert r.content.startswith(b"\xef\xbb\xbf") and rows[0][:3] == ["section", "key", "attempts"]
    assert rows[1][:3] == ["totals", "", str(n)]
    r = world.get(f"/v1/reports/campaigns/{camp}?format=xlsx", t)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert r.headers["content-disposition"] == f'attachment; filename="campaign-{camp}.xlsx"'
    r = world.get(f"/v1/reports/campaigns/{camp}", t)  # html by default
    assert r.headers["content-type"].startswith("text/html") and "spring" in r.text
    r = world.get(f"/v1/reports/campaigns/{camp}?format=json", t)
    doc = r.json()
    assert (doc["kind"], doc["campaign"], doc["totals"]["attempts"]) == ("campaign", "spring", n)
    for p in ("13800138001", "13800138002", "13800138003"):  # reports carry no customer numbers
        assert p not in r.text and p[:3] + "****" + p[-4:] not in r.text
    assert doc["funnel"][0] == {**doc["funnel"][0], "stage": "dialled", "contacts": n}
    # every download is in the audit log, with who and which format
    got = _downloads(world, t)
    assert sorted((a["object_id"], a["detail"]["format"]) for a in got) == sorted(
        [(f"daily-{day}", "json"), (f"daily-{day}", "csv"), (f"campaign-{camp}", "xlsx"),
         (f"campaign-{camp}", "html"), (f"campaign-{camp}", "json")])
    assert {a["actor"] for a in got} >= {f"token:{t.tokens['qa'].split('_')[1]}"}
    assert world.get(f"/v1/reports/daily?day={day}", t, "agent").status_code == 403
    assert world.get(f"/v1/reports/daily?day={day}", t, "api_client").status_code == 403


def test_bad_report_requests_list_every_problem_and_leave_no_trace(world: World) -> None:
    t = world.tenant("acme")
    camp = world.post("/v1/campaigns", t, json={"name": "spring"}).json()["id"]
    r = world.get("/v1/reports/daily?day=yesterday&format=pdf", t)
    assert r.status_code == 422 and error_code(r) == "report.invalid"
    assert {(d["field"], d["code"]) for d in r.json()["error"]["details"]} == {
        ("day", "report.invalid_date"), ("format", "report.invalid_format")}
    r = world.get(f"/v1/reports/campaigns/{camp}?format=docx", t)
    assert r.status_code == 422 and error_code(r) == "report.invalid_format"
    r = world.get("/v1/reports/daily", t)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "day"
    r = world.get("/v1/reports/kpis?by=colour&by=outcome&since=yesterday&until=2026-01-01T00:00:00", t)
    assert r.status_code == 422 and error_code(r) == "report.invalid"
    assert {(d["field"], d["code"]) for d in r.json()["error"]["details"]} == {
        ("since", "report.invalid_time"), ("until", "report.naive_time"), ("by", "report.unknown_dimension")}
    r = world.get("/v1/reports/kpis?by=hour&by=hour", t)
    assert r.status_code == 422 and error_code(r) == "report.duplicate_dimension"
    r = world.get(f"/v1/reports/campaigns/{camp}/slots?segment=colour", t)
    assert r.status_code == 422 and error_code(r) == "report.unknown_dimension"
    assert _downloads(world, t) == []


def test_kpis_funnel_slots_and_roi_agree_with_the_cdrs(world: World) -> None:
    t = world.tenant("acme")
    spring = _calls(world, t, "spring", ["+8613800138001", "+8613800138002", "+8613800138003"])
    autumn = _calls(world, t, "autumn", ["+8613800138004", "+8613800138005"])
    cdrs = _cdrs(world, t)
    k = world.get("/v1/reports/kpis?by=campaign&by=outcome", t, "qa").json()
    assert k["totals"]["attempts"] == len(cdrs) == 5
    assert k["totals"]["connected"] == sum(1 for c in cdrs if c["outcome"] == "connected")
    per = {(r["campaign"], r["outcome"]): r["attempts"] for r in k["rows"]}
    assert sum(per.values()) == 5 and sum(v for (c, _), v in per.items() if c == "autumn") == 2
    one = world.get(f"/v1/reports/kpis?campaign_id={spring}", t).json()
    assert (one["campaign_id"], one["totals"]["attempts"], one["rows"]) == (spring, 3, [])
    later = world.get("/v1/reports/kpis?since=2030-01-01T00:00:00%2B08:00", t).json()
    assert later["totals"]["attempts"] == 0 and later["since"].startswith("2030-01-01T00:00:00")
    f = world.get(f"/v1/reports/campaigns/{autumn}/funnel", t).json()
    assert f["campaign"] == "autumn" and f["stages"][0]["stage"] == "dialled"
    assert f["stages"][0]["contacts"] == len({c["contact_id"] for c in _cdrs(world, t, autumn)})
    s = world.get(f"/v1/reports/campaigns/{spring}/slots", t).json()
    assert sum(c["attempts"] for c in s["cells"]) == 3 and set(s["plan"]) == {"all"}
    assert all(0 <= c["answer_ci"][0] <= c["answer_rate"] <= c["answer_ci"][1] <= 1 for c in s["cells"])
    roi = world.get(f"/v1/reports/campaigns/{spring}/roi", t).json()
    assert roi["campaign"] == "spring" and roi["conversions"] == one["totals"]["conversions"]
    assert world.get("/v1/reports/kpis", t, "agent").status_code == 403


def test_staffing_sizes_agents_and_trunks(world: World) -> None:
    t = world.tenant("acme")
    r = world.get("/v1/reports/staffing?calls_per_hour=360&aht=100&target_sl=0.8&target_blocking=0.01", t)
    assert r.status_code == 200, r.text
    doc = r.json()
    n = doc["agents"]
    assert doc["model"] == "erlang_c" and doc["traffic_erlangs"] == 10.0 and doc["service_level"] >= 0.8
    fewer = world.get(f"/v1/reports/staffing?calls_per_hour=360&aht=100&agents={n - 1}", t).json()
    assert fewer["service_level"] < 0.8  # the fewest agents that meet the target
    assert doc["trunks"]["blocking"] <= 0.01 and doc["trunks"]["lines"] > n
    a = world.get(f"/v1/reports/staffing?calls_per_hour=360&aht=100&agents={n}&patience=60", t).json()
    assert a["model"] == "erlang_a" and a["agents"] == n
    r = world.get("/v1/reports/staffing?calls_per_hour=360&aht=100", t)
    assert r.status_code == 422 and error_code(r) == "staffing.missing_input"
    r = world.get("/v1/reports/staffing?calls_per_hour=360&aht=100&agents=5", t)
    assert r.status_code == 422 and error_code(r) == "staffing.unstable_queue"
    r = world.get("/v1/reports/staffing?calls_per_hour=-1&aht=0&target_sl=2", t)
    assert r.status_code == 422 and {d["field"] for d in r.json()["error"]["details"]} == {
        "calls_per_hour", "aht", "target_sl"}
    # the load one request may ask for is bounded (Erlang A costs most)
    r = world.get("/v1/reports/staffing?calls_per_hour=2000&aht=100&target_sl=0.8&patience=60", t)
    assert r.status_code == 422 and error_code(r) == "staffing.too_large"
    assert world.get("/v1/reports/staffing?calls_per_hour=2000&aht=100&target_sl=0.8", t).status_code == 200
    # the service refuses inputs the formulas cannot take (the CLI's path), each one named
    with pytest.raises(ValidationError) as e:
        staffing(5e-324, 5e-324, agents=1, patience=5e-324)
    assert e.value.code == "staffing.invalid_input"
    assert [d.field for d in e.value.details] == ["calls_per_hour", "aht", "patience"]


def test_reports_of_another_tenant(world: World) -> None:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    camp = _calls(world, a, "spring", ["+8613800138001", "+8613800138002"])
    day = _today(world)
    world.get(f"/v1/reports/campaigns/{camp}?format=csv", a)
    for path in ("/v1/reports/campaigns/{}", "/v1/reports/campaigns/{}/funnel", "/v1/reports/campaigns/{}/roi",
                 "/v1/reports/campaigns/{}/slots", "/v1/reports/kpis?campaign_id={}"):
        rb = world.get(path.format(camp), b)
        rm = world.get(path.format(MISSING), b)
        assert rb.status_code == 404 and error_code(rb) == "campaign.not_found", path
        assert rb.json() == rm.json()
    # B's reports count none of A's calls, and B's audit log shows none of A's downloads
    assert world.get(f"/v1/reports/daily?day={day}&format=json", b).json()["totals"]["attempts"] == 0
    assert world.get("/v1/reports/kpis?by=campaign", b).json()["rows"] == []
    assert [x["object_id"] for x in _downloads(world, b)] == [f"daily-{day}"]
    assert [x["object_id"] for x in _downloads(world, a)] == [f"campaign-{camp}"]
    assert json.loads(world.get(f"/v1/reports/daily?day={day}&format=json", a).content)["totals"]["attempts"] == 2
