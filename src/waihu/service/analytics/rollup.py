"""The report rollup, read side and rebuild: the daily report's additive sums come from
``report_hourly`` (a few thousand rows a day instead of every CDR) and its distinct contact
counts from ``report_day_contacts``; both equal what ``kpis`` computes from the raw CDRs.

The rollup is used only when it is ready, built in the tenant's current time zone, and the
day's hours map onto local hours (zones with whole-hour offsets); otherwise reports compute
from the CDRs. ``rebuild`` recomputes a tenant's rollup from the raw tables (after the
migration, after a time-zone change, after a campaign's script changed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, cast, column, delete, func, insert, literal, select, table, text
from sqlalchemy.sql.elements import BindParameter

from waihu.adapters.storage import report_rollup as rr
from waihu.adapters.storage.models import Cdr
from waihu.adapters.storage.models_analytics import ReportDayContacts, ReportHourly
from waihu.adapters.storage.uow import UnitOfWork
from waihu.service.analytics import dimensions as dims
from waihu.service.analytics import kpis
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.sqlx import LocalTime

DAILY_SETS: tuple[list[str], ...] = ([], ["agent"], ["hour"], ["outcome"], ["disposition"], ["script"], ["campaign"],
                                     ["tags"])
DIM_OF = {"agent": "agent", "outcome": "outcome", "script": "script", "tag": "tags", "hour": "hour",
          "disposition": "disposition"}  # rollup dim -> report dimension
SUMS = ("attempts", "answered", "connected", "abandoned", "dispositions", "talk_seconds", "wrap_seconds")


def usable(uow: UnitOfWork, tz: str, since: datetime, until: datetime) -> bool:
    st = rr.state(uow.session.connection(), uow.tenant_id)
    if st is None or not st[1] or st[0] != tz:
        return False
    zone = ZoneInfo(tz)
    t = since
    while t < until:  # every hour of the range must be a whole local hour
        off = t.astimezone(zone).utcoffset()
        if t.minute or t.second or t.microsecond or off is None or off.total_seconds() % 3600:
            return False
        t += timedelta(hours=1)
    return t == until


def daily_sets(uow: UnitOfWork, day: str, since: datetime, until: datetime
               ) -> tuple[dict[tuple[str, ...], list[dict[str, Any]]], str] | None:
    """The daily report's groupings (``DAILY_SETS``, all campaigns) from the rollup, as
    ``kpis.compute_sets`` returns them, and the currency; None when the rollup cannot answer
    exactly."""
    tz = cfgs.tenant_timezone(uow)
    if not usable(uow, tz, since, until):
        return None
    ctx = kpis._context(uow, kpis.Scope(None, since, until))
    zone = ZoneInfo(tz)
    h = ReportHourly
    sums = [func.sum(getattr(h, c)).label(c) for c in SUMS]
    where = (h.tenant_id == uow.tenant_id, h.hour >= since, h.hour < until)
    # the ``all`` rows by campaign and hour; the other dimensions summed over both in SQL
    q_all = (select(h.campaign_id, h.hour, h.dim, h.code, *sums).where(*where, h.dim == "all")
             .group_by(h.campaign_id, h.hour, h.dim, h.code))
    q_dims = (select(h.dim, h.value, h.code, *sums).where(*where, h.dim != "all")
              .group_by(h.dim, h.value, h.code))
    groups: dict[tuple[str, ...], dict[Any, dict[str, Any]]] = {tuple(s): {} for s in DAILY_SETS}

    def acc(s: tuple[str, ...], key: Any, r: Any) -> None:
        g = groups[s].get(key)
        if g is None:
            g = groups[s][key] = {**{c: 0 for c in SUMS}, "talk_seconds": Decimal(0), "wrap_seconds": 0.0,
                                  "conversions": 0, "complaints": 0, "contacts_dialled": 0, "contacts_answered": 0}
        for c in SUMS:
            g[c] += r[c] if c != "talk_seconds" else Decimal(r[c] or 0)
        if r["code"] in ctx.success:
            g["conversions"] += r["attempts"]
        if r["code"] in ctx.complaint:
            g["complaints"] += r["attempts"]

    hours: dict[datetime, int] = {}
    for x in [*uow.session.execute(q_all), *uow.session.execute(q_dims)]:
        r = x._mapping
        if r["dim"] == "all":
            hr = rr.hour_of(r["hour"])
            if hr not in hours:
                hours[hr] = hr.astimezone(zone).hour
            acc((), (), r)
            acc(("hour",), hours[hr], r)
            acc(("campaign",), ctx.names.get(r["campaign_id"]), r)
            acc(("disposition",), r["code"] or dims.NONE, r)
        else:
            acc((DIM_OF[r["dim"]],), r["value"], r)
    groups[("campaign",)].pop(None, None)  # CDRs of a campaign that no longer exists
    d = ReportDayContacts
    for camp, dim, value, dialled, answered in uow.session.execute(select(
            d.campaign_id, d.dim, d.value, d.contacts_dialled, d.contacts_answered).where(
            d.tenant_id == uow.tenant_id, d.tz == tz, d.day == day)):
        key: Any
        s: tuple[str, ...]
        if dim == "all":
            s, key = (("campaign",), ctx.names.get(camp)) if camp else ((), ())
        else:
            s, key = (DIM_OF[dim],), int(value) if dim == "hour" else value
        g = groups.get(s, {}).get(key)
        if g is not None:
            g["contacts_dialled"] += dialled
            g["contacts_answered"] += answered
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for s_list in DAILY_SETS:
        s = tuple(s_list)
        rows = []
        for key, g in groups[s].items():
            if g["attempts"] <= 0:
                continue
            if s:
                g[s[0]] = key
            rows.append(g)
        rows.sort(key=lambda row: tuple(str(row[b]) if not isinstance(row[b], int) else f"{row[b]:08d}"
                                        for b in s))
        done = kpis._finish(uow, ctx, list(s), rows)
        out[s] = done or ([kpis._finish(uow, ctx, [], [kpis._zero()])[0]] if not s else [])
    return out, ctx.currency


# ---------------------------------------------------------------- rebuild
def rebuild(uow: UnitOfWork, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Recompute the tenant's rollup from the raw CDRs, dispositions and script assignments, in
    the tenant's current time zone (one transaction; the caller commits)."""
    t0 = time.perf_counter()
    conn = uow.session.connection()
    dialect = conn.dialect.name
    tid = uow.tenant_id
    tz = cfgs.tenant_timezone(uow)
    if dialect == "postgresql":
        conn.execute(text("SET LOCAL jit = off"))
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
    conn.execute(delete(ReportHourly).where(ReportHourly.tenant_id == tid))
    conn.execute(delete(ReportDayContacts).where(ReportDayContacts.tenant_id == tid))
    for name, by in (("rollup_facts", ["agent", "outcome", "script"]), ("rollup_tag_facts", ["tags"])):
        _facts(uow, tz, name, by)
        if progress:
            progress(name)
    cols = ["campaign_id", "hour", "day", "lhour", "contact_id", "code", "answered", "connected", "abandoned", "disp",
            "talk", "wrap"]
    f = table("rollup_facts", *[column(c) for c in (*cols, "agent", "outcome", "script")])
    ft = table("rollup_tag_facts", *[column(c) for c in (*cols, "tags")])
    hcols = ["tenant_id", "campaign_id", "hour", "dim", "value", "code", *SUMS]
    for dim in rr.HOURLY_DIMS:
        src = ft if dim == "tag" else f
        value: Any = literal("") if dim == "all" else src.c["tags" if dim == "tag" else dim]
        q = select(literal(tid), src.c.campaign_id, src.c.hour, literal(dim), value, src.c.code, func.count(),
                   func.sum(src.c.answered), func.sum(src.c.connected), func.sum(src.c.abandoned),
                   func.sum(src.c.disp), func.coalesce(func.sum(src.c.talk), 0),
                   func.coalesce(func.sum(src.c.wrap), 0.0)
                   ).group_by(src.c.campaign_id, src.c.hour, src.c.code, *([] if dim == "all" else [value]))
        conn.execute(insert(ReportHourly).from_select(hcols, q))
        if progress:
            progress(f"hourly {dim}")
    dcols = ["tenant_id", "tz", "day", "campaign_id", "dim", "value", "contacts_dialled", "contacts_answered"]
    parts: list[tuple[Any, Any, str, Any]] = [
        (f, literal(""), "all", literal("")), (f, f.c.campaign_id, "all", literal("")),
        (f, literal(""), "agent", f.c.agent), (f, literal(""), "hour", f.c.lhour),
        (f, literal(""), "outcome", f.c.outcome),
        (f, literal(""), "disposition", func.coalesce(func.nullif(f.c.code, ""), dims.NONE)),
        (f, literal(""), "script", f.c.script), (ft, literal(""), "tag", ft.c.tags)]
    for src, scope, dim, value in parts:
        ans_contact = case((src.c.answered == 1, src.c.contact_id), else_=None)
        q = select(literal(tid), literal(tz), src.c.day, scope, literal(dim), value,
                   func.count(src.c.contact_id.distinct()), func.count(ans_contact.distinct())
                   ).group_by(src.c.day, *[e for e in (scope, value) if not isinstance(e, BindParameter)])
        conn.execute(insert(ReportDayContacts).from_select(dcols, q))
        if progress:
            progress(f"days {dim}")
    conn.exec_driver_sql("DROP TABLE rollup_facts")
    conn.exec_driver_sql("DROP TABLE rollup_tag_facts")
    rr.set_state(conn, tid, tz, True, datetime.now(UTC))
    hourly = uow.session.scalar(select(func.count()).select_from(ReportHourly).where(ReportHourly.tenant_id == tid))
    day_rows = uow.session.scalar(select(func.count()).select_from(ReportDayContacts).where(
        ReportDayContacts.tenant_id == tid))
    return {"timezone": tz, "hourly_rows": hourly, "day_rows": day_rows,
            "seconds": round(time.perf_counter() - t0, 3)}


