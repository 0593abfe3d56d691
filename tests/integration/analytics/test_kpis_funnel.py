"""KPIs, funnel, ROI, slots, A/B tests and alerts on a hand-built campaign with known answers,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.analytics.handbuilt import NOW, build
from waihu.bootstrap import Platform
from waihu.domain.errors import ValidationError
from waihu.service.analytics import alerts, funnel, roi
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.kpis import Scope, compute, local_day

# totals by hand: 8 attempts; answered = 4 connected + 1 abandoned; contacts 5, answered 4 (c3 never)
TALK, WRAP, LOGGED = 410.0, 100.0, 5 * 3600.0


def _kpis(p: Platform, tid: str, **kw: Any) -> dict[str, Any]:
    with p.uow(tid) as uow:
        return compute(uow, Scope(**kw))


def test_totals(platform: Platform) -> None:
    tid, camp = build(platform)
    k = _kpis(platform, tid, campaigns=[camp])["totals"]
    assert (k["attempts"], k["answered"], k["connected"], k["abandoned"]) == (8, 5, 4, 1)
    assert k["connect_rate"] == pytest.approx(4 / 5)  # c1's retry chain counts once
    assert k["abandon_rate"] == pytest.approx(1 / 5)
    assert k["talk_seconds"] == pytest.approx(TALK)
    assert k["wrap_seconds"] == pytest.approx(WRAP, abs=1e-3)
    assert k["aht_seconds"] == pytest.approx((TALK + WRAP) / 4, abs=1e-3)
    assert k["talk_occupancy"] == pytest.approx(TALK / LOGGED, abs=1e-6)
    assert k["conversions"] == 1 and k["conversion_rate"] == pytest.approx(1 / 4)
    assert k["complaints"] == 1 and k["complaint_rate"] == pytest.approx(1 / 4)
    assert k["revenue"] == "0.00"


def test_dimensions(platform: Platform) -> None:
    tid, camp = build(platform)
    a, b = tid[:8] + "A", tid[:8] + "B"
    rows = {r["agent"]: r for r in _kpis(platform, tid, campaigns=[camp], by=["agent"])["rows"]}
    assert rows[a]["connected"] == 2 and rows[a]["talk_seconds"] == pytest.approx(300)
    assert rows[a]["talk_occupancy"] == pytest.approx(300 / 10800, abs=1e-6)
    assert rows[b]["talk_occupancy"] == pytest.approx(110 / 7200, abs=1e-6)
    assert rows["(none)"]["attempts"] == 4
    hours = {(r["weekday"], r["hour"]): r["attempts"]
             for r in _kpis(platform, tid, campaigns=[camp], by=["weekday", "hour"])["rows"]}
    assert hours == {(1, 9): 3, (1, 10): 2, (1, 11): 2, (2, 7): 1}  # local time, Monday = 1
    dates = {r["date"]: r["attempts"] for r in _kpis(platform, tid, campaigns=[camp], by=["date"])["rows"]}
    assert dates == {"2026-01-05": 7, "2026-01-06": 1}
    bands = {r["age_band"]: r["attempts"] for r in _kpis(platform, tid, campaigns=[camp], by=["age_band"])["rows"]}
    assert bands == {"25-34": 2, "35-44": 2, "65+": 2, "45-54": 1, "(none)": 1}
    tags = {r["tags"]: r["attempts"] for r in _kpis(platform, tid, campaigns=[camp], by=["tags"])["rows"]}
    assert tags == {"vip": 3, "new": 4, "(none)": 3}
    disp = {r["disposition"]: r["conversions"] for r in
            _kpis(platform, tid, campaigns=[camp], by=["disposition"])["rows"]}
    assert disp["success"] == 1 and disp["complaint"] == 0
    script = _kpis(platform, tid, campaigns=[camp], by=["script", "trunk"])["rows"]
    assert {(r["script"], r["trunk"]): r["attempts"] for r in script} == {("script-v1", "T1"): 4,
                                                                           ("script-v1", "T2"): 4}
    for r in script:
        assert 0 <= r["connect_rate"] <= 1 and 0 <= r["talk_occupancy"] <= 1


def test_local_day_scope(platform: Platform) -> None:
    tid, _camp = build(platform)
    since, until = local_day("Asia/Shanghai", "2026-01-06")
    assert since == datetime(2026, 1, 5, 16, tzinfo=UTC)
    k = _kpis(platform, tid, since=since, until=until)["totals"]
    assert k["attempts"] == 1 and k["logged_seconds"] == 0


def test_unknown_dimension(platform: Platform) -> None:
    tid, _camp = build(platform)
    with pytest.raises(ValidationError) as e:
        _kpis(platform, tid, by=["colour"])
    assert e.value.code == "report.unknown_dimension"


def test_funnel(platform: Platform) -> None:
    tid, camp = build(platform)
    with platform.uow(tid) as uow:
        f = funnel.funnel(uow, camp)
    st = {r["stage"]: r for r in f["stages"]}
    assert [r["stage"] for r in f["stages"]] == ["dialled", "reach", "intent", "needs", "proposal", "conversion"]
    assert st["dialled"]["contacts"] == 5 and st["dialled"]["drop_off"] == {"busy": 1}
    assert st["reach"]["contacts"] == 4 and st["reach"]["rate_from_previous"] == pytest.approx(0.8)
    assert st["intent"]["contacts"] == 2  # c1 (conversion) and c5 (needs)
    assert st["needs"]["contacts"] == 2 and st["proposal"]["contacts"] == 1
    assert st["conversion"]["contacts"] == 1 and st["conversion"]["rate_from_dialled"] == pytest.approx(0.2)
    assert st["reach"]["drop_off"] == {"complaint": 1, "not_interested": 1}
    assert st["needs"]["drop_off"] == {"needs_ok": 1}


def test_roi_and_settings(platform: Platform) -> None:
    tid, camp = build(platform)
    with platform.uow(tid) as uow:
        cfgs.save(uow, camp, {"agent_hourly_cost": "30", "trunk_minute_cost": "0.10",
                              "trunk_minute_costs": {"T2": "0.20"}, "system_cost": "100", "average_order": "800",
                              "repurchase_rate": 1.5, "years": 2, "complaint_codes": ["complaint"]}, NOW)
        uow.commit()
        r = roi.roi(uow, camp)
        # labour 5 h x 30 = 150; telecom T1: 2 + 4 minutes x 0.10, T2: 1 + 1 minutes x 0.20 = 1.00
        assert (r["labour"], r["telecom"], r["system"], r["total_cost"]) == ("150.00", "1.00", "100.00", "251.00")
        assert r["cac"] == "251.00" and r["ltv"] == "2400.00"
        assert r["ltv_cac"] == pytest.approx(2400 / 251, abs=1e-3) and r["meets_threshold"] is True
        k = compute(uow, Scope(campaigns=[camp]))["totals"]
        assert k["revenue"] == "800.00"
        with pytest.raises(ValidationError) as e:
            cfgs.save(uow, camp, {"agent_hourly_cost": "-1"}, NOW)
        assert e.value.code == "analytics.invalid_setting"


def test_alerts_fire_once_per_window(platform: Platform) -> None:
    tid, camp = build(platform)
    now = datetime.fromisoformat("2026-01-05T11:30:00+08:00").timestamp()
    with platform.uow(tid) as uow:
        cfgs.save(uow, camp, {"alerts": {"window_minutes": 180, "min_attempts": 5}}, NOW)
        fired = alerts.evaluate(uow, now, [camp])
        rules = sorted(a["rule"] for a in fired)
        # window 08:30-11:30: 7 attempts, connect 4/5 (ok); abandon 1/5 > 3%; complaint 1/4 > 5%
        assert rules == ["abandon_rate_high", "complaint_rate_high"]
        assert alerts.evaluate(uow, now + 60, [camp]) == []
        uow.commit()
        assert len(alerts.recent(uow, camp.id)) == 2


def test_ab_assignment_and_results(platform: Platform) -> None:
    from waihu.domain.errors import Conflict
    from waihu.service.analytics import abtest

    tid, camp = build(platform)
    with platform.uow(tid) as uow:
        got = abtest.assign(uow, camp, "opening", ["v1", "v2"], ["source"], seed=3, now=NOW)
        uow.commit()
        assert got["assigned"] == 5 and sorted(got["per_variant"].values()) == [2, 3]
        with pytest.raises(Conflict):
            abtest.assign(uow, camp, "opening", ["v1", "v2"], ["source"], seed=3, now=NOW)
        r = abtest.results(uow, camp, "opening", min_per_variant=1)
        assert sum(v["reached"] for v in r["variants"]) == 4
        assert sum(v["conversions"] for v in r["variants"]) == 1
        assert sum(v["probability_best"] for v in r["variants"]) == pytest.approx(1.0, abs=1e-3)
        assert r["decision"] == "continue" and 0 <= r["p_value"] <= 1
        rows = compute(uow, Scope(campaigns=[camp], by=["script"]))["rows"]
        assert {x["script"] for x in rows} <= {"v1", "v2"} and sum(x["attempts"] for x in rows) == 8


def test_slot_heatmap_and_plan(platform: Platform) -> None:
    from waihu.service.analytics import slots

    tid, camp = build(platform)
    with platform.uow(tid) as uow:
        cfgs.save(uow, camp, {"slot_min_attempts": 2, "excluded_slots": [[1, 11]],
                              "alerts": {"complaint_rate_max": 1.0}}, NOW)
        hm = slots.heatmap(uow, camp)
        cell = next(c for c in hm["cells"] if (c["weekday"], c["hour"]) == (1, 9))
        assert (cell["attempts"], cell["answered"]) == (3, 2)
        assert cell["answer_ci"][0] < 2 / 3 < cell["answer_ci"][1]
        plan = slots.plan(uow, camp)
        # 10:00 (1 of 2 answered) and 09:00 (2 of 3); 11:00 is excluded; Tuesday 07:00 has 1 attempt
        assert plan["plan"] == {"all": [[1, 9], [1, 10]]}
        slots.adopt(uow, camp, plan, NOW)
        assert cfgs.load(uow, camp)["slot_plan"] == {"all": [[1, 9], [1, 10]]}


def test_local_hours_follow_daylight_saving(platform: Platform) -> None:
    from decimal import Decimal

    from waihu.adapters.storage.models import Cdr
    from waihu.service.campaigns import create_campaign
    from waihu.service.tenants import ensure_tenant

    with platform.uow("") as uow:
        tid = ensure_tenant(uow, "london", NOW, timezone="Europe/London")
        camp = create_campaign(uow, "dst", NOW)
        for i, at in enumerate(("2026-03-29T00:30:00", "2026-03-29T01:30:00", "2026-10-25T00:30:00",
                                "2026-10-25T01:30:00")):
            dial = datetime.fromisoformat(at + "+00:00")
            uow.session.add(Cdr(id=f"dst{i}{tid[:8]}", tenant_id=tid, campaign_id=camp.id, contact_id="x",
                                phone_id="p", phone_hash="h", attempt=1, mode="manual", dial_at=dial, end_at=dial,
                                outcome="busy", talk_seconds=Decimal(0)))
        uow.commit()
    rows = _kpis(platform, tid, by=["date", "hour"])["rows"]
    # GMT -> BST at 01:00 UTC on 29 March; BST -> GMT at 01:00 UTC on 25 October
    # (00:30 BST and 01:30 GMT on 25 October are both 01:xx local)
    assert [(r["date"], r["hour"]) for r in rows] == [("2026-03-29", 0), ("2026-03-29", 2), ("2026-10-25", 1)]
    assert rows[-1]["attempts"] == 2


def test_grouping_sets_match_separate_queries(platform: Platform) -> None:
    from waihu.service.analytics.kpis import compute_sets

    tid, camp = build(platform)
    sets = [[], ["agent"], ["hour"], ["outcome", "disposition"], ["script"], ["date", "campaign"]]
    with platform.uow(tid) as uow:
        got = compute_sets(uow, Scope(campaigns=[camp]), sets)
        for s in sets:
            k = compute(uow, Scope(campaigns=[camp], by=s))
            assert got[tuple(s)] == (k["rows"] if s else [k["totals"]]), s
        empty = compute_sets(uow, Scope(since=datetime(2030, 1, 1, tzinfo=UTC)), [[], ["hour"]])
        assert empty[()][0]["attempts"] == 0 and empty[("hour",)] == []
