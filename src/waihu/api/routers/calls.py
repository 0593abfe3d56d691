"""``POST /v1/outbound``, calls and CDRs (filter, page, CSV export)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, need, page_params
from waihu.api.schemas import Page, Strict, page
from waihu.domain.errors import Forbidden, NotFound
from waihu.service import calls_query as cq
from waihu.service.cdrs import COLUMNS, export_cdrs
from waihu.service.lines_runtime import call_trace
from waihu.service.outbound import OutboundRequest, request_call

router = APIRouter(prefix="/v1")


class OutboundIn(Strict):
    phone: str = Field(min_length=1, max_length=40, examples=["+8613800138000"])
    script_id: str | None = Field(None, max_length=100)
    campaign_id: str | None = Field(None, max_length=32)
    agent_id: str | None = Field(None, max_length=32)
    auto_dial: bool = True
    override_reason: str | None = Field(None, min_length=3, max_length=200, description=(
        "Dial even if a calling window or a frequency cap holds the call back (never past a DNC entry, "
        "missing consent or an excluded region); needs `calls.override`; recorded in the audit log."))


class OutboundOut(BaseModel):
    call_id: str
    status: str


class CdrOut(BaseModel):
    call_id: str
    campaign_id: str
    contact_id: str
    phone: str | None
    attempt: int
    mode: str
    dial_at: str | None
    ring_at: str | None
    answer_at: str | None
    bridge_at: str | None
    end_at: str | None
    outcome: str
    loss_cause: str | None
    sip_code: int | None
    agent_id: str | None
    trunk_id: str | None
    caller_id: str | None = None  # the number shown to the callee (one of the tenant's caller IDs)
    route_reason: str | None = None  # why the router chose the trunk and the caller ID
    chain_id: str | None = None  # a retry on another trunk: the first attempt's call id
    hangup_by: str | None
    talk_seconds: float
    disposition: str | None


class CallOut(BaseModel):
    call_id: str
    campaign_id: str
    contact_id: str
    agent_id: str | None
    script_id: str | None
    auto_dial: bool
    status: str
    error_code: str | None
    outcome: str | None
    created_at: str | None
    updated_at: str | None
    cdr: CdrOut | None = None


@router.post("/outbound", response_model=OutboundOut, status_code=202, tags=["calls"],
             responses={201: {"model": OutboundOut, "description": "Scheduled into the campaign (auto_dial false)"}})
def outbound(body: OutboundIn, response: Response,
             idempotency_key: str | None = Header(None, alias="Idempotency-Key", min_length=1, max_length=200),
             ctx: Ctx = need("calls.create")) -> dict[str, Any]:
    """Place one call now (202), or schedule it into a campaign (201, ``auto_dial: false``).

    Without ``agent_id`` a robot seat takes the call; without ``campaign_id`` it goes into the
    tenant's ad-hoc campaign. The same ``Idempotency-Key`` returns the same call."""
    agent_id = body.agent_id
    if ctx.self_scoped:
        if ctx.principal.agent_id is None or agent_id not in (None, ctx.principal.agent_id):
            raise Forbidden("auth.forbidden", "an agent places calls only for themselves")
        agent_id = ctx.principal.agent_id
    if body.override_reason is not None and not ctx.can("calls.override"):
        raise Forbidden("auth.forbidden", "overriding a compliance hold needs calls.override")
    req = OutboundRequest(body.phone, body.campaign_id, agent_id, body.script_id, body.auto_dial,
                          body.override_reason)
    with ctx.uow() as uow:
        cr, created = request_call(ctx.platform, ctx.live, uow, req, ctx.now(), idempotency_key=idempotency_key)
    response.status_code = 202 if cr.auto_dial else 201
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return {"call_id": cr.id, "status": cr.status}


@router.get("/calls", response_model=Page[CallOut], tags=["calls"])
def calls(since: datetime | None = None, until: datetime | None = None,
          campaign_id: str | None = Query(None, max_length=32), status: str | None = Query(None, max_length=20),
          pp: PageParams = Depends(page_params), ctx: Ctx = need("calls.read")) -> dict[str, Any]:
    """Calls asked for through the API, newest first (``sort``: created_at; ``since``/``until``: asked at)."""
    agent = ctx.own_agent if ctx.self_scoped else None
    with ctx.uow() as uow:
        rows, cur = cq.list_requests(uow, campaign_id=campaign_id, status=status, agent_id=agent, sort=pp.sort,
                                     cursor=pp.cursor, limit=pp.limit, since=since, until=until)
        live = ctx.live
        return page([cq.request_dict(r, live.call(ctx.tenant_id, r.id) if live else None) for r in rows], cur)