def _facts(uow: UnitOfWork, tz: str, name: str, by: list[str]) -> None:
    """A temporary table of one row per CDR (per CDR and tag with ``tags``) with what the
    rollup sums, computed by the raw report's own query (``kpis._inner``)."""
    conn = uow.session.connection()
    dialect = conn.dialect.name
    joins = dims.Joins(dialect)
    lt = LocalTime(dialect, tz, Cdr.dial_at)
    if dialect == "postgresql":
        bucket: Any = func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", Cdr.dial_at)))
    else:
        bucket = func.strftime("%Y-%m-%d %H:00:00.000000", Cdr.dial_at)
    exprs = dims.expressions(by, dialect, tz, joins, None, None)
    r = kpis._inner(dialect, joins, [Cdr.campaign_id.label("campaign_id"), bucket.label("hour"),
                                     lt.date().label("day"), cast(lt.hour(), String).label("lhour"), *exprs],
                    uow, kpis.Scope())
    answered = r.c.m_outcome.in_(kpis.ANSWERED)
    q = select(
        r.c.campaign_id, r.c.hour, r.c.day, r.c.lhour, r.c.m_contact.label("contact_id"),
        func.coalesce(r.c.m_code, "").label("code"), case((answered, 1), else_=0).label("answered"),
        case((r.c.m_outcome == "connected", 1), else_=0).label("connected"),
        case((r.c.m_outcome == "abandoned", 1), else_=0).label("abandoned"),
        case((r.c.m_disp.is_not(None), 1), else_=0).label("disp"), r.c.m_talk.label("talk"),
        case((r.c.m_disp.is_not(None), r.c.m_wrap), else_=0.0).label("wrap"), *[r.c[b] for b in by])
    sql = str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} AS " + sql)


def invalidate(uow: UnitOfWork) -> None:
    rr.invalidate(uow.session.connection(), uow.tenant_id)

