"""Campaigns: CRUD, start/pause/stop/archive, dialing settings, status and progress, contacts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, need, page_params
from waihu.api.schemas import Finite, Page, Strict, page
from waihu.domain.campaigns import Disposition
from waihu.service import campaign_admin as ca
from waihu.service.campaigns import create_campaign
from waihu.service.summary import campaign_summary

router = APIRouter(prefix="/v1", tags=["campaigns"])


class DispositionIn(Strict):
    code: str = Field(min_length=1, max_length=50)
    label_zh: str = Field(min_length=1, max_length=50)
    label_en: str = Field(min_length=1, max_length=50)
    final: bool = True
    success: bool = False
    callback: bool = False
    stage: str | None = Field(None, max_length=50)


class CampaignIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    job_type: str = Field("other", max_length=20)
    mode: str = Field("progressive", max_length=20)
    script_ref: str | None = Field(None, max_length=100)
    agent_group: str | None = Field(None, max_length=100)
    priority: int = Field(0, ge=-1000, le=1000)
    retry: dict[str, dict[str, float]] | None = None
    dispositions: list[DispositionIn] | None = Field(None, max_length=100)
    options: dict[str, Any] | None = None


class CampaignPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    script_ref: str | None = Field(None, max_length=100)
    agent_group: str | None = Field(None, max_length=100)
    priority: int | None = Field(None, ge=-1000, le=1000)


class CampaignOut(BaseModel):
    id: str
    name: str
    job_type: str
    mode: str
    state: str
    script_ref: str | None
    agent_group: str | None
    priority: int
    retry_policy: dict[str, Any]
    dispositions: list[dict[str, Any]]
    options: dict[str, Any]
    created_at: str | None
    started_at: str | None
    completed_at: str | None


class Progress(BaseModel):
    campaign: CampaignOut
    summary: dict[str, Any]
    live: dict[str, Any] | None


class ContactIds(Strict):
    contact_ids: list[str] = Field(min_length=1, max_length=10000)


class Added(BaseModel):
    added: int


class RetryRuleIn(Strict):
    delay_seconds: Finite | None = Field(None, le=90 * 86400, description="Wait before the next attempt, seconds "
                                                                         "(>= 0).")
    max_attempts: int | None = Field(None, le=1000, description="Attempts at most for this outcome (>= 1).")


class RetryRuleOut(BaseModel):
    delay_seconds: float
    max_attempts: int


class DialingSettingsPatch(Strict):
    """Only the fields sent change; ``wrap_limit`` and ``max_lines`` take null for "no limit"."""

    mode: str | None = Field(None, max_length=20, description="manual, preview, progressive, power, predictive, robot")
    pacing: str | None = Field(None, max_length=30, description="The predictive pacer (see docs/pacing.md).")
    abandon_target: Finite | None = Field(None, description="Target abandon rate, 0..0.2 (0.03 = 3%).")
    ring_timeout: Finite | None = Field(None, description="Seconds to ring, 5..120.")
    wrap_limit: Finite | None = Field(None, le=86400, description="Wrap-up limit in seconds (> 0); null: none.")
    power_ratio: Finite | None = Field(None, description="Lines per free agent in power mode, 1..10.")
    max_lines: int | None = Field(None, le=100000, description="Calls in flight at most (>= 1); null: no limit.")
    retry: dict[str, RetryRuleIn] | None = Field(None, max_length=10, description=(
        "Per outcome (busy, no_answer, rejected, abandoned, line_failure, unreachable); others keep theirs."))
    windows: list[Annotated[str, Field(max_length=20)]] | None = Field(None, max_length=10, description=(
        "The campaign's calling window, e.g. [\"09:00-12:00\", \"13:30-20:00\"]; []: the tenant's applies."))
    weekdays: list[int] | None = Field(None, max_length=7, description="ISO weekdays 1..7; []: every day.")


class DialingSettings(BaseModel):
    campaign_id: str
    state: str
    locked: bool = Field(description="Running or archived: pause the campaign to change how it dials.")
    mode: str
    pacing: str
    abandon_target: float
    abandon_after: float = Field(description="Seconds an answered call waits for an agent (2 s; not changed here).")
    ring_timeout: float
    wrap_limit: float | None
    power_ratio: float
    max_lines: int | None
    retry: dict[str, RetryRuleOut]
    windows: list[str]
    weekdays: list[int]


@router.get("/campaigns", response_model=Page[CampaignOut])
def campaigns(state: str | None = Query(None, max_length=20), pp: PageParams = Depends(page_params),
              ctx: Ctx = need("campaigns.read")) -> dict[str, Any]:
    """Campaigns (``sort``: created_at, name, priority; filter by ``state``)."""
    with ctx.uow() as uow:
        rows, cur = ca.list_page(uow, state=state, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([ca.campaign_dict(c) for c in rows], cur)


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
def campaign_create(body: CampaignIn, ctx: Ctx = need("campaigns.manage")) -> dict[str, Any]:
    ca.check_name(body.name)
    disps = [Disposition(**d.model_dump()) for d in body.dispositions] if body.dispositions else None
    with ctx.uow() as uow:
        c = create_campaign(uow, body.name, ctx.now(), job_type=body.job_type, mode=body.mode,
                            script_ref=body.script_ref, agent_group=body.agent_group, priority=body.priority,
                            retry=body.retry, dispositions=disps, options=body.options)
        uow.commit()
        return ca.campaign_dict(c)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def campaign_get(campaign_id: str, ctx: Ctx = need("campaigns.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return ca.campaign_dict(ca.by_id(uow, campaign_id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
def campaign_patch(campaign_id: str, body: CampaignPatch, ctx: Ctx = need("campaigns.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        c = ca.update(uow, ca.by_id(uow, campaign_id), body.model_dump(exclude_unset=True), ctx.now())
        uow.commit()
        return ca.campaign_dict(c)


@router.delete("/campaigns/{campaign_id}", status_code=204)
def campaign_delete(campaign_id: str, ctx: Ctx = need("campaigns.manage")) -> None:
    with ctx.uow() as uow:
        ca.remove(uow, ca.by_id(uow, campaign_id), ctx.now())
        uow.commit()


@router.get("/campaigns/{campaign_id}/settings", response_model=DialingSettings)
def campaign_settings(campaign_id: str, ctx: Ctx = need("campaigns.read")) -> dict[str, Any]:
    """How the campaign dials: mode, pacing, abandon target, ring timeout, wrap-up limit, retry
    policy and calling window, defaults filled in."""
    with ctx.uow() as uow:
        return ca.dialing_settings(ca.by_id(uow, campaign_id))


@router.patch("/campaigns/{campaign_id}/settings", response_model=DialingSettings)
def campaign_settings_patch(campaign_id: str, body: DialingSettingsPatch,
                            ctx: Ctx = need("campaigns.manage")) -> dict[str, Any]:
    """Change how a draft, paused or completed campaign dials (409 ``campaign.settings_locked``
    while running or archived). Every problem is listed at once and nothing changes (422)."""
    sent = body.model_dump(exclude_unset=True)
    options = {k: sent[k] for k in ca.DIALING_OPTIONS if k in sent}
    retry = ({k: v.model_dump(exclude_none=True) for k, v in body.retry.items()}
             if body.retry is not None else None)
    with ctx.uow() as uow:
        c = ca.update_dialing(uow, ca.by_id(uow, campaign_id), ctx.now(), mode=sent.get("mode"), options=options,
                              retry=retry, windows=sent.get("windows"), weekdays=sent.get("weekdays"))
        uow.commit()
        return ca.dialing_settings(c)


def _control(action: str, campaign_id: str, ctx: Ctx) -> dict[str, Any]:
    with ctx.uow() as uow:
        c = ca.control(uow, ctx.live, ca.by_id(uow, campaign_id), action, ctx.now())
        return ca.campaign_dict(c)


@router.post("/campaigns/{campaign_id}/start", response_model=CampaignOut)
def campaign_start(campaign_id: str, ctx: Ctx = need("campaigns.control")) -> dict[str, Any]:
    return _control("start", campaign_id, ctx)


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut)
def campaign_pause(campaign_id: str, ctx: Ctx = need("campaigns.control")) -> dict[str, Any]:
    return _control("pause", campaign_id, ctx)


@router.post("/campaigns/{campaign_id}/stop", response_model=CampaignOut)
def campaign_stop(campaign_id: str, ctx: Ctx = need("campaigns.control")) -> dict[str, Any]:
    return _control("stop", campaign_id, ctx)


@router.post("/campaigns/{campaign_id}/archive", response_model=CampaignOut)
def campaign_archive(campaign_id: str, ctx: Ctx = need("campaigns.manage")) -> dict[str, Any]:
    """Archive a draft, paused or completed campaign: it keeps its records and can no longer run."""
    return _control("archive", campaign_id, ctx)


@router.get("/campaigns/{campaign_id}/progress", response_model=Progress)
def campaign_progress(campaign_id: str, ctx: Ctx = need("campaigns.read")) -> dict[str, Any]:
    """The campaign's summary from the database plus the live runtime's counters."""
    with ctx.uow() as uow:
        c = ca.by_id(uow, campaign_id)
        live = ctx.live.counters(ctx.tenant_id).get(c.id) if ctx.live else None
        return {"campaign": ca.campaign_dict(c), "summary": campaign_summary(uow, c), "live": live}


@router.post("/campaigns/{campaign_id}/contacts", response_model=Added)
def campaign_add_contacts(campaign_id: str, body: ContactIds, ctx: Ctx = need("campaigns.manage")) -> dict[str, int]:
    with ctx.uow() as uow:
        n = ca.add_contacts(uow, ca.by_id(uow, campaign_id), body.contact_ids, ctx.now())
        uow.commit()
        return {"added": n}
