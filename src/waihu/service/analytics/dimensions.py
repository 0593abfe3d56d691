"""Report dimensions: how each one is computed from a CDR and which tables it needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, case, cast, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from waihu.adapters.storage.models import Campaign, Cdr, Contact, ContactPhone, DispositionRecord
from waihu.adapters.storage.models_analytics import ScriptAssignment
from waihu.domain.calls import Outcome
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.service.analytics.sqlx import LocalTime

DIMENSIONS: dict[str, str] = {
    "campaign": "campaign name / 任务",
    "agent": "agent / 座席",
    "outcome": "call outcome / 呼叫结果",
    "loss_cause": "loss cause / 失败原因",
    "disposition": "disposition code / 小结",
    "trunk": "trunk / 线路",
    "caller_id": "caller ID / 主叫号码",
    "mode": "dial mode / 外呼模式",
    "date": "local date / 日期",
    "weekday": "local ISO weekday, 1 = Monday / 星期",
    "hour": "local hour / 小时",
    "region": "region of the dialled number / 地区",
    "age_band": "customer age band / 年龄段",
    "spend_tier": "customer spend tier / 消费层级",
    "tags": "customer tag (one row per tag) / 标签",
    "source": "customer source / 来源",
    "script": "script variant or script / 话术",
}
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))
NONE = "(none)"


def check(by: list[str]) -> None:
    bad = [b for b in by if b not in DIMENSIONS]
    if bad:
        raise ValidationError(
            "report.unknown_dimension", f"unknown dimension(s): {', '.join(bad)}; known: {', '.join(DIMENSIONS)}",
            [ErrorDetail("report.unknown_dimension", f"unknown dimension {b!r}", field="by") for b in bad])
    if len(set(by)) != len(by):
        raise ValidationError("report.duplicate_dimension", "a dimension is given twice")


class Joins:
    """The tables a query needs beside ``cdrs``. On PostgreSQL each is a LATERAL one-row lookup
    by key, so a day's CDRs probe the indexes instead of hashing whole tables; on SQLite an
    outer join (its planner already probes the index), to the latest row where there can be
    several (a call's dispositions, a contact's script assignments)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        self.disposition = True
        self.contact = self.phone = self.campaign = self.script = False
        self.tags: Any = None
        d, ct = DispositionRecord.__table__, Contact.__table__
        ph, sa = ContactPhone.__table__, ScriptAssignment.__table__
        self.d: Any = d
        self.ct: Any = ct
        self.ph: Any = ph
        self.sa: Any = sa
        if self.pg:
            self.d = (select(d.c.id, d.c.code, d.c.set_at)
                      .where(Cdr.outcome == Outcome.CONNECTED.value,  # only connected calls have one
                             d.c.call_id == Cdr.id, d.c.tenant_id == Cdr.tenant_id)
                      .order_by(d.c.set_at.desc()).limit(1).lateral("d"))
            self.ct = (select(ct.c.fields, ct.c.tags, ct.c.source)
                       .where(ct.c.id == Cdr.contact_id, ct.c.tenant_id == Cdr.tenant_id).limit(1).lateral("ct"))
            self.ph = (select(ph.c.region).where(ph.c.id == Cdr.phone_id, ph.c.tenant_id == Cdr.tenant_id)
                       .limit(1).lateral("ph"))
            self.sa = (select(sa.c.variant).where(sa.c.campaign_id == Cdr.campaign_id,
                                                   sa.c.contact_id == Cdr.contact_id,
                                                   sa.c.tenant_id == Cdr.tenant_id)
                       .order_by(sa.c.assigned_at.desc()).limit(1).lateral("sa"))


def _age_band(dialect: str, ct: Any) -> ColumnElement[str]:
    if dialect == "postgresql":
        raw = ct.c.fields["age"].as_string()
        age = case((raw.op("~")("^[0-9]{1,3}$"), cast(raw, Integer)), else_=None)
    else:
        raw = func.json_extract(ct.c.fields, "$.age")
        kind = func.json_type(ct.c.fields, "$.age")
        numeric = kind.in_(["integer", "real"]) | ((kind == "text") & raw.op("GLOB")("[0-9]*")
                                                   & ~raw.op("GLOB")("*[^0-9]*"))
        age = case((numeric, cast(raw, Integer)), else_=None)
    return case(*[(age < hi, literal(label)) for hi, label in AGE_BANDS], (age >= 65, literal("65+")),
                else_=literal(NONE))


