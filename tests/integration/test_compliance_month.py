"""A simulated month of a marketing campaign, then every CDR checked against every rule, from the CDRs alone."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from waihu.adapters.simnet.model import CalleeModel
from waihu.adapters.storage.models import Cdr, ContactPhone, DispositionRecord
from waihu.adapters.storage.models_compliance import DncEntry
from waihu.bootstrap import Platform
from waihu.domain.timeutil import to_ts
from waihu.service.campaigns import create_campaign, dispositions_of, spec_for, transition
from waihu.service.compliance_settings import set_tenant_rules
from waihu.service.contacts import merge_rows
from waihu.service.demo import DEFAULT_START, DemoConfig, demo_rows, seeded_ids, simulate
from waihu.service.dnc import DncItem, add_entries
from waihu.service.tenants import ensure_tenant

TZ = ZoneInfo("Asia/Shanghai")
COMPLIANCE = True
TENANT_RULES: dict[str, Any] = {"weekdays": [1, 2, 3, 4, 5], "holidays": ["2026-01-07", "2026-01-08"],
                                "workdays": ["2026-01-10"], "lunch_break": "12:00-13:30"}
CAMPAIGN_RULES: dict[str, Any] = {"max_per_day": 1, "rolling_max": 1, "rolling_minutes": 60,
                                  "min_gap_seconds": 1800, "max_attempts": 20}
RETRY = {k: {"delay_seconds": 600, "max_attempts": 20} for k in ("busy", "no_answer", "rejected", "unreachable")}


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, TZ)


def test_a_month_of_dialling_keeps_every_rule(platform: Platform) -> None:
    new_id = seeded_ids(5)
    rows = demo_rows(150, 5)
    with platform.uow("") as uow:
        uow.new_id = new_id
        tid = ensure_tenant(uow, "month", DEFAULT_START)
        set_tenant_rules(uow, TENANT_RULES, DEFAULT_START)
        c = create_campaign(uow, "month", DEFAULT_START, job_type="marketing", retry=RETRY,
                            options={"compliance": CAMPAIGN_RULES})
        merge_rows(uow, rows, DEFAULT_START, campaign_id=c.id, filename="month")
        transition(uow, c, "start", DEFAULT_START)
        spec, disps, cid = spec_for(c), dispositions_of(c), c.id
        uow.commit()
    listed = [r.phones[0].phone.e164 for r in rows[:10]]
    with platform.uow(tid) as uow:
        add_entries(uow, [DncItem(n) for n in listed], DEFAULT_START, source="regulator")
    cfg = DemoConfig(agents=2, contacts=150, seed=5, callee=CalleeModel(answer_rate=0.1), compliance=COMPLIANCE)
    summary = simulate(platform, tid, cid, spec, disps, ["a1", "a2"], cfg, new_id)

    with platform.engine.connect() as conn:
        cdrs = conn.execute(select(Cdr.phone_hash, Cdr.dial_at, Cdr.chain_id, Cdr.id, Cdr.contact_id)
                            .where(Cdr.tenant_id == tid).order_by(Cdr.dial_at)).all()
        dnc = {h for (h,) in conn.execute(select(DncEntry.phone_hash).where(DncEntry.source == "regulator"))}
        opted = {h: to_ts(at) for h, at in conn.execute(
            select(ContactPhone.phone_hash, DispositionRecord.set_at)
            .join(ContactPhone, ContactPhone.contact_id == DispositionRecord.contact_id)
            .where(DispositionRecord.tenant_id == tid, DispositionRecord.code == "do_not_call"))}
    assert summary["contacts_pending"] == 0
    assert summary["cdrs"] == summary["attempts"] == len(cdrs) > 300
    span = to_ts(cdrs[-1].dial_at) - to_ts(cdrs[0].dial_at)
    assert span > 20 * 86400, span  # the campaign really ran for weeks
    assert len(dnc) == 10 and summary["blocked_by_reason"].get("compliance.dnc", 0) == 10

    by_callee: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for h, dial_at, chain, call_id, _ in cdrs:
        t = to_ts(dial_at)
        lt = _local(t)
        minute = lt.hour * 60 + lt.minute
        assert h not in dnc
        assert h not in opted or t <= opted[h]  # nothing after an opt-out
        assert lt.date().isoformat() not in TENANT_RULES["holidays"]
        assert lt.isoweekday() <= 5 or lt.date().isoformat() in TENANT_RULES["workdays"]
        assert 9 * 60 <= minute < 21 * 60 and not 12 * 60 <= minute < 13 * 60 + 30
        by_callee[h].append((t, chain or call_id))
    saturday_calls = sum(1 for _, d, *_ in cdrs if _local(to_ts(d)).date().isoformat() == "2026-01-10")
    assert saturday_calls > 0  # the make-up workday was used
    for calls in by_callee.values():
        chains: dict[str, float] = {}
        for t, ch in calls:
            chains.setdefault(ch, t)
        days = defaultdict(int)
        for t in chains.values():
            days[_local(t).date()] += 1
        assert max(days.values()) <= 1  # max_per_day
        starts = sorted(chains.values())
        for a, b in pairwise(starts):
            assert b - a >= timedelta(minutes=60).total_seconds()  # rolling 1 per hour and the minimum gap
