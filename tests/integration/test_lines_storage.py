"""Trunks and caller IDs in storage: ownership, tenant isolation, all-or-none imports, spam marks,
and the live statistics and usage computed from CDRs (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from waihu.adapters.storage.models import Cdr
from waihu.domain.errors import Conflict, NotFound, ValidationError
from waihu.domain.timeutil import to_dt
from waihu.service.campaigns import create_campaign
from waihu.service.lines import add_caller_ids, add_trunk, mark_caller_id, trunk_status, visible_trunks
from waihu.service.tenants import ensure_tenant

NOW = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC = 04:26 the next day in China


def tenant(platform: Any, name: str) -> str:
    with platform.uow("") as uow:
        tid = ensure_tenant(uow, name, NOW)
        uow.commit()
    return tid


def test_trunks_are_owned_assigned_and_isolated(platform: Any) -> None:
    t1, t2 = tenant(platform, "one"), tenant(platform, "two")
    with platform.uow(t1) as uow:
        add_trunk(uow, NOW, name="A", capacity=100, cps=10, business="insurance,care", priority=2)
        add_trunk(uow, NOW, name="P", capacity=50, cps=5, platform=True, role="backup")
        with pytest.raises(Conflict):
            add_trunk(uow, NOW, name="A", capacity=1, cps=1)
        uow.commit()
    with platform.uow(t2) as uow:
        assert visible_trunks(uow) == [], "another tenant sees neither the own nor the assigned trunk"
        add_trunk(uow, NOW, name="A", capacity=5, cps=1)
        uow.commit()
    with platform.uow(t1) as uow:
        docs = {r.name: (r.owner_tenant_id, r.capacity, r.role) for r in visible_trunks(uow)}
    assert docs == {"A": (t1, 100, "primary"), "P": (None, 50, "backup")}


def test_invalid_trunks_are_refused_with_their_fields(platform: Any) -> None:
    t1 = tenant(platform, "one")
    with platform.uow(t1) as uow:
        with pytest.raises(ValidationError) as info:
            add_trunk(uow, NOW, name="Z", capacity=-1, cps=0, cost_per_minute=-1)
        assert {d.field for d in info.value.details} == {"capacity", "cps", "cost_per_minute"}
        with pytest.raises(ValidationError):
            add_trunk(uow, NOW, name="Z", capacity=1, cps=1, role="spare")
        assert visible_trunks(uow) == []


def test_caller_id_import_is_all_or_none_and_marks_reduce_then_offline(platform: Any) -> None:
    t1 = tenant(platform, "one")
    rows = [{"number": "13700000001", "max_concurrent": "5"},
            {"number": "12345", "province": "浙江"},
            {"number": "057100000001", "type": "fax"}]
    with platform.uow(t1) as uow:
        with pytest.raises(ValidationError) as info:
            add_caller_ids(uow, NOW, rows, first_row=2)
        assert {(d.row, d.field) for d in info.value.details} == {(3, "number"), (4, "type")}
        uow.rollback()
        docs = add_caller_ids(uow, NOW, [rows[0], {"number": "+8657100000001", "capital": "yes"}])
        uow.commit()
    assert [(d["number"], d["type"], d["province"], d["capital"]) for d in docs] == [
        ("+8613700000001", "mobile", "辽宁", False), ("+8657100000001", "landline", "浙江", True)]
    with platform.uow(t1) as uow:
        assert mark_caller_id(uow, NOW, "13700000001")["status"] == "reduced"
        assert mark_caller_id(uow, NOW, "+8613700000001")["status"] == "offline"
        uow.commit()
    t2 = tenant(platform, "two")
    with platform.uow(t2) as uow, pytest.raises(NotFound):
        mark_caller_id(uow, NOW, "13700000001")


def test_status_and_usage_come_from_the_tenants_cdrs(platform: Any) -> None:
    t1 = tenant(platform, "one")
    with platform.uow(t1) as uow:
        add_trunk(uow, NOW, name="A", capacity=100, cps=10, cost_per_minute=0.06, billing_increment=60,
                  cost_per_attempt=0.01)
        camp = create_campaign(uow, "c", NOW)
        specs = [  # (seconds ago, outcome, loss cause, talk seconds)
            (30, "connected", None, 61.0), (40, "no_answer", "no_answer", 0.0),
            (50, "line_failure", "risk_control", 0.0), (70, "line_failure", "technical", 0.0),
            (2000, "connected", None, 30.0),
        ]
        for i, (ago, outcome, cause, talk) in enumerate(specs):
            dial = NOW - ago - talk - 10
            uow.session.add(Cdr(
                id=f"cdr{i}", tenant_id=t1, campaign_id=camp.id, contact_id=f"c{i}", phone_id="p", phone_hash="h",
                attempt=1, mode="progressive", dial_at=to_dt(dial),
                ring_at=to_dt(dial + 2) if cause != "technical" else None,
                end_at=to_dt(NOW - ago), outcome=outcome, loss_cause=cause, trunk_id="A",
                talk_seconds=Decimal(str(talk))))
        uow.commit()
    with platform.uow(t1) as uow:
        (doc,) = trunk_status(uow, NOW)
    five, hour = doc["windows"]["5m"], doc["windows"]["1h"]
    assert (five["attempts"], five["answered"], hour["attempts"], hour["answered"]) == (4, 1, 5, 2)
    assert five["line_loss_rate"] == pytest.approx(0.5)
    assert five["loss_rates"] == {"no_answer": 0.25, "risk_control": 0.25, "technical": 0.25}
    assert five["pdd"] == pytest.approx(2.0)
    assert doc["usage_today"] == {"attempts": 5, "minutes": 3.0, "cost": pytest.approx(5 * 0.01 + 3 * 0.06)}
    assert doc["alarm"] is None, "4 attempts are under the minimum sample"
    t2 = tenant(platform, "two")
    with platform.uow(t2) as uow:
        assert trunk_status(uow, NOW) == []


def test_caller_id_daily_caps_hold_across_runs(platform: Any) -> None:
    from sqlalchemy import func, select

    from waihu.service.campaigns import transition
    from waihu.service.contacts import merge_rows
    from waihu.service.demo import DEFAULT_START, DemoConfig, demo_rows, run_campaign_simulated

    t = tenant(platform, "caps")
    with platform.uow(t) as uow:
        add_trunk(uow, DEFAULT_START, name="A", capacity=100, cps=10)
        add_caller_ids(uow, DEFAULT_START, [{"number": "13700000001", "daily_cap": "3", "default": "yes",
                                             "max_concurrent": "5"}])
        c = create_campaign(uow, "c1", DEFAULT_START, job_type="service")
        merge_rows(uow, demo_rows(30, 1), DEFAULT_START, campaign_id=c.id, filename="x")
        transition(uow, c, "start", DEFAULT_START)
        uow.commit()

    def shown() -> int:
        with platform.uow(t) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(Cdr).where(
                Cdr.tenant_id == t, Cdr.caller_id == "+8613700000001")) or 0)

    run_campaign_simulated(platform, t, "c1", DemoConfig(agents=2, seed=1, tenant="caps", hours=3))
    assert shown() == 3  # the daily cap
    # new contacts, and a second run the same afternoon (a restart, another process): it starts
    # from today's CDRs, so the number stays at its cap
    later = DEFAULT_START + 4 * 3600
    with platform.uow(t) as uow:
        merge_rows(uow, demo_rows(10, 2), later, campaign_id=c.id, filename="y")
        uow.commit()
    run_campaign_simulated(platform, t, "c1", DemoConfig(agents=2, seed=2, tenant="caps", hours=2, start=later))
    assert shown() == 3


def test_platform_lines_are_resold_to_several_tenants_and_taken_back(platform: Any) -> None:
    from waihu.service.lines import assign_platform_caller_id, assign_platform_trunk, visible_caller_ids

    a, b, c = tenant(platform, "a"), tenant(platform, "b"), tenant(platform, "c")
    with platform.uow(a) as uow:
        add_trunk(uow, NOW, name="P", capacity=50, cps=5, platform=True)
        add_trunk(uow, NOW, name="OWN", capacity=5, cps=1)
        add_caller_ids(uow, NOW, [{"number": "13700000001"}], platform=True)
        uow.commit()
    with platform.uow(b) as uow:
        assert [t.name for t in visible_trunks(uow)] == []
        assert assign_platform_trunk(uow, NOW, "P")["assigned"] is True
        assign_platform_trunk(uow, NOW, "P")  # again: nothing changes
        assign_platform_caller_id(uow, NOW, "+8613700000001")
        with pytest.raises(NotFound):
            assign_platform_trunk(uow, NOW, "OWN")  # a tenant's own trunk is not the platform's to resell
        uow.commit()
    with platform.uow(b) as uow:
        assert [t.name for t in visible_trunks(uow)] == ["P"]
        assert [r.number for r in visible_caller_ids(uow)] == ["+8613700000001"]
    with platform.uow(c) as uow:
        assert visible_trunks(uow) == [] and visible_caller_ids(uow) == []
    with platform.uow(b) as uow:
        assign_platform_trunk(uow, NOW, "P", remove=True)
        uow.commit()
    with platform.uow(b) as uow:
        assert visible_trunks(uow) == []
    with platform.uow(a) as uow:
        assert sorted(t.name for t in visible_trunks(uow)) == ["OWN", "P"]


def test_caller_id_import_keeps_regions_consistent_and_takes_spam_marks(platform: Any) -> None:
    t1 = tenant(platform, "marks")
    with platform.uow(t1) as uow:
        with pytest.raises(ValidationError) as info:
            add_caller_ids(uow, NOW, [{"number": "13700000009", "spam_marks": "-1"}], first_row=2)
        assert [(d.row, d.field) for d in info.value.details] == [(2, "spam_marks")]
        uow.rollback()
        docs = add_caller_ids(uow, NOW, [
            {"number": "13700000001", "province": "浙江"},  # a Liaoning number said to be Zhejiang's
            {"number": "13700000002"},
            {"number": "13700000003", "spam_marks": "1"},
            {"number": "13700000004", "spam_marks": "3"}])
        uow.commit()
    by = {d["number"]: d for d in docs}
    assert (by["+8613700000001"]["province"], by["+8613700000001"]["city"]) == ("浙江", None)
    assert (by["+8613700000002"]["province"], by["+8613700000002"]["city"]) == ("辽宁", "沈阳")
    assert [by[f"+861370000000{i}"]["status"] for i in (2, 3, 4)] == ["active", "reduced", "offline"]
