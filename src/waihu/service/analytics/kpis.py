"""KPIs per any combination of dimensions, computed with aggregate queries in the database.

Rates come from ``waihu.domain.kpi.derive`` so every consumer uses one definition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, distinct, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from waihu.adapters.storage.models import Agent, AgentSession, Campaign, Cdr, DispositionRecord
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


def _sums(dialect: str, success: set[str], complaint: set[str]) -> list[ColumnElement[Any]]:
    d = DispositionRecord
    one = literal(1)
    return [
        func.count(Cdr.id).label("attempts"),
        func.coalesce(func.sum(case((Cdr.outcome.in_(ANSWERED), one), else_=0)), 0).label("answered"),
        func.coalesce(func.sum(case((Cdr.outcome == Outcome.CONNECTED.value, one), else_=0)), 0).label("connected"),
        func.coalesce(func.sum(case((Cdr.outcome == Outcome.ABANDONED.value, one), else_=0)), 0).label("abandoned"),
        func.count(distinct(Cdr.contact_id)).label("contacts_dialled"),
        func.count(distinct(case((Cdr.outcome.in_(ANSWERED), Cdr.contact_id), else_=None))).label(
            "contacts_answered"),
        func.coalesce(func.sum(Cdr.talk_seconds), 0).label("talk_seconds"),
        func.coalesce(func.sum(case((d.id.is_not(None), seconds_between(dialect, d.set_at, Cdr.end_at)),
                                    else_=None)), 0).label("wrap_seconds"),
        func.count(d.id).label("dispositions"),
        func.coalesce(func.sum(case((d.code.in_(sorted(success) or [""]), one), else_=0)), 0).label("conversions"),
        func.coalesce(func.sum(case((d.code.in_(sorted(complaint) or [""]), one), else_=0)), 0).label("complaints"),
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


def compute(uow: UnitOfWork, scope: Scope, *, with_totals: bool = True) -> dict[str, Any]:
    """{"totals": {...}, "rows": [{dimension values..., metrics...}]}"""
    dims.check(scope.by)
    dialect = uow.session.get_bind().dialect.name
    tz = cfgs.tenant_timezone(uow)
    campaigns = _campaigns(uow, scope)
    success = cfgs.success_codes(campaigns)
    one_cfg = cfgs.load(uow, campaigns[0] if len(campaigns) == 1 else None)
    complaint = set(one_cfg["complaint_codes"])
    avg_order = cfgs.money(one_cfg["average_order"], "average_order")
    names = {c.id: c.name for c in campaigns}
    logged = logged_seconds(uow, scope, tz)
    total_logged = sum(logged.values())

    base = _where(dims.apply_joins(select(*_sums(dialect, success, complaint)).select_from(Cdr), dims.Joins()),
                  uow, scope)
    totals: dict[str, Any] = {}
    if with_totals or not scope.by:
        totals_raw = dict(uow.session.execute(base).one()._mapping)
        totals_raw["logged_seconds"] = total_logged
        totals = derive(totals_raw, avg_order)

    rows: list[dict[str, Any]] = []
    if scope.by:
        joins = dims.Joins()
        exprs = dims.expressions(scope.by, dialect, tz, joins, scope.since, scope.until)
        q = select(*exprs, *_sums(dialect, success, complaint)).select_from(Cdr)
        q = _where(dims.apply_joins(q, joins), uow, scope).group_by(*exprs).order_by(*exprs)
        agent_codes = _agent_codes(uow) if "agent" in scope.by else {}
        by_name = {v: k for k, v in names.items()}
        for r in uow.session.execute(q):
            m = dict(r._mapping)
            key = {b: m.pop(b) for b in scope.by}
            m["logged_seconds"] = _row_logged(key, logged, by_name, total_logged, scope.by, float(m["talk_seconds"]))
            row = {**key, **derive(m, avg_order)}
            if "agent" in key:
                row["agent_code"] = agent_codes.get(str(key["agent"]), key["agent"])
            rows.append(row)
    return {"totals": totals, "rows": rows, "currency": one_cfg.get("currency", "CNY"), "timezone": tz,
            "since": scope.since.isoformat() if scope.since else None,
            "until": scope.until.isoformat() if scope.until else None, "by": scope.by}


def _row_logged(key: dict[str, Any], logged: dict[tuple[str, str, str], float], by_name: dict[str, str],
                total: float, by: list[str], talk: float) -> float:
    """Logged time of a row: exact when the row is cut by campaign, agent or date only; otherwise
    the whole scope's logged time, so the row's talk occupancy is its share of the total."""
    if not set(by) <= SESSION_DIMS:
        return total
    want_c = by_name.get(str(key["campaign"])) if "campaign" in key else None
    s = 0.0
    for (cid, aid, day), secs in logged.items():
        if want_c is not None and cid != want_c:
            continue
        if "agent" in key and aid != key["agent"]:
            continue
        if "date" in key and day != key["date"]:
            continue
        s += secs
    return s


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
