"""Campaign use cases: create, change state, build the engine's view of a campaign."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Campaign
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.campaigns import (
    CAMPAIGN_LIFECYCLE,
    DEFAULT_DISPOSITIONS,
    CampaignState,
    DialMode,
    Disposition,
    JobType,
    RetryPolicy,
)
from waihu.domain.compliance_rules import validate_layer
from waihu.domain.errors import ErrorDetail, NotFound, ValidationError
from waihu.domain.pacers import PACER_NAMES, make_pacer
from waihu.domain.timeutil import to_dt
from waihu.engine.config import CampaignSpec
from waihu.service.tenants import audit

OPTION_DEFAULTS: dict[str, Any] = {
    "ring_timeout": 40.0,
    "abandon_target": 0.03,
    "abandon_after": 2.0,
    "max_lines": None,
    "wrap_limit": None,
    "power_ratio": 2.0,
    "pacing": "predictive",
    "compliance": {},  # calling windows, caps, regions, consent (see domain/compliance_rules.py)
}


def _check_options(opts: dict[str, Any]) -> list[ErrorDetail]:
    problems = []
    unknown = set(opts) - set(OPTION_DEFAULTS)
    for k in sorted(unknown):
        problems.append(ErrorDetail("campaign.unknown_option", f"unknown option {k!r}", field=k))
    rt = opts.get("ring_timeout", 40.0)
    if not isinstance(rt, int | float) or not 5 <= rt <= 120:
        problems.append(ErrorDetail("campaign.invalid_ring_timeout", "ring timeout must be 5..120 s",
                                    field="ring_timeout"))
    at = opts.get("abandon_target", 0.03)
    if not isinstance(at, int | float) or not 0 <= at <= 0.2:
        problems.append(ErrorDetail("campaign.invalid_abandon_target", "abandon target must be 0..0.2",
                                    field="abandon_target"))
    ml = opts.get("max_lines")
    if ml is not None and (not isinstance(ml, int) or ml < 1):
        problems.append(ErrorDetail("campaign.invalid_max_lines", "max lines must be a positive integer",
                                    field="max_lines"))
    wl = opts.get("wrap_limit")
    if wl is not None and (not isinstance(wl, int | float) or wl <= 0):
        problems.append(ErrorDetail("campaign.invalid_wrap_limit", "wrap-up limit must be > 0 s",
                                    field="wrap_limit"))
    if opts.get("pacing", "predictive") not in PACER_NAMES:
        problems.append(ErrorDetail("campaign.invalid_pacing", f"pacing must be one of {', '.join(PACER_NAMES)}",
                                    field="pacing"))
    pr = opts.get("power_ratio", 2.0)
    if not isinstance(pr, int | float) or not 1 <= pr <= 10:
        problems.append(ErrorDetail("campaign.invalid_power_ratio", "power ratio must be 1..10",
                                    field="power_ratio"))
    problems += validate_layer(opts.get("compliance", {}), "compliance")
    return problems


check_options = _check_options  # the options' checks, for changes made after creation


def create_campaign(uow: UnitOfWork, name: str, now: float, *, job_type: str = "other",
                    mode: str = "progressive", script_ref: str | None = None, agent_group: str | None = None,
                    priority: int = 0, retry: dict[str, dict[str, float]] | None = None,
                    dispositions: list[Disposition] | None = None, options: dict[str, Any] | None = None,
                    currency: str = "CNY", budget: str | None = None) -> Campaign:
    problems: list[ErrorDetail] = []
    name = name.strip()
    if not name or len(name) > 100:
        problems.append(ErrorDetail("campaign.invalid_name", "a campaign name has 1 to 100 characters",
                                    field="name"))
    if job_type not in JobType.__members__.values():
        problems.append(ErrorDetail("campaign.invalid_job_type",
                                    f"job type must be one of {', '.join(JobType)}", field="job_type"))
    if mode not in DialMode.__members__.values():
        problems.append(ErrorDetail("campaign.invalid_dial_mode",
                                    f"dial mode must be one of {', '.join(DialMode)}", field="mode"))
    opts = {**(options or {})}
    problems += _check_options(opts)
    try:
        policy = RetryPolicy.from_dict(retry or {})
    except ValidationError as e:
        problems += e.details
        policy = RetryPolicy()
    amount: Decimal | None = None
    if budget is not None:
        try:
            amount = Decimal(budget)
        except InvalidOperation:
            problems.append(ErrorDetail("campaign.invalid_budget", "budget must be a decimal amount",
                                        field="budget"))
    if len(currency) != 3 or not currency.isalpha():
        problems.append(ErrorDetail("campaign.invalid_currency", "currency is a 3-letter ISO code",
                                    field="currency"))
    if name and find_campaign(uow, name) is not None:
        problems.append(ErrorDetail("campaign.name_taken", "a campaign with this name exists", field="name"))
    if problems:
        raise ValidationError("campaign.invalid", "the campaign was not created", problems)
    disps = list(dispositions or DEFAULT_DISPOSITIONS)
    c = Campaign(id=uow.new_id(), tenant_id=uow.tenant_id, name=name, job_type=job_type, dial_mode=mode,
                 state=CampaignState.DRAFT.value, script_ref=script_ref, agent_group=agent_group,
                 priority=priority, retry_policy=policy.to_dict(), dispositions=[asdict(d) for d in disps],
                 options={**OPTION_DEFAULTS, **opts}, currency=currency.upper(), budget=amount,
                 created_at=to_dt(now))
    uow.session.add(c)
    uow.session.flush()
    audit(uow, "campaign.create", "campaign", c.id, now, name=name, mode=mode, job_type=job_type)
    return c


def find_campaign(uow: UnitOfWork, name_or_id: str) -> Campaign | None:
    q = select(Campaign).where(Campaign.tenant_id == uow.tenant_id,
                               (Campaign.name == name_or_id) | (Campaign.id == name_or_id))
    return uow.session.scalars(q).first()


def get_campaign(uow: UnitOfWork, name_or_id: str) -> Campaign:
    c = find_campaign(uow, name_or_id)
    if c is None:
        raise NotFound("campaign.not_found", "no such campaign")
    return c


def list_campaigns(uow: UnitOfWork) -> list[Campaign]:
    q = select(Campaign).where(Campaign.tenant_id == uow.tenant_id).order_by(Campaign.created_at)
    return list(uow.session.scalars(q))


def transition(uow: UnitOfWork, c: Campaign, event: str, now: float) -> Campaign:
    new = CAMPAIGN_LIFECYCLE.next(CampaignState(c.state), event)
    old = c.state
    c.state = new.value
    if new is CampaignState.RUNNING and c.started_at is None:
        c.started_at = to_dt(now)
    if new is CampaignState.COMPLETED:
        c.completed_at = to_dt(now)
    audit(uow, f"campaign.{event}", "campaign", c.id, now, old=old, new=new.value)
    return c


def dispositions_of(c: Campaign) -> list[Disposition]:
    return [Disposition(**d) for d in c.dispositions]


def spec_for(c: Campaign) -> CampaignSpec:
    o = {**OPTION_DEFAULTS, **c.options}
    mode = DialMode(c.dial_mode)
    pacer = None
    if mode is DialMode.POWER:
        pacer = make_pacer("power", ratio=float(o["power_ratio"]))
    elif mode is DialMode.PREDICTIVE:
        pacer = make_pacer(str(o["pacing"]))
    return CampaignSpec(
        campaign_id=c.id, tenant_id=c.tenant_id, mode=mode, agent_group=c.agent_group, priority=c.priority,
        retry=RetryPolicy.from_dict(c.retry_policy), dispositions={d.code: d for d in dispositions_of(c)},
        ring_timeout=float(o["ring_timeout"]), abandon_after=float(o["abandon_after"]),
        abandon_target=float(o["abandon_target"]), max_lines=o["max_lines"], wrap_limit=o["wrap_limit"],
        job_type=c.job_type, pacer=pacer)