@router.get("/calls/{call_id}", response_model=CallOut, tags=["calls"])
def call_get(call_id: str, ctx: Ctx = need("calls.read")) -> dict[str, Any]:
    agent = ctx.own_agent if ctx.self_scoped else None
    with ctx.uow() as uow:
        live = ctx.live.call(ctx.tenant_id, call_id) if ctx.live else None
        return cq.get_call(uow, call_id, live, ctx.can("contacts.read_pii"), agent)


@router.get("/cdrs", response_model=Page[CdrOut], tags=["cdrs"])
def cdrs(since: datetime | None = None, until: datetime | None = None,
         campaign_id: str | None = Query(None, max_length=32), outcome: str | None = Query(None, max_length=30),
         agent_id: str | None = Query(None, max_length=64), contact_id: str | None = Query(None, max_length=32),
         pp: PageParams = Depends(page_params), ctx: Ctx = need("cdr.read")) -> dict[str, Any]:
    """Call detail records, one per attempt (``sort``: dial_at, end_at; default -dial_at)."""
    if ctx.self_scoped:
        agent_id = ctx.own_agent
    with ctx.uow() as uow:
        rows, cur = cq.list_cdrs(uow, since=since, until=until, campaign_id=campaign_id, outcome=outcome,
                                 agent_id=agent_id, contact_id=contact_id, sort=pp.sort, cursor=pp.cursor,
                                 limit=pp.limit)
        pii = ctx.can("contacts.read_pii")
        return page(cq.cdr_dicts(uow, rows, pii), cur)


@router.get("/cdrs/export", tags=["cdrs"], response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}})
def cdr_export(since: datetime | None = None, until: datetime | None = None,
               campaign_id: str | None = Query(None, max_length=32), outcome: str | None = Query(None, max_length=30),
               ctx: Ctx = need("cdr.export")) -> StreamingResponse:
    """All matching CDRs as CSV (UTF-8 with BOM, opens in Excel). Every export is audited."""
    uow = ctx.uow()
    rows = export_cdrs(uow, ctx.now(), campaign_id=campaign_id, since=since, until=until,
                       unmasked=ctx.can("contacts.read_pii"), outcome=outcome)

    def stream() -> Iterator[str]:
        try:
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=COLUMNS)
            buf.write("\ufeff")
            w.writeheader()
            for row in rows:
                w.writerow(row)
                if buf.tell() > 64_000:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue()
        finally:
            uow.session.close()

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="cdrs.csv"'})


@router.get("/cdrs/{call_id}", response_model=CdrOut, tags=["cdrs"])
def cdr_get(call_id: str, ctx: Ctx = need("cdr.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return cq.cdr_dict(uow, cq.get_cdr(uow, call_id, ctx.own_agent if ctx.self_scoped else None),
                           ctx.can("contacts.read_pii"))


class SignalingMessage(BaseModel):
    t: float = Field(description="seconds since the first message / 距第一条消息的秒数")
    direction: str = Field(description="sent | received")
    message: str = Field(description="SIP request or response, e.g. INVITE, 183 Session Progress")


class SignalingOut(BaseModel):
    call_id: str
    trunk_id: str | None
    recorded: bool = Field(description="False when no signaling log was kept for this call (simulated without "
                                       "trunks, or past retention) / 未保存信令日志时为 false")
    messages: list[SignalingMessage]


@router.get("/cdrs/{call_id}/signaling", response_model=SignalingOut, tags=["cdrs"])
def cdr_signaling(call_id: str, ctx: Ctx = need("cdr.read")) -> dict[str, Any]:
    """The SIP messages behind one dial attempt (why a call was lost), as `waihu call trace` shows them."""
    with ctx.uow() as uow:
        cdr = cq.get_cdr(uow, call_id, ctx.own_agent if ctx.self_scoped else None)  # 404 unless visible
        try:
            return {**call_trace(uow, call_id), "recorded": True}
        except NotFound:
            return {"call_id": call_id, "trunk_id": cdr.trunk_id, "recorded": False, "messages": []}
