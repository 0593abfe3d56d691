"""KPIs per any combination of dimensions, computed with aggregate queries in the database.

Rates come from ``waihu.domain.kpi.derive`` so every consumer uses one definition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, distinct, func, literal, select, text, tuple_
from sqlalchemy.sql.elements import ColumnElement

from waihu.adapters.storage.models import Agent, AgentSession, Campaign, Cdr
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.calls import ANSWERED_OUTCOMES, Outcome
from waihu.domain.kpi import derive
from waihu.domain.timeutil import to_ts
from waihu.service.analytics import dimensions as dims
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.sqlx import seconds_between

ANSWERED = [o.value for o in ANSWERED_OUTCOMES]
SESSION_DIMS = {"campaign", "agent", "date"}


@dataclass
class Scope:
    """What a report covers: some campaigns (None: all of the tenant's) and a UTC time range."""

    campaigns: list[Campaign] | None = None
    since: datetime | None = None
    until: datetime | None = None
    by: list[str] = field(default_factory=list)


def _inner(dialect: str, joins: dims.Joins, by_exprs: list[ColumnElement[Any]], uow: UnitOfWork,
           scope: Scope) -> Any:
    """One row per CDR (per tag with ``tags``): its dimension values and what the sums need."""
    d = joins.d.c
    q = select(*by_exprs, Cdr.id.label("m_cdr"), Cdr.contact_id.label("m_contact"), Cdr.outcome.label("m_outcome"),
               Cdr.talk_seconds.label("m_talk"), d.id.label("m_disp"), d.code.label("m_code"),
               seconds_between(dialect, d.set_at, Cdr.end_at).label("m_wrap")).select_from(Cdr)
    return _where(dims.apply_joins(q, joins), uow, scope).subquery("r")


def _sums(r: Any, success: set[str], complaint: set[str]) -> list[ColumnElement[Any]]:
    one = literal(1)
    answered = r.c.m_outcome.in_(ANSWERED)
    return [
        func.count(r.c.m_cdr).label("attempts"),
        func.coalesce(func.sum(case((answered, one), else_=0)), 0).label("answered"),
        func.coalesce(func.sum(case((r.c.m_outcome == Outcome.CONNECTED.value, one), else_=0)), 0).label("connected"),
        func.coalesce(func.sum(case((r.c.m_outcome == Outcome.ABANDONED.value, one), else_=0)), 0).label("abandoned"),
        func.count(distinct(r.c.m_contact)).label("contacts_dialled"),
        func.count(distinct(case((answered, r.c.m_contact), else_=None))).label("contacts_answered"),
        func.coalesce(func.sum(r.c.m_talk), 0).label("talk_seconds"),
        func.coalesce(func.sum(case((r.c.m_disp.is_not(None), r.c.m_wrap), else_=None)), 0).label("wrap_seconds"),
        func.count(r.c.m_disp).label("dispositions"),
        func.coalesce(func.sum(case((r.c.m_code.in_(sorted(success) or [""]), one), else_=0)), 0).label("conversions"),
        func.coalesce(func.sum(case((r.c.m_code.in_(sorted(complaint) or [""]), one), else_=0)), 0).label("complaints"),
    ]


def _where(q: Select[Any], uow: UnitOfWork, scope: Scope) -> Select[Any]:
    q = q.where(Cdr.tenant_id == uow.tenant_id)
    if scope.campaigns is not None:
        q = q.where(Cdr.campaign_id.in_([c.id for c in scope.campaigns]))
    if scope.since is not None:
        q = q.where(Cdr.dial_at >= scope.since)
    if scope.until is not None:
        q = q.where(Cdr.dial_at < scope.until)
    return q


def _campaigns(uow: UnitOfWork, scope: Scope) -> list[Campaign]:
    if scope.campaigns is not None:
        return scope.campaigns
    return list(uow.session.scalars(select(Campaign).where(Campaign.tenant_id == uow.tenant_id)))


def logged_seconds(uow: UnitOfWork, scope: Scope, tz: str) -> dict[tuple[str, str, str], float]:
    """Logged-in seconds per (campaign id, agent id, local date), clipped to the scope's range."""
    s = AgentSession
    q = select(s.campaign_id, s.agent_id, s.login_at, s.logout_at).where(
        s.tenant_id == uow.tenant_id, s.logout_at.is_not(None))
    if scope.campaigns is not None:
        q = q.where(s.campaign_id.in_([c.id for c in scope.campaigns]))
    if scope.until is not None:
        q = q.where(s.login_at < scope.until)
    if scope.since is not None:
        q = q.where(s.logout_at > scope.since)
    q = q.where(s.logout_at.is_not(None))
    zone = ZoneInfo(tz)
    lo = to_ts(scope.since) if scope.since else float("-inf")
    hi = to_ts(scope.until) if scope.until else float("inf")
    out: dict[tuple[str, str, str], float] = {}
    for cid, aid, login, logout in uow.session.execute(q):
        if logout is None:
            continue
        a, b = max(to_ts(login), lo), min(to_ts(logout), hi)
        while a < b:  # split at local midnights
            local = datetime.fromtimestamp(a, zone)
            nxt = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone).timestamp()
            piece_end = min(b, nxt)
            key = (cid or "", aid, local.date().isoformat())
            out[key] = out.get(key, 0.0) + piece_end - a
            a = piece_end
    return out


