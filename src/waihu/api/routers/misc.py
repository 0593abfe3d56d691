"""Do-not-call entries, dispositions, webhooks and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, need, page_params
from waihu.api.schemas import Page, Strict, page
from waihu.service import directory as dr
from waihu.service import webhook_admin as wa
from waihu.service.webhooks import get_subscription, replay, subscribe

router = APIRouter(prefix="/v1")


class DncIn(Strict):
    phone: str = Field(min_length=1, max_length=40)
    reason: str | None = Field(None, max_length=200)
    source: str = Field("customer_request", description="complaint, ivr_opt_out, customer_request, regulator "
                                                         "or carrier")
    expires_at: datetime | None = Field(None, description="A temporary block (1 to 120 hours); omit: permanent.")
    campaign_id: str | None = Field(None, max_length=32, description="A campaign's own list; omit: tenant-wide.")


class DncOut(BaseModel):
    id: str = Field(description="The number's blind index (the list never stores the number).")
    phone: str
    reason: str | None
    source: str
    scope: str
    campaign_id: str | None
    expires_at: str | None
    created_at: str | None


class DispositionOut(BaseModel):
    id: str
    call_id: str
    campaign_id: str
    contact_id: str
    agent_id: str
    code: str
    note: str | None
    callback_at: str | None
    set_at: str | None


class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(min_length=1, max_length=10)


class WebhookPatch(Strict):
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[str] | None = Field(None, min_length=1, max_length=10)
    active: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: str | None


class WebhookCreated(WebhookOut):
    secret: str


class DeliveryOut(BaseModel):
    id: str
    subscription_id: str
    event_id: str
    event: str
    status: str
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str | None
    delivered_at: str | None
    payload: dict[str, Any]


class AuditOut(BaseModel):
    id: str
    actor: str
    action: str
    object_type: str
    object_id: str | None
    at: str | None
    detail: dict[str, Any]


# ---------------------------------------------------------------- DNC
@router.get("/dnc", response_model=Page[DncOut], tags=["dnc"])
def dnc(phone: str | None = Query(None, max_length=40, description="Check one number."),
        campaign_id: str | None = Query(None, max_length=32, description="A campaign's list instead of the tenant's."),
        pp: PageParams = Depends(page_params), ctx: Ctx = need("dnc.read")) -> dict[str, Any]:
    """The tenant's do-not-call entries (numbers masked; stored only as a keyed hash). The dialer
    screens every dial against these, the campaign's and the deployment's global list."""
    with ctx.uow() as uow:
        rows, cur = dr.list_dnc(uow, phone=phone, sort=pp.sort, cursor=pp.cursor, limit=pp.limit,
                                campaign_id=campaign_id)
        return page([dr.dnc_dict(d) for d in rows], cur)


@router.post("/dnc", response_model=DncOut, status_code=201, tags=["dnc"])
def dnc_add(body: DncIn, ctx: Ctx = need("dnc.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        d = dr.add_dnc(uow, body.phone, body.reason, ctx.now(), source=body.source,
                       expires_at=body.expires_at.timestamp() if body.expires_at is not None else None,
                       campaign_id=body.campaign_id)
        uow.commit()
        if ctx.live is not None:
            ctx.live.dnc_changed(ctx.tenant_id, [d.phone_hash])
        return dr.dnc_dict(d)


@router.delete("/dnc/{entry_id}", status_code=204, tags=["dnc"])
def dnc_remove(entry_id: str, campaign_id: str | None = Query(None, max_length=32),
               ctx: Ctx = need("dnc.manage")) -> None:
    with ctx.uow() as uow:
        dr.remove_dnc(uow, entry_id, ctx.now(), campaign_id=campaign_id)
        uow.commit()
    if ctx.live is not None:
        ctx.live.dnc_changed(ctx.tenant_id, [entry_id])


# ---------------------------------------------------------------- dispositions
@router.get("/dispositions", response_model=Page[DispositionOut], tags=["dispositions"])
def dispositions(call_id: str | None = Query(None, max_length=32), campaign_id: str | None = Query(None, max_length=32),
                 agent_id: str | None = Query(None, max_length=64), code: str | None = Query(None, max_length=50),
                 pp: PageParams = Depends(page_params), ctx: Ctx = need("dispositions.read")) -> dict[str, Any]:
    """Dispositions set after calls (``sort``: set_at; default newest first)."""
    if ctx.self_scoped:
        agent_id = ctx.own_agent
    with ctx.uow() as uow:
        rows, cur = dr.list_dispositions(uow, call_id=call_id, campaign_id=campaign_id, agent_id=agent_id, code=code,
                                         sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([dr.disposition_dict(d) for d in rows], cur)


# ---------------------------------------------------------------- webhooks
@router.get("/webhooks", response_model=Page[WebhookOut], tags=["webhooks"])
def webhooks(pp: PageParams = Depends(page_params), ctx: Ctx = need("webhooks.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = wa.list_subs(uow, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([wa.sub_dict(s) for s in rows], cur)


@router.post("/webhooks", response_model=WebhookCreated, status_code=201, tags=["webhooks"])
def webhook_create(body: WebhookIn, ctx: Ctx = need("webhooks.manage")) -> dict[str, Any]:
    """Subscribe a URL to events; the signing secret is shown in this answer only."""
    with ctx.uow() as uow:
        s = subscribe(uow, body.url, body.events, ctx.now())
        uow.commit()
        return wa.sub_dict(s, secret=True)


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, tags=["webhooks"])
def webhook_get(webhook_id: str, ctx: Ctx = need("webhooks.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return wa.sub_dict(get_subscription(uow, webhook_id))


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut, tags=["webhooks"])
def webhook_patch(webhook_id: str, body: WebhookPatch, ctx: Ctx = need("webhooks.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        s = wa.update_sub(uow, get_subscription(uow, webhook_id), body.model_dump(exclude_unset=True), ctx.now())
        uow.commit()
        return wa.sub_dict(s)


@router.delete("/webhooks/{webhook_id}", status_code=204, tags=["webhooks"])
def webhook_delete(webhook_id: str, ctx: Ctx = need("webhooks.manage")) -> None:
    with ctx.uow() as uow:
        wa.delete_sub(uow, get_subscription(uow, webhook_id), ctx.now())
        uow.commit()


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut], tags=["webhooks"])
def webhook_deliveries(webhook_id: str, status: str | None = Query(None, max_length=20),
                       pp: PageParams = Depends(page_params), ctx: Ctx = need("webhooks.manage")) -> dict[str, Any]:
    """The delivery log of one subscription, newest first."""
    with ctx.uow() as uow:
        get_subscription(uow, webhook_id)
        rows, cur = wa.list_deliveries(uow, webhook_id, status=status, sort=pp.sort, cursor=pp.cursor,
                                       limit=pp.limit)
        return page([wa.delivery_dict(d) for d in rows], cur)


@router.post("/webhook-deliveries/{delivery_id}/replay", response_model=DeliveryOut, status_code=202,
             tags=["webhooks"])
def webhook_replay(delivery_id: str, ctx: Ctx = need("webhooks.manage")) -> dict[str, Any]:
    """Send a delivery again (a new delivery with the same event id)."""
    with ctx.uow() as uow:
        d = replay(uow, delivery_id, ctx.now())
        uow.commit()
        return wa.delivery_dict(d)


# ---------------------------------------------------------------- audit
@router.get("/audit", response_model=Page[AuditOut], tags=["audit"])
def audit_log(action: str | None = Query(None, max_length=50), since: datetime | None = None,
              pp: PageParams = Depends(page_params), ctx: Ctx = need("audit.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = dr.list_audit(uow, action=action, since=since, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([dr.audit_dict(a) for a in rows], cur)
