"""What a daily or campaign report contains, assembled from the analytics services."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Campaign, ImportRecord
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.metrics import ratio
from waihu.service.analytics import alerts, funnel, roi, rollup, slots
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.kpis import Scope, compute, compute_sets, local_day

UNSUITABLE_DISPOSITIONS = ("do_not_call", "wrong_person", "complaint")
UNSUITABLE_OUTCOMES = ("invalid_number", "unreachable")


def list_quality(uow: UnitOfWork, campaigns: list[Campaign] | None, since: datetime | None,
                 until: datetime | None) -> dict[str, Any]:
    q = select(ImportRecord).where(ImportRecord.tenant_id == uow.tenant_id)
    if campaigns is not None:
        q = q.where(ImportRecord.campaign_id.in_([c.id for c in campaigns]))
    if since is not None:
        q = q.where(ImportRecord.created_at >= since)
    if until is not None:
        q = q.where(ImportRecord.created_at < until)
    imported = duplicates = rejected = 0
    by_code: dict[str, int] = {}
    files = 0
    for rec in uow.session.scalars(q):
        files += 1
        imported += rec.imported
        duplicates += rec.duplicates
        rejected += rec.rejected
        for d in (rec.report or {}).get("rejected", []):
            by_code[d.get("code", "?")] = by_code.get(d.get("code", "?"), 0) + 1
    return {"files": files, "imported": imported, "duplicates": duplicates, "rejected": rejected,
            "rejected_by_code": dict(sorted(by_code.items(), key=lambda kv: -kv[1])),
            "invalid_numbers": sum(v for k, v in by_code.items() if "number" in k or "phone" in k)}


def review(totals: dict[str, Any], agents: list[dict[str, Any]], hours: list[dict[str, Any]],
           outcomes: list[dict[str, Any]], dispositions: list[dict[str, Any]], scripts: list[dict[str, Any]],
           quality: dict[str, Any]) -> dict[str, Any]:
    """The campaign summary review: what worked, why calls failed, the quality of the list."""
    worked: list[dict[str, str]] = []
    good_hours = sorted((h for h in hours if h["attempts"] >= 10), key=lambda h: -h["answer_rate"])[:3]
    if good_hours:
        worked.append({"en": "Best hours by answer rate: " + ", ".join(
            f"{h['hour']:02d}:00 ({h['answer_rate']:.0%})" for h in good_hours),
            "zh": "接听率最高的时段：" + "、".join(f"{h['hour']:02d}点（{h['answer_rate']:.0%}）" for h in good_hours)})
    top = sorted((a for a in agents if a["connected"] > 0), key=lambda a: (-a["conversions"], a["aht_seconds"]))[:3]
    if top:
        worked.append({"en": "Top agents by conversions: " + ", ".join(
            f"{a['agent_code']} ({a['conversions']})" for a in top),
            "zh": "成交最多的座席：" + "、".join(f"{a['agent_code']}（{a['conversions']}）" for a in top)})
    best_script = max(scripts, key=lambda s: s["conversion_rate"], default=None)
    if best_script is not None and best_script["connected"] > 0:
        worked.append({"en": f"Best script: {best_script['script']} ({best_script['conversion_rate']:.1%})",
                       "zh": f"转化最好的话术：{best_script['script']}（{best_script['conversion_rate']:.1%}）"})
    failed = {o["outcome"]: o["attempts"] for o in outcomes if o["outcome"] not in ("connected",)}
    unsuitable = {d["disposition"]: d["attempts"] for d in dispositions
                  if d["disposition"] in UNSUITABLE_DISPOSITIONS}
    unsuitable.update({o: failed[o] for o in UNSUITABLE_OUTCOMES if o in failed})
    return {"what_worked": worked,
            "failure_reasons": [{"reason": k, "attempts": v, "share": round(ratio(v, totals["attempts"]), 6)}
                                for k, v in sorted(failed.items(), key=lambda kv: -kv[1])],
            "list_quality": quality, "unsuitable": unsuitable}


def _tags(uow: UnitOfWork, scope: Scope) -> dict[str, Any]:
    with UnitOfWork(uow.engine, uow.codec, uow.tenant_id) as own:
        return compute(own, scope, with_totals=False)


def build(uow: UnitOfWork, *, day: str | None = None, campaign: Campaign | None = None,
          use_rollup: bool = True) -> dict[str, Any]:
    tz = cfgs.tenant_timezone(uow)
    since = until = None
    if day is not None:
        since, until = local_day(tz, day)
    camps = [campaign] if campaign else None
    base = Scope(camps, since, until)
    extra = ["date"] if campaign is not None else ["campaign"]
    from_rollup = None
    if use_rollup and day is not None and campaign is None and since is not None and until is not None:
        from_rollup = rollup.daily_sets(uow, day, since, until)  # None: the rollup cannot answer exactly
    if from_rollup is not None:
        sets, currency = from_rollup
        tag_rows = sets[("tags",)]
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:  # the tag scan runs beside the main one
            tags_job = pool.submit(_tags, uow, Scope(camps, since, until, ["tags"]))
            sets = compute_sets(uow, base, [[], ["agent"], ["hour"], ["outcome"], ["disposition"], ["script"], extra])
            k = tags_job.result()
        tag_rows, currency = k["rows"], k["currency"]
    totals = sets[()][0]
    agents, hours, outcomes = sets[("agent",)], sets[("hour",)], sets[("outcome",)]
    disps, scripts = sets[("disposition",)], sets[("script",)]
    quality = list_quality(uow, camps, since, until)
    doc: dict[str, Any] = {
        "kind": "daily" if day else "campaign", "date": day, "campaign": campaign.name if campaign else None,
        "timezone": tz, "currency": currency, "totals": totals,
        "agents": sorted(agents, key=lambda a: (-a["conversions"], -a["conversion_rate"], str(a["agent"]))),
        "hours": hours, "outcomes": outcomes, "dispositions": disps, "scripts": scripts, "tags": tag_rows,
        "campaigns": sets[("campaign",)] if campaign is None else [],
        "alerts": alerts.recent(uow, campaign.id if campaign else None, 200, since, until),
    }
    doc["review"] = review(totals, agents, hours, outcomes, disps, scripts, quality)
    if campaign is not None:
        doc["dates"] = sets[("date",)]
        doc["funnel"] = funnel.funnel(uow, campaign)["stages"]
        doc["roi"] = roi.roi(uow, campaign, totals=totals)
        hm = slots.heatmap(uow, campaign)
        doc["heatmap"] = hm["cells"]
        doc["slot_plan"] = slots.plan(uow, campaign, hm=hm)["plan"]
    else:
        doc["heatmap"] = []
    return doc
