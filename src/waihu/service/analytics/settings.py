"""Analytics settings per campaign (tenant defaults, then the campaign's own), with defaults."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Campaign, Tenant
from waihu.adapters.storage.models_analytics import AnalyticsConfig
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.campaigns import Disposition
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.timeutil import to_dt
from waihu.service.campaigns import dispositions_of

DEFAULTS: dict[str, Any] = {
    "average_order": "0",  # money, the campaign's currency
    "repurchase_rate": 0.0,  # purchases per customer per year after the first
    "years": 1.0,
    "agent_hourly_cost": "0",
    "trunk_minute_cost": "0",  # per started minute of a CDR, default for every trunk
    "trunk_minute_costs": {},  # trunk id -> cost per minute
    "system_cost": "0",  # fixed cost of the campaign (licences, servers)
    "ltv_cac_threshold": 3.0,
    "complaint_codes": ["complaint"],
    "funnel": ["reach", "intent", "needs", "proposal", "conversion"],
    "excluded_slots": [],  # [weekday 1-7, hour 0-23] pairs never recommended
    "slot_plan": {},  # segment value -> [[weekday, hour], ...] adopted from the time-slot analysis
    "slot_segment": None,  # the dimension the adopted plan's segments are values of (None: "all")
    "slot_min_attempts": 30,
    "alerts": {
        "window_minutes": 60,
        "min_attempts": 50,
        "connect_rate_min": 0.45,
        "complaint_rate_max": 0.05,
        "abandon_rate_max": None,  # None: the campaign's abandon target
        "trunk_min_attempts": 20,
        "backlog_max": 5000,
    },
}
MONEY_KEYS = ("average_order", "agent_hourly_cost", "trunk_minute_cost", "system_cost")


def money(v: Any, key: str) -> Decimal:
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise ValidationError("analytics.invalid_setting", f"{key} is not a number",
                              [ErrorDetail("analytics.invalid_setting", "not a number", field=key)]) from None
    if d < 0:
        raise ValidationError("analytics.invalid_setting", f"{key} must be >= 0",
                              [ErrorDetail("analytics.invalid_setting", "negative", field=key)])
    return d


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load(uow: UnitOfWork, campaign: Campaign | None) -> dict[str, Any]:
    rows = {r.campaign_id: r.config for r in uow.session.scalars(select(AnalyticsConfig).where(
        AnalyticsConfig.tenant_id == uow.tenant_id,
        AnalyticsConfig.campaign_id.in_(["", campaign.id if campaign else ""])))}
    cfg = _merge(DEFAULTS, rows.get("", {}))
    if campaign is not None:
        cfg = _merge(cfg, rows.get(campaign.id, {}))
        cfg["currency"] = campaign.currency
        cfg.setdefault("abandon_target", float((campaign.options or {}).get("abandon_target", 0.03)))
    else:
        cfg.setdefault("currency", "CNY")
    return cfg


def save(uow: UnitOfWork, campaign: Campaign | None, changes: dict[str, Any], now: float) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise ValidationError("analytics.unknown_setting", f"unknown settings: {', '.join(unknown)}",
                              [ErrorDetail("analytics.unknown_setting", "unknown", field=k) for k in unknown])
    for k in MONEY_KEYS:
        if k in changes:
            money(changes[k], k)
    cid = campaign.id if campaign else ""
    row = uow.session.scalar(select(AnalyticsConfig).where(AnalyticsConfig.tenant_id == uow.tenant_id,
                                                           AnalyticsConfig.campaign_id == cid))
    if row is None:
        row = AnalyticsConfig(id=uow.new_id(), tenant_id=uow.tenant_id, campaign_id=cid, config={},
                              updated_at=to_dt(now))
        uow.session.add(row)
    merged = _merge(row.config, changes)
    if "slot_plan" in changes:  # an adopted plan replaces the previous one
        merged["slot_plan"] = copy.deepcopy(changes["slot_plan"])
    row.config = merged
    row.updated_at = to_dt(now)
    uow.session.flush()
    return load(uow, campaign)


def tenant_timezone(uow: UnitOfWork) -> str:
    return uow.session.scalar(select(Tenant.timezone).where(Tenant.id == uow.tenant_id)) or "Asia/Shanghai"


def success_codes(campaigns: list[Campaign]) -> set[str]:
    return {d.code for c in campaigns for d in dispositions_of(c) if d.success}


def dispositions_by_code(campaigns: list[Campaign]) -> dict[str, Disposition]:
    return {d.code: d for c in campaigns for d in dispositions_of(c)}

