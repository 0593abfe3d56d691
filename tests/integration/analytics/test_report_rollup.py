"""The report rollup gives exactly the daily report's numbers computed from the raw CDRs, both
when the dialer store keeps it in step (CDRs, late dispositions, a contact dialled twice a day
and by two campaigns) and after a rebuild from the raw tables; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.integration.analytics.handbuilt import DISPS
from tests.integration.analytics.handbuilt import build as build_handbuilt
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.adapters.storage.models import Contact
from waihu.adapters.storage.models_analytics import ReportDayContacts, ReportHourly, ScriptAssignment
from waihu.bootstrap import Platform
from waihu.domain.calls import CallRecord, Outcome
from waihu.domain.messages import Command, WriteCdr, WriteDisposition
from waihu.service.analytics import rollup
from waihu.service.analytics.kpis import Scope, compute, compute_sets, local_day
from waihu.service.analytics.report_data import build
from waihu.service.campaigns import create_campaign
from waihu.service.tenants import ensure_tenant

TZ = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 3, 5, tzinfo=UTC).timestamp()
DAYS = ("2026-03-02", "2026-03-03", "2026-03-04")
OUTCOMES = [Outcome.CONNECTED, Outcome.CONNECTED, Outcome.NO_ANSWER, Outcome.BUSY, Outcome.ABANDONED,
            Outcome.REJECTED]
# SQLite's raw wrap-up is a difference of julian days (about 0.1 ms of error per call), the
# rollup's is exact to the microsecond: figures derived from it may differ in the last digit.
WRAP_DERIVED = {"wrap_seconds", "avg_wrap_seconds", "aht_seconds", "utilisation"}
TAGS: list[list[str]] = [["vip"], [], ["vip", "new"], ["lapsed"], ["new", "new"]]
CODES = ["success", "not_interested", "callback", "complaint", "needs_ok"]


def _norm(rows: list[dict[str, Any]], by: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    out = {}
    for r in rows:
        key = tuple(r[b] for b in by)
        out[key] = {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}
    return out


def _assert_same_as_raw(p: Platform, tid: str, days: tuple[str, ...]) -> int:
    """Compares every day's groupings; returns how many non-empty groups were compared."""
    compared = 0
    with p.uow(tid) as uow:
        for day in days:
            since, until = local_day("Asia/Shanghai", day)
            got = rollup.daily_sets(uow, day, since, until)
            assert got is not None, "the rollup should answer"
            roll = got[0]
            raw = compute_sets(uow, Scope(None, since, until), [list(s) for s in rollup.DAILY_SETS if s != ["tags"]])
            raw[("tags",)] = compute(uow, Scope(None, since, until, ["tags"]), with_totals=False)["rows"]
            for s in rollup.DAILY_SETS:
                key = tuple(s)
                a, b = _norm(roll[key], key), _norm(raw[key], key)
                assert a.keys() == b.keys(), (day, key)
                diff = {(g, m): (a[g][m], b[g].get(m)) for g in a for m in a[g] if a[g][m] != b[g].get(m)
                        and not (m in WRAP_DERIVED and abs(a[g][m] - b[g][m]) <= 0.0011)}
                assert not diff, (day, key, diff)
                compared += sum(1 for r in raw[key] if r["attempts"])
    return compared


def _campaigns(p: Platform, tenant: str) -> tuple[str, list[str]]:
    now = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    with p.uow("") as uow:
        tid = ensure_tenant(uow, tenant, now)
        a = create_campaign(uow, "alpha", now, job_type="marketing", dispositions=DISPS, script_ref="s-alpha")
        b = create_campaign(uow, "beta", now, job_type="marketing", dispositions=DISPS)
        at = datetime(2026, 3, 1, tzinfo=UTC)
        for i in range(12):  # contact 11 has no customer record
            if i < 11:
                uow.session.add(Contact(id=f"k{i}{tid[:6]}", tenant_id=tid, name=None, fields={}, attributes={},
                                        tags=TAGS[i % len(TAGS)], source="web", created_at=at, updated_at=at))
        uow.session.flush()
        # two contacts of alpha are in an A/B test (assigned before they are dialled)
        for i, v in ((0, "va"), (1, "vb")):
            uow.session.add(ScriptAssignment(id=f"sa{i}{tid[:8]}", tenant_id=tid, campaign_id=a.id, experiment="e1",
                                             contact_id=f"k{i}{tid[:6]}", variant=v, stratum="", assigned_at=at))
        uow.commit()
    return tid, [a.id, b.id]