def expressions(by: list[str], dialect: str, tz: str, joins: Joins, start: datetime | None,
                end: datetime | None) -> list[ColumnElement[Any]]:
    lt = LocalTime(dialect, tz, Cdr.dial_at, start, end)
    out: list[ColumnElement[Any]] = []
    for b in by:
        if b in ("age_band", "spend_tier", "source", "tags"):
            joins.contact = True
        if b == "region":
            joins.phone = True
        if b in ("campaign", "script"):
            joins.campaign = True
        if b == "script":
            joins.script = True
        expr: Any
        match b:
            case "campaign":
                expr = Campaign.name
            case "agent":
                expr = func.coalesce(Cdr.agent_id, NONE)
            case "outcome":
                expr = Cdr.outcome
            case "loss_cause":
                expr = func.coalesce(Cdr.loss_cause, NONE)
            case "disposition":
                expr = func.coalesce(joins.d.c.code, NONE)
            case "trunk":
                expr = func.coalesce(Cdr.trunk_id, NONE)
            case "caller_id":
                expr = func.coalesce(Cdr.caller_id, NONE)
            case "mode":
                expr = Cdr.mode
            case "date":
                expr = lt.date()
            case "weekday":
                expr = lt.weekday()
            case "hour":
                expr = lt.hour()
            case "region":
                expr = func.coalesce(joins.ph.c.region, NONE)
            case "age_band":
                expr = _age_band(dialect, joins.ct)
            case "spend_tier":
                expr = func.coalesce(joins.ct.c.fields["spend_tier"].as_string(), NONE)
            case "source":
                expr = func.coalesce(joins.ct.c.source, NONE)
            case "tags":
                fn = func.json_array_elements_text if dialect == "postgresql" else func.json_each
                joins.tags = fn(joins.ct.c.tags).table_valued("value").alias("tag")
                expr = func.coalesce(joins.tags.c.value, NONE)
            case "script":
                expr = func.coalesce(joins.sa.c.variant, Campaign.script_ref, NONE)
        out.append(expr.label(b))
    return out


def apply_joins(q: Select[Any], joins: Joins) -> Select[Any]:
    if joins.pg:
        for needed, src in ((joins.disposition, joins.d), (joins.contact, joins.ct), (joins.phone, joins.ph),
                            (joins.script, joins.sa)):
            if needed:
                q = q.outerjoin(src, true())
    else:
        d, ct, ph, sa = joins.d, joins.ct, joins.ph, joins.sa
        if joins.disposition:
            # the call's latest disposition, connected calls only (as on PostgreSQL); coalesce()
            # keeps SQLite from picking the tenant index over the call_id index
            d2 = d.alias("d_latest")
            latest = (select(d2.c.id).where(d2.c.call_id == Cdr.id, func.coalesce(d2.c.tenant_id, "") == Cdr.tenant_id)
                      .order_by(d2.c.set_at.desc()).limit(1).correlate(Cdr).scalar_subquery())
            q = q.outerjoin(d, (d.c.id == latest) & (Cdr.outcome == Outcome.CONNECTED.value))
        if joins.contact:
            q = q.outerjoin(ct, (ct.c.id == Cdr.contact_id) & (ct.c.tenant_id == Cdr.tenant_id))
        if joins.phone:
            q = q.outerjoin(ph, (ph.c.id == Cdr.phone_id) & (ph.c.tenant_id == Cdr.tenant_id))
        if joins.script:  # the contact's latest assignment in the campaign
            sa2 = sa.alias("sa_latest")
            latest_sa = (select(sa2.c.id).where(sa2.c.campaign_id == Cdr.campaign_id,
                                                sa2.c.contact_id == Cdr.contact_id,
                                                func.coalesce(sa2.c.tenant_id, "") == Cdr.tenant_id)
                         .order_by(sa2.c.assigned_at.desc()).limit(1).correlate(Cdr).scalar_subquery())
            q = q.outerjoin(sa, sa.c.id == latest_sa)
    if joins.campaign:
        q = q.join(Campaign, Campaign.id == Cdr.campaign_id)
    if joins.tags is not None:
        q = q.outerjoin(joins.tags, true())
    return q
