"""Return on investment: acquisition cost, lifetime value and their ratio, in Decimal money.

CAC = (labour + telecom + system cost) / converted customers; labour = logged-in hours x agent
hourly cost; telecom = started minutes of connected talk x the trunk's per-minute tariff;
LTV = average order x repurchase rate (purchases per year) x years. Per segment, costs are
allocated by the segment's share of handle time (labour, telecom) and of attempts (system)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Integer, cast, func, select

from waihu.adapters.storage.models import Campaign, Cdr
from waihu.adapters.storage.uow import UnitOfWork
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.kpis import Scope, compute

CENT = Decimal("0.01")


def _q(d: Decimal) -> str:
    return str(d.quantize(CENT, rounding=ROUND_HALF_UP))


def telecom_cost(uow: UnitOfWork, campaign: Campaign, cfg: dict[str, Any]) -> Decimal:
    dialect = uow.session.get_bind().dialect.name
    minutes = (func.ceil(Cdr.talk_seconds / 60) if dialect == "postgresql"
               else cast((Cdr.talk_seconds + 59.999) / 60, Integer))
    default = cfgs.money(cfg["trunk_minute_cost"], "trunk_minute_cost")
    tariffs = {k: cfgs.money(v, f"trunk_minute_costs.{k}") for k, v in cfg["trunk_minute_costs"].items()}
    total = Decimal(0)
    for trunk, mins in uow.session.execute(select(Cdr.trunk_id, func.coalesce(func.sum(minutes), 0)).where(
            Cdr.tenant_id == uow.tenant_id, Cdr.campaign_id == campaign.id, Cdr.talk_seconds > 0)
            .group_by(Cdr.trunk_id)):
        total += Decimal(int(mins)) * tariffs.get(trunk or "", default)
    return total


def _verdict(ltv: Decimal, cac: Decimal | None, threshold: float) -> dict[str, Any]:
    if cac is None or cac == 0:
        return {"cac": None if cac is None else _q(cac), "ltv_cac": None, "meets_threshold": cac is not None}
    ratio = ltv / cac
    return {"cac": _q(cac), "ltv_cac": float(round(ratio, 3)), "meets_threshold": ratio >= Decimal(str(threshold))}


def roi(uow: UnitOfWork, campaign: Campaign, segment: str | None = None,
        totals: dict[str, Any] | None = None) -> dict[str, Any]:
    """ROI of a campaign; ``totals`` (its KPI totals) saves a scan when the caller has them."""
    cfg = cfgs.load(uow, campaign)
    if totals is not None and segment is None:
        k: dict[str, Any] = {"totals": totals, "rows": []}
    else:
        k = compute(uow, Scope(campaigns=[campaign], by=[segment] if segment else []))
    tot = k["totals"]
    hourly = cfgs.money(cfg["agent_hourly_cost"], "agent_hourly_cost")
    labour = hourly * Decimal(str(tot["logged_seconds"])) / Decimal(3600)
    telecom = telecom_cost(uow, campaign, cfg)
    system = cfgs.money(cfg["system_cost"], "system_cost")
    avg_order = cfgs.money(cfg["average_order"], "average_order")
    ltv = avg_order * Decimal(str(cfg["repurchase_rate"])) * Decimal(str(cfg["years"]))
    total = labour + telecom + system
    conv = int(tot["conversions"])
    doc: dict[str, Any] = {
        "campaign": campaign.name, "currency": cfg["currency"], "labour": _q(labour), "telecom": _q(telecom),
        "system": _q(system), "total_cost": _q(total), "conversions": conv, "ltv": _q(ltv),
        "threshold": cfg["ltv_cac_threshold"], **_verdict(ltv, total / conv if conv else None,
                                                          cfg["ltv_cac_threshold"]),
        "segments": []}
    if segment:
        handle = sum(r["talk_seconds"] + r["wrap_seconds"] for r in k["rows"]) or 1.0
        attempts = sum(r["attempts"] for r in k["rows"]) or 1
        for r in k["rows"]:
            share_h = Decimal(str((r["talk_seconds"] + r["wrap_seconds"]) / handle))
            share_a = Decimal(r["attempts"]) / Decimal(attempts)
            cost = (labour + telecom) * share_h + system * share_a
            c = int(r["conversions"])
            doc["segments"].append({segment: r[segment], "cost": _q(cost), "conversions": c,
                                    **_verdict(ltv, cost / c if c else None, cfg["ltv_cac_threshold"])})
    return doc
