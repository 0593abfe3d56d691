"""Script A/B tests: stratified random assignment of a campaign's contacts to script variants,
and the result per variant with a chi-square test and the probability that each is best.

Stop rule (docs/analytics.md): look only once every variant has ``min_per_variant`` reached
contacts; then stop with a winner when p < alpha and the leader's probability of being best is at
least 0.95; stop without a winner once every variant reached ``max_per_variant``; else continue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, func, select

from waihu.adapters.storage import report_rollup
from waihu.adapters.storage.models import Campaign as CampaignRow
from waihu.adapters.storage.models import CampaignContact, Cdr, Contact, ContactPhone, DispositionRecord
from waihu.adapters.storage.models_analytics import ScriptAssignment
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.calls import Outcome
from waihu.domain.errors import Conflict, NotFound, ValidationError
from waihu.domain.stats import chi_square_test, probability_best, stratified_assignment
from waihu.domain.timeutil import to_dt
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.dimensions import AGE_BANDS

STRATA = ("region", "age_band", "source")


def _age_band(v: Any) -> str:
    try:
        age = int(v)
    except (TypeError, ValueError):
        return "(none)"
    return next((label for hi, label in AGE_BANDS if age < hi), "65+")


REKEY_LIMIT = 20_000  # dialled contacts re-assigned beyond which the report rollup is rebuilt instead


def assign(uow: UnitOfWork, campaign: CampaignRow, experiment: str, variants: list[str],
           strata: list[str], seed: int, now: float) -> dict[str, Any]:
    if len(variants) < 2 or len(set(variants)) != len(variants):
        raise ValidationError("abtest.invalid_variants", "give at least two distinct variants")
    bad = [s for s in strata if s not in STRATA]
    if bad:
        raise ValidationError("abtest.invalid_stratum", f"strata must be among {', '.join(STRATA)}")
    s = uow.session
    if s.scalar(select(func.count()).select_from(ScriptAssignment).where(
            ScriptAssignment.tenant_id == uow.tenant_id, ScriptAssignment.campaign_id == campaign.id,
            ScriptAssignment.experiment == experiment)):
        raise Conflict("abtest.exists", f"experiment {experiment!r} already has assignments")
    cc, ct, ph = CampaignContact, Contact, ContactPhone
    rows = s.execute(select(cc.contact_id, ct.fields, ct.source, ph.region)
                     .join(ct, ct.id == cc.contact_id)
                     .outerjoin(ph, (ph.contact_id == cc.contact_id) & (ph.rank == 0))
                     .where(cc.tenant_id == uow.tenant_id, cc.campaign_id == campaign.id)).all()
    units: list[tuple[str, tuple[str, ...]]] = []
    for contact_id, fields, source, region in rows:
        values = {"region": region or "(none)", "age_band": _age_band((fields or {}).get("age")),
                  "source": source or "(none)"}
        units.append((contact_id, tuple(values[x] for x in strata)))
    strata_of = dict(units)
    chosen = stratified_assignment(units, variants, seed)
    at = to_dt(now)
    dialled = sorted(set(s.scalars(select(Cdr.contact_id).distinct().where(
        Cdr.tenant_id == uow.tenant_id, Cdr.campaign_id == campaign.id))) & set(chosen))
    # the report rollup keeps each call's script: the calls of re-assigned contacts move
    # (many dialled contacts: cheaper to mark it for a rebuild than to move their calls one by one)
    rollup = None
    if len(dialled) > REKEY_LIMIT:
        report_rollup.invalidate(s.connection(), uow.tenant_id)
    elif dialled:
        rollup = report_rollup.Tracker.begin(s.connection(), uow.tenant_id, contacts=dialled)
    for contact_id, variant in chosen.items():
        s.add(ScriptAssignment(id=uow.new_id(), tenant_id=uow.tenant_id, campaign_id=campaign.id,
                               experiment=experiment, contact_id=contact_id, variant=variant,
                               stratum="|".join(strata_of[contact_id]), assigned_at=at))
    s.flush()
    if rollup is not None:
        rollup.finish()
    counts: dict[str, int] = {}
    for v in chosen.values():
        counts[v] = counts.get(v, 0) + 1
    return {"experiment": experiment, "assigned": len(chosen), "per_variant": dict(sorted(counts.items()))}


def results(uow: UnitOfWork, campaign: CampaignRow, experiment: str, alpha: float = 0.05,
            min_per_variant: int = 200, max_per_variant: int = 5000) -> dict[str, Any]:
    s, sa = uow.session, ScriptAssignment
    base = (sa.tenant_id == uow.tenant_id, sa.campaign_id == campaign.id, sa.experiment == experiment)
    assigned = dict(s.execute(select(sa.variant, func.count()).where(*base).group_by(sa.variant)).all())
    if not assigned:
        raise NotFound("abtest.not_found", f"no experiment {experiment!r} in this campaign")
    reached = dict(s.execute(
        select(sa.variant, func.count(distinct(Cdr.contact_id)))
        .join(Cdr, (Cdr.contact_id == sa.contact_id) & (Cdr.campaign_id == sa.campaign_id))
        .where(*base, Cdr.tenant_id == uow.tenant_id, Cdr.outcome == Outcome.CONNECTED.value)
        .group_by(sa.variant)).all())
    success = sorted(cfgs.success_codes([campaign])) or [""]
    d = DispositionRecord
    converted = dict(s.execute(
        select(sa.variant, func.count(distinct(d.contact_id)))
        .join(d, (d.contact_id == sa.contact_id) & (d.campaign_id == sa.campaign_id))
        .where(*base, d.tenant_id == uow.tenant_id, d.code.in_(success)).group_by(sa.variant)).all())
    names = sorted(assigned)
    x = [int(converted.get(v, 0)) for v in names]
    n = [int(reached.get(v, 0)) for v in names]
    test = chi_square_test(x, n)
    best = probability_best(x, n, seed=7)
    variants = [{"variant": v, "assigned": int(assigned[v]), "reached": n[i], "conversions": x[i],
                 "conversion_rate": round(x[i] / n[i], 6) if n[i] else 0.0,
                 "probability_best": round(best[i], 4)} for i, v in enumerate(names)]
    if min(n) < min_per_variant:
        decision = "continue"
    elif test.p_value < alpha and max(best) >= 0.95:
        decision = "stop_winner"
    elif min(n) >= max_per_variant:
        decision = "stop_no_difference"
    else:
        decision = "continue"
    lead = names[max(range(len(names)), key=best.__getitem__)]
    return {"campaign": campaign.name, "experiment": experiment, "variants": variants,
            "chi_square": round(test.statistic, 6), "dof": test.dof, "p_value": round(test.p_value, 6),
            "alpha": alpha, "min_per_variant": min_per_variant, "max_per_variant": max_per_variant,
            "decision": decision, "leader": lead if decision == "stop_winner" else None}