@dataclass
class _Ctx:
    dialect: str
    tz: str
    success: set[str]
    complaint: set[str]
    avg_order: Decimal
    currency: str
    names: dict[str, str]
    logged: dict[tuple[str, str, str], float]


def _context(uow: UnitOfWork, scope: Scope) -> _Ctx:
    dialect = uow.session.get_bind().dialect.name
    if dialect == "postgresql":  # short report queries: compiling them costs more than it saves
        uow.session.execute(text("SET LOCAL jit = off"))
        uow.session.execute(text("SET LOCAL work_mem = '64MB'"))  # the distinct counts sort in memory
    tz = cfgs.tenant_timezone(uow)
    campaigns = _campaigns(uow, scope)
    one_cfg = cfgs.load(uow, campaigns[0] if len(campaigns) == 1 else None)
    return _Ctx(dialect, tz, cfgs.success_codes(campaigns), set(one_cfg["complaint_codes"]),
                cfgs.money(one_cfg["average_order"], "average_order"), one_cfg.get("currency", "CNY"),
                {c.id: c.name for c in campaigns}, logged_seconds(uow, scope, tz))


def _finish(uow: UnitOfWork, ctx: _Ctx, by: list[str], mapped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total_logged = sum(ctx.logged.values())
    agent_codes = _agent_codes(uow) if "agent" in by else {}
    index = _logged_index(ctx.logged, ctx.names, by)
    rows = []
    for m in mapped:
        key = {b: m.pop(b) for b in by}
        m["logged_seconds"] = total_logged if index is None else index.get(tuple(key[b] for b in by), 0.0)
        row = {**key, **derive(m, ctx.avg_order)}
        if "agent" in key:
            row["agent_code"] = agent_codes.get(str(key["agent"]), key["agent"])
        rows.append(row)
    return rows


def compute(uow: UnitOfWork, scope: Scope, *, with_totals: bool = True) -> dict[str, Any]:
    """{"totals": {...}, "rows": [{dimension values..., metrics...}]}"""
    dims.check(scope.by)
    ctx = _context(uow, scope)
    totals: dict[str, Any] = {}
    if with_totals or not scope.by:
        r = _inner(ctx.dialect, dims.Joins(ctx.dialect), [], uow, scope)
        totals = _finish(uow, ctx, [], [dict(uow.session.execute(select(*_sums(r, ctx.success, ctx.complaint)))
                                             .one()._mapping)])[0]
    rows: list[dict[str, Any]] = []
    if scope.by:
        joins = dims.Joins(ctx.dialect)
        r = _inner(ctx.dialect, joins, dims.expressions(scope.by, ctx.dialect, ctx.tz, joins, scope.since,
                                                          scope.until), uow, scope)
        keys = [r.c[b] for b in scope.by]
        q = select(*keys, *_sums(r, ctx.success, ctx.complaint)).group_by(*keys).order_by(*keys)
        rows = _finish(uow, ctx, scope.by, [dict(x._mapping) for x in uow.session.execute(q)])
    return {"totals": totals, "rows": rows, "currency": ctx.currency, "timezone": ctx.tz,
            "since": scope.since.isoformat() if scope.since else None,
            "until": scope.until.isoformat() if scope.until else None, "by": scope.by}


def compute_sets(uow: UnitOfWork, scope: Scope, sets: list[list[str]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows for several groupings at once (``[]`` is the totals). PostgreSQL answers them with one
    scan (GROUPING SETS); SQLite runs one query per grouping. ``tags`` may not be among them (it
    repeats CDRs per tag)."""
    for s_ in sets:
        dims.check(s_)
    if "tags" in {b for s_ in sets for b in s_}:
        raise ValueError("tags cannot share a scan with other groupings")
    ctx = _context(uow, scope)
    if ctx.dialect != "postgresql":
        out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for s_ in sets:
            k = compute(uow, Scope(scope.campaigns, scope.since, scope.until, s_), with_totals=not s_)
            out[tuple(s_)] = k["rows"] if s_ else [k["totals"]]
        return out
    all_dims = list(dict.fromkeys(b for s_ in sets for b in s_))
    joins = dims.Joins(ctx.dialect)
    r = _inner(ctx.dialect, joins, dims.expressions(all_dims, ctx.dialect, ctx.tz, joins, scope.since, scope.until),
               uow, scope)
    cols = [r.c[b] for b in all_dims]
    q = select(*cols, func.grouping(*cols).label("grouping_mask"), *_sums(r, ctx.success, ctx.complaint)).group_by(
        func.grouping_sets(*[tuple_(*[r.c[b] for b in s_]) for s_ in sets]))
    masks = {sum(1 << (len(all_dims) - 1 - i) for i, b in enumerate(all_dims) if b not in s_): s_ for s_ in sets}
    grouped: dict[int, list[dict[str, Any]]] = {m: [] for m in masks}
    for x in uow.session.execute(q):
        m = dict(x._mapping)
        mask = m.pop("grouping_mask")
        want = masks[mask]
        grouped[mask].append({k: v for k, v in m.items() if k not in all_dims or k in want})
    result: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for mask, s_ in masks.items():
        rows = sorted(grouped[mask], key=lambda row: tuple(str(row[b]) if not isinstance(row[b], int) else
                                                            f"{row[b]:08d}" for b in s_))
        done = _finish(uow, ctx, s_, rows)
        result[tuple(s_)] = done or ([_finish(uow, ctx, [], [_zero()])[0]] if not s_ else [])
    return result


def _zero() -> dict[str, Any]:
    return {k: 0 for k in ("attempts", "answered", "connected", "abandoned", "contacts_dialled", "contacts_answered",
                           "talk_seconds", "wrap_seconds", "dispositions", "conversions", "complaints")}


def _logged_index(logged: dict[tuple[str, str, str], float], names: dict[str, str],
                  by: list[str]) -> dict[tuple[Any, ...], float] | None:
    """Logged time summed by the row key, when rows are cut by campaign, agent or date only;
    None otherwise (then a row's talk occupancy is its share of the whole scope's logged time)."""
    if not set(by) <= SESSION_DIMS:
        return None
    out: dict[tuple[Any, ...], float] = {}
    for (cid, aid, day), secs in logged.items():
        parts = {"campaign": names.get(cid, cid), "agent": aid, "date": day}
        k = tuple(parts[b] for b in by)
        out[k] = out.get(k, 0.0) + secs
    return out


def _agent_codes(uow: UnitOfWork) -> dict[str, str]:
    return {i: c for i, c in uow.session.execute(select(Agent.id, Agent.code).where(
        Agent.tenant_id == uow.tenant_id))}


def local_day(tz: str, day: str) -> tuple[datetime, datetime]:
    """The UTC range of a local calendar date in ``tz``."""
    from datetime import date

    d = date.fromisoformat(day)
    zone = ZoneInfo(tz)
    start = datetime.combine(d, datetime.min.time(), zone)
    end = datetime.combine(d + timedelta(days=1), datetime.min.time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def avg_order_of(cfg: dict[str, Any]) -> Decimal:
    return cfgs.money(cfg["average_order"], "average_order")
