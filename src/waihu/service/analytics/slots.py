"""Time slots: answer and conversion rates by local weekday x hour with Wilson intervals, and
a recommended calling-slot plan per segment (best lower bounds first, excluded and
complaint-prone slots left out)."""

from __future__ import annotations

from typing import Any

from waihu.adapters.storage.models import Campaign
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.stats import wilson
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.kpis import Scope, compute


def heatmap(uow: UnitOfWork, campaign: Campaign | None, segment: str | None = None) -> dict[str, Any]:
    by = [*([segment] if segment else []), "weekday", "hour"]
    k = compute(uow, Scope(campaigns=[campaign] if campaign else None, by=by))
    cells = []
    for r in k["rows"]:
        lo, hi = wilson(r["answered"], r["attempts"])
        clo, chi = wilson(r["conversions"], r["connected"])
        cells.append({**({segment: r[segment]} if segment else {}), "weekday": r["weekday"], "hour": r["hour"],
                      "attempts": r["attempts"], "answered": r["answered"], "answer_rate": r["answer_rate"],
                      "answer_ci": [round(lo, 6), round(hi, 6)], "connected": r["connected"],
                      "conversions": r["conversions"], "conversion_rate": r["conversion_rate"],
                      "conversion_ci": [round(clo, 6), round(chi, 6)], "complaint_rate": r["complaint_rate"]})
    return {"segment": segment, "timezone": k["timezone"], "cells": cells}


def plan(uow: UnitOfWork, campaign: Campaign, segment: str | None = None, slots: int = 6,
         hm: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg = cfgs.load(uow, campaign)
    excluded = {(int(w), int(h)) for w, h in cfg["excluded_slots"]}
    max_complaints = float(cfg["alerts"]["complaint_rate_max"])
    min_n = int(cfg["slot_min_attempts"])
    hm = hm if hm is not None else heatmap(uow, campaign, segment)
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in hm["cells"]:
        groups.setdefault(str(c[segment]) if segment else "all", []).append(c)
    out: dict[str, list[list[int]]] = {}
    for seg, cells in sorted(groups.items()):
        ok = [c for c in cells if c["attempts"] >= min_n and (c["weekday"], c["hour"]) not in excluded
              and c["complaint_rate"] <= max_complaints]
        ok.sort(key=lambda c: (-c["answer_ci"][0], -c["conversion_ci"][0], c["weekday"], c["hour"]))
        out[seg] = [[c["weekday"], c["hour"]] for c in ok[:slots]]
    return {"campaign": campaign.name, "segment": segment, "plan": out, "min_attempts": min_n,
            "excluded_slots": sorted(excluded)}


def adopt(uow: UnitOfWork, campaign: Campaign, doc: dict[str, Any], now: float) -> None:
    """Store the plan in the campaign's analytics settings, where the scheduler reads it: when
    loading due contacts, the dialer store puts first (within a priority) the contacts whose
    segment has the current local weekday and hour in its plan (segments by ``region`` or
    ``source``; see ``SqlDialerStore.load_contacts``)."""
    cfgs.save(uow, campaign, {"slot_plan": doc["plan"], "slot_segment": doc.get("segment")}, now)
