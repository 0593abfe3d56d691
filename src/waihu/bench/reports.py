"""``waihu bench reports``: write N synthetic CDRs (COPY on PostgreSQL, executemany on SQLite),
roll them up once (timed apart: the dialer store keeps the rollup in step as it writes CDRs)
and time each report on them. The data set lives in its own tenant and is reused on a later run
with ``reuse`` when it already holds N CDRs."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select, text

from waihu.adapters.storage import report_rollup
from waihu.adapters.storage.models import Agent, AgentSession, Campaign, Cdr, Contact, DispositionRecord
from waihu.bootstrap import Platform
from waihu.service.analytics import alerts, rollup
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.kpis import Scope, compute, local_day
from waihu.service.analytics.report_data import build
from waihu.service.analytics.report_files import write
from waihu.service.campaigns import create_campaign
from waihu.service.tenants import ensure_tenant

TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = datetime(2026, 1, 5, tzinfo=TZ)
OUTCOMES = (("connected", 30, None), ("no_answer", 38, "no_answer"), ("busy", 10, "busy"),
            ("rejected", 5, "rejected"), ("abandoned", 2, None), ("invalid_number", 6, "empty_number"),
            ("unreachable", 6, "powered_off"), ("line_failure", 3, "congestion"))
DISPS = (("success", 12), ("interested", 8), ("not_interested", 55), ("callback", 10), ("wrong_person", 10),
         ("do_not_call", 5))
CDR_COLS = ["id", "tenant_id", "campaign_id", "contact_id", "phone_id", "phone_hash", "attempt", "chain_id", "mode",
            "dial_at", "ring_at", "answer_at", "bridge_at", "end_at", "outcome", "loss_cause", "sip_code",
            "agent_id", "trunk_id", "caller_id", "hangup_by", "talk_seconds"]
DISP_COLS = ["id", "tenant_id", "call_id", "campaign_id", "contact_id", "agent_id", "code", "note", "callback_at",
             "set_at"]
CONTACT_COLS = ["id", "tenant_id", "name", "external_id", "fields", "attributes", "tags", "source",
                "follow_up_stage", "total_attempts", "total_connects", "created_at", "updated_at"]


def _pick(rng: random.Random, table: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    x = rng.random() * sum(t[1] for t in table)
    for t in table:
        x -= t[1]
        if x <= 0:
            return t
    return table[-1]


def _rows(n: int, days: int, tid: str, campaigns: list[str], agents: list[str], contacts: int,
          seed: int) -> Iterator[tuple[list[Any], list[Any] | None]]:
    """CDRs in time order, day after day, 09:00-20:00 local; a disposition for each connected call."""
    rng = random.Random(seed)
    per_day = -(-n // days)
    made = 0
    for d in range(days):
        start = (FIRST_DAY + timedelta(days=d, hours=9)).astimezone(UTC)
        k = min(per_day, n - made)
        offsets = sorted(rng.random() * 11 * 3600 for _ in range(k))
        for off in offsets:
            made += 1
            outcome, _, cause = _pick(rng, OUTCOMES)
            dial = start + timedelta(seconds=off)
            connected = outcome == "connected"
            talk = round(rng.expovariate(1 / 120), 3) if connected else 0.0
            answer = dial + timedelta(seconds=rng.uniform(3, 20)) if outcome in ("connected", "abandoned") else None
            end = (answer or dial + timedelta(seconds=25)) + timedelta(seconds=talk + (2 if answer else 0))
            agent = rng.choice(agents) if connected else None
            cid = f"bc{tid[:6]}{rng.randrange(contacts):010d}"
            call = f"bx{tid[:6]}{made:012d}"
            camp = campaigns[made % len(campaigns)]
            cdr = [call, tid, camp, cid, f"ph{cid[2:]}", "h" * 16, 1 + made % 3, cid, "progressive", dial,
                   None, answer, answer, end, outcome, cause, None, agent, f"trunk-{made % 4}",
                   f"0{made % 7}", None, talk]
            disp = None
            if connected:
                disp = [f"bd{tid[:6]}{made:012d}", tid, call, camp, cid, agent, _pick(rng, DISPS)[0], None, None,
                        end + timedelta(seconds=rng.uniform(5, 40))]
            yield cdr, disp


def _copy(engine: Engine, table: str, cols: list[str], rows: list[list[Any]]) -> None:
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
        conn.commit()
    finally:
        raw.close()


def _write(p: Platform, table: Any, cols: list[str], rows: list[list[Any]]) -> None:
    if not rows:
        return
    if p.engine.dialect.name == "postgresql":
        _copy(p.engine, table.__tablename__, cols, rows)
        return
    with p.engine.begin() as c:
        c.execute(insert(table), [dict(zip(cols, r, strict=True)) for r in rows])


def generate(p: Platform, n: int, days: int, tenant: str, seed: int = 1,
             progress: Callable[[int], None] | None = None) -> tuple[str, list[str]]:
    now = FIRST_DAY.timestamp()
    with p.uow("") as uow:
        tid = ensure_tenant(uow, tenant, now)
        camps = [create_campaign(uow, f"bench-{i}", now, job_type="marketing").id for i in range(10)]
        agents = [f"ba{tid[:6]}{i:04d}" for i in range(200)]
        for a in agents:
            uow.session.add(Agent(id=a, tenant_id=tid, code=f"B{a[-4:]}", name=a, groups=[], simulated=True,
                                  created_at=FIRST_DAY))
        uow.commit()
    contacts = max(1, n // 3)
    rng = random.Random(seed)
    batch: list[list[Any]] = []
    for i in range(contacts):
        fields = json.dumps({"age": rng.randint(20, 70)})
        tags = json.dumps(rng.sample(["vip", "new", "renewal", "lapsed"], rng.randint(0, 2)))
        batch.append([f"bc{tid[:6]}{i:010d}", tid, None, None, fields, "{}", tags, rng.choice(["web", "fair", "list"]),
                      None, 0, 0, FIRST_DAY, FIRST_DAY])
        if len(batch) >= 100_000:
            _write(p, Contact, CONTACT_COLS, _json_rows(p, batch))
            batch = []
    _write(p, Contact, CONTACT_COLS, _json_rows(p, batch))
    cdrs: list[list[Any]] = []
    disps: list[list[Any]] = []
    done = 0
    for cdr, disp in _rows(n, days, tid, camps, agents, contacts, seed):
        cdrs.append(cdr)
        if disp is not None:
            disps.append(disp)
        if len(cdrs) >= 100_000:
            _write(p, Cdr, CDR_COLS, cdrs)
            _write(p, DispositionRecord, DISP_COLS, disps)
            done += len(cdrs)
            cdrs, disps = [], []
            if progress:
                progress(done)
    _write(p, Cdr, CDR_COLS, cdrs)
    _write(p, DispositionRecord, DISP_COLS, disps)
    with p.uow(tid) as uow:
        for d in range(days):
            login = (FIRST_DAY + timedelta(days=d, hours=9)).astimezone(UTC)
            for j, a in enumerate(agents):
                uow.session.add(AgentSession(id=f"bs{tid[:6]}{d:05d}{j:05d}", tenant_id=tid, agent_id=a,
                                             campaign_id=camps[j % len(camps)], login_at=login,
                                             logout_at=login + timedelta(hours=11), talk_seconds=0))
        uow.commit()
    if p.engine.dialect.name == "postgresql":
        with p.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE cdrs"))
            c.execute(text("VACUUM ANALYZE dispositions"))
            c.execute(text("ANALYZE contacts"))
    else:
        with p.engine.begin() as c:
            c.execute(text("ANALYZE"))
    return tid, camps


def _json_rows(p: Platform, rows: list[list[Any]]) -> list[list[Any]]:
    if p.engine.dialect.name == "postgresql":
        return rows
    return [[*r[:4], json.loads(r[4]), {}, json.loads(r[6]), *r[7:]] for r in rows]


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return round(time.perf_counter() - t0, 3)


def run(p: Platform, n: int, days: int, reuse: bool, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    tenant = f"bench-reports-{n}-{days}"
    with p.uow("") as uow:
        from waihu.service.tenants import find_tenant

        tid = find_tenant(uow, tenant)
    gen = 0.0
    if tid is not None and reuse:
        with p.uow(tid) as uow:
            camps = list(uow.session.scalars(select(Campaign.id).where(Campaign.tenant_id == tid)
                                             .order_by(Campaign.name)))
            have = uow.session.scalar(select(func.count()).select_from(Cdr).where(Cdr.tenant_id == tid)) or 0
    else:
        if tid is not None:
            tenant = f"{tenant}-{uuid.uuid4().hex[:6]}"
        t0 = time.perf_counter()
        tid, camps = generate(p, n, days, tenant, progress=progress)
        gen = round(time.perf_counter() - t0, 3)
        have = n
    day = (FIRST_DAY + timedelta(days=days // 2)).date().isoformat()
    import plotly.offline  # type: ignore[import-untyped]  # noqa: F401  (load once, outside the timings)

    out: dict[str, Any] = {"dialect": p.engine.dialect.name, "cdrs": have, "days": days,
                           "generate_seconds": gen, "report_day": day, "seconds": {}}
    with p.uow(tid) as uow:  # production keeps the rollup in step; bulk-loaded data is rolled up once
        st = report_rollup.state(uow.session.connection(), tid)
        if st is None or not st[1]:
            info = rollup.rebuild(uow)
            uow.commit()
            out["rollup_rebuild_seconds"] = info["seconds"]
            out["rollup_rows"] = {"hourly": info["hourly_rows"], "day": info["day_rows"]}
    secs = out["seconds"]
    with TemporaryDirectory() as tmp, p.uow(tid) as uow:
        camp = uow.session.get(Campaign, camps[0])
        assert camp is not None
        since, until = local_day(cfgs.tenant_timezone(uow), day)
        out["daily_from_rollup"] = rollup.usable(uow, cfgs.tenant_timezone(uow), since, until)
        uow.rollback()
        secs["daily_data_raw"] = _timed(lambda: build(uow, day=day, use_rollup=False))
        uow.rollback()
        secs["daily_data"] = _timed(lambda: build(uow, day=day))
        secs["daily_html"] = _timed(lambda: write(build(uow, day=day), Path(tmp) / "d.html", "html", day))
        secs["daily_xlsx"] = _timed(lambda: write(build(uow, day=day), Path(tmp) / "d.xlsx", "xlsx", day))
        secs["kpis_campaign_totals"] = _timed(lambda: compute(uow, Scope(campaigns=[camp])))
        secs["kpis_campaign_by_agent"] = _timed(lambda: compute(uow, Scope(campaigns=[camp], by=["agent"])))
        end = (FIRST_DAY + timedelta(days=days // 2, hours=15)).timestamp()
        secs["alerts_evaluate"] = _timed(lambda: alerts.evaluate(uow, end, [camp]))
        uow.rollback()
        secs["campaign_report_html"] = _timed(
            lambda: write(build(uow, campaign=camp), Path(tmp) / "c.html", "html", day))
    out["daily_under_2s"] = secs["daily_html"] < 2.0
    return out