def _calls(tid: str, camps: list[str], seed: int) -> list[tuple[CallRecord, str | None, float]]:
    """Calls over three local days, some around local midnight; contacts shared by campaigns."""
    rng = random.Random(seed)
    out = []
    for n in range(160):
        day = datetime.fromisoformat(rng.choice(DAYS)).replace(tzinfo=TZ)
        off = rng.choice([rng.uniform(8, 21), rng.uniform(23.5, 24), rng.uniform(0, 0.5)]) * 3600
        dial = (day + timedelta(seconds=off)).timestamp()
        outcome = rng.choice(OUTCOMES)
        talk = round(rng.uniform(5, 300), 3) if outcome is Outcome.CONNECTED else 0.0
        answer = dial + 5 if outcome in (Outcome.CONNECTED, Outcome.ABANDONED) else None
        end = (answer or dial + 20) + talk
        rec = CallRecord(call_id=f"r{n}{tid[:8]}", tenant_id=tid, campaign_id=rng.choice(camps),
                         contact_id=f"k{rng.randrange(12)}{tid[:6]}", phone_ref="ph", attempt=1, dial_at=dial,
                         end_at=end,
                         outcome=outcome, answer_at=answer, bridge_at=answer if outcome is Outcome.CONNECTED else None,
                         agent_id=f"ag{rng.randrange(4)}" if outcome is Outcome.CONNECTED else None,
                         trunk_id="t1")
        code = rng.choice(CODES) if outcome is Outcome.CONNECTED and rng.random() < 0.85 else None
        out.append((rec, code, end + rng.uniform(1, 60)))
    return out


def _write(p: Platform, tid: str, calls: list[tuple[CallRecord, str | None, float]], seed: int) -> None:
    """CDRs in batches; each disposition in the same flush as its CDR or in a later one."""
    rng = random.Random(seed)
    store = SqlDialerStore(p.engine, p.codec, tid, batch=10_000)
    late: list[Command] = []
    for i, (rec, code, at) in enumerate(calls):
        store.apply([WriteCdr(rec)])
        if code is not None:
            d = WriteDisposition(rec.call_id, rec.campaign_id, rec.contact_id, rec.agent_id or "", code, at)
            if rng.random() < 0.5:
                late.append(d)
            else:
                store.apply([d])
        if i % 17 == 16:
            store.flush()
            store.apply(late)
            late = []
            store.flush()
    store.apply(late)
    store.flush()


def _rows(p: Platform, tid: str) -> tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]:
    with p.uow(tid) as uow:
        h, d = ReportHourly, ReportDayContacts
        hourly = {(r.campaign_id, r.hour.replace(tzinfo=None), r.dim, r.value, r.code):
                  (r.attempts, r.answered, r.connected, r.abandoned, r.dispositions, float(r.talk_seconds),
                   round(r.wrap_seconds, 6))
                  for r in uow.session.scalars(select(h).where(h.tenant_id == tid)) if r.attempts}
        days = {(r.tz, r.day, r.campaign_id, r.dim, r.value): (r.contacts_dialled, r.contacts_answered)
                for r in uow.session.scalars(select(d).where(d.tenant_id == tid)) if r.contacts_dialled}
    return hourly, days


def test_store_keeps_rollup_equal_to_raw(platform: Platform) -> None:
    tid, camps = _campaigns(platform, "roll-a")
    other, other_camps = _campaigns(platform, "roll-b")
    _write(platform, tid, _calls(tid, camps, 1), 2)
    _write(platform, other, _calls(other, other_camps, 3), 4)  # another tenant's calls stay out
    assert _assert_same_as_raw(platform, tid, DAYS) > 40
    maintained = _rows(platform, tid)
    assert maintained[0] and maintained[1]
    with platform.uow(tid) as uow:  # a rebuild from the raw tables finds the same rollup
        info = rollup.rebuild(uow)
        uow.commit()
    assert info["hourly_rows"] > 0
    assert _rows(platform, tid) == maintained
    assert _assert_same_as_raw(platform, other, DAYS) > 40
    from waihu.service import customers

    with platform.uow(tid) as uow:  # a customer's tags change: the rollup follows
        c = uow.session.get(Contact, f"k2{tid[:6]}")
        assert c is not None
        customers.update(uow, c, {"tags": ["renewal"]}, datetime(2026, 3, 5, tzinfo=UTC).timestamp())
        uow.commit()
    _assert_same_as_raw(platform, tid, DAYS)
    from waihu.adapters.storage.models import Campaign
    from waihu.service import campaign_admin
    from waihu.service.analytics import abtest

    with platform.uow(tid) as uow:  # a new A/B experiment re-assigns scripts of dialled contacts
        c = uow.session.get(Campaign, camps[0])
        assert c is not None
        campaign_admin.add_contacts(uow, c, [f"k{i}{tid[:6]}" for i in range(11)], DAY0)
        assert abtest.assign(uow, c, "e2", ["x1", "x2"], [], seed=1, now=DAY0)["assigned"] == 11
        uow.commit()
    assert _assert_same_as_raw(platform, tid, DAYS) > 40
    with platform.uow(tid) as uow:
        since, until = local_day("Asia/Shanghai", DAYS[0])
        got = rollup.daily_sets(uow, DAYS[0], since, until)
        assert got is not None and any(r["tags"] == "renewal" for r in got[0][("tags",)])
        assert {"x1", "x2"} <= {r["script"] for r in got[0][("script",)]}  # the new experiment's variants


def test_rebuild_equals_raw_and_daily_report_uses_it(platform: Platform) -> None:
    tid, _camp = build_handbuilt(platform)  # written straight into the tables: no rollup yet
    with platform.uow(tid) as uow:
        since, until = local_day("Asia/Shanghai", "2026-01-05")
        assert rollup.daily_sets(uow, "2026-01-05", since, until) is None
        raw_doc = build(uow, day="2026-01-05")
        rollup.rebuild(uow)
        uow.commit()
    _assert_same_as_raw(platform, tid, ("2026-01-05", "2026-01-06"))
    with platform.uow(tid) as uow:
        doc = build(uow, day="2026-01-05")
    for k in ("totals", "agents", "hours", "outcomes", "dispositions", "scripts", "campaigns", "tags"):
        assert doc[k] == raw_doc[k], k
    assert doc["totals"]["attempts"] == 7 and doc["totals"]["contacts_dialled"] == 5


def test_script_change_invalidates(platform: Platform) -> None:
    tid, camps = _campaigns(platform, "roll-c")
    _write(platform, tid, _calls(tid, camps, 5)[:30], 6)
    since, until = local_day("Asia/Shanghai", DAYS[0])
    from waihu.adapters.storage.models import Campaign
    from waihu.service import campaign_admin

    with platform.uow(tid) as uow:
        assert rollup.daily_sets(uow, DAYS[0], since, until) is not None
        c = uow.session.get(Campaign, camps[1])
        assert c is not None
        campaign_admin.update(uow, c, {"script_ref": "s-beta"}, since.timestamp())
        uow.commit()
    with platform.uow(tid) as uow:
        assert rollup.daily_sets(uow, DAYS[0], since, until) is None
        rollup.rebuild(uow)
        uow.commit()
    _assert_same_as_raw(platform, tid, DAYS)
