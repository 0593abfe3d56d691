"""Trunks and caller IDs: the lines the tenant may use (its own and the platform's assigned to it)
with their live statistics; adding, enabling and disabling the tenant's own ones.

Caller IDs are business numbers, not personal information: they are shown in full to every role
with ``lines.read`` (``service/lines.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, need, page_params
from waihu.api.schemas import Finite, Page, Strict, page
from waihu.service import lines as ln
from waihu.service import lines_query as lq
from waihu.service.live import with_trunk_health
from waihu.service.sip_lines import set_trunk_sip

router = APIRouter(prefix="/v1")

Name = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^,，]+$")]


class SipIn(Strict):
    uri: str = Field(min_length=5, max_length=255, examples=["sip:gw1@203.0.113.7:5060"],
                     description="sip:[user[:password]@]host[:port][;transport=udp|tcp]")
    password: str | None = Field(None, min_length=1, max_length=255, description="Digest password (write only).")
    registration: bool = Field(False, description="Keep a registration with the carrier (needs a user).")
    pai: bool = Field(False, description="Send the caller ID in P-Asserted-Identity too.")
    options_interval: Finite = Field(30.0, ge=0, le=3600, description="Seconds between OPTIONS probes (0: none).")


class SipOut(BaseModel):
    uri: str = Field(description="sip:[user@]host:port[;transport=tcp] (never the password)")
    registration: bool
    pai: bool
    options_interval: float
    password_set: bool


class TrunkIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(ge=1, le=100000, description="Concurrent calls at most.")
    cps: Finite = Field(gt=0, le=10000, description="Call attempts per second at most.")
    cost_per_minute: Finite = Field(0.0, ge=0, le=1000, description="Price per billed minute.")
    billing_increment: int = Field(60, ge=1, le=3600, description="Billing increment, seconds.")
    cost_per_attempt: Finite = Field(0.0, ge=0, le=1000)
    regions: list[Name] = Field(["*"], max_length=100, description="Covered regions (provinces); [\"*\"]: all.")
    business: list[Name] = Field(["*"], max_length=50, description="Registered business types; [\"*\"]: all.")
    priority: int = Field(0, ge=-1000, le=1000, description="Higher first.")
    role: str = Field("primary", max_length=20, description="primary, backup or temporary")
    thresholds: dict[str, Finite] | None = Field(None, max_length=20, description=(
        "Breaker settings, e.g. {\"line_loss\": 0.3} (docs/routing.md)."))
    sip: SipIn | None = Field(None, description="How the trunk is reached over SIP; none: a simulated line.")


class TrunkOut(BaseModel):
    id: str
    name: str
    owner: str = Field(description="tenant (the tenant's own) or platform (assigned by the platform)")
    capacity: int
    cps: float
    cost_per_minute: float
    billing_increment: int
    cost_per_attempt: float
    regions: list[str]
    business: list[str]
    priority: int
    role: str
    enabled: bool
    thresholds: dict[str, Any]
    sip: SipOut | None = Field(description="SIP address (waihu serve --sip-listen dials over it); null: simulated")


class UsageToday(BaseModel):
    attempts: int
    minutes: float = Field(description="Billed minutes (by the trunk's billing increment).")
    cost: float


class TrunkLiveOut(BaseModel):
    health: str = Field(description="enabled, ejected or probing: the running dialer's router now")
    in_flight: int = Field(description="Calls on the trunk now.")
    usable_concurrency: int = Field(description="Calls the router lets it carry now (lowered while probing).")
    ejections: int = Field(description="Times it was taken out of routing since the dialer started.")
    reason: str | None = Field(description="Why it was last taken out, e.g. options_down, line_loss.")


class TrunkStatusOut(TrunkOut):
    windows: dict[str, dict[str, Any]] = Field(description="Statistics over 5m, 1h and today: attempts, asr, acd, "
                                                           "pdd, line_loss_rate, loss_rates.")
    alarm: str | None = Field(description="line_loss or answer_rate when the 5-minute window trips a threshold.")
    usage_today: UsageToday = Field(description="This tenant's calls on the trunk today (local day).")
    live: TrunkLiveOut | None = Field(None, description="The running dialer's view (null when it does not route "
                                      "this tenant's calls over the trunk now).")


class CallerIdIn(Strict):
    number: str = Field(min_length=1, max_length=40, examples=["02088886666"])
    province: str | None = Field(None, max_length=50, description="Defaults to the number's region.")
    city: str | None = Field(None, max_length=50)
    type: str | None = Field(None, max_length=20, description="mobile or landline (default: from the number)")
    weight: Finite | None = Field(None, le=1000)
    max_concurrent: int | None = Field(None, le=100000)
    daily_cap: int | None = Field(None, le=1000000)
    capital: bool = False
    default: bool = False
    authenticated: bool = False


class CallerIdsIn(Strict):
    caller_ids: list[CallerIdIn] = Field(min_length=1, max_length=1000)


class CallerIdOut(BaseModel):
    id: str
    number: str = Field(description="E.164; a business number, shown in full.")
    owner: str
    province: str | None
    city: str | None
    type: str
    capital: bool
    default: bool
    weight: float
    max_concurrent: int
    daily_cap: int
    status: str = Field(description="active, reduced (one spam mark) or offline")
    spam_marks: int
    authenticated: bool


class CallerIdUsageOut(CallerIdOut):
    used_today: int = Field(description="Calls this tenant placed from the number today.")


class CallerIdsOut(BaseModel):
    items: list[CallerIdOut]


def _now(ctx: Ctx) -> float:
    return ctx.live.virtual_now() if ctx.live is not None else ctx.now()


def _changed(ctx: Ctx) -> None:
    """The live dialers route their next calls over the tenant's lines as they are now."""
    if ctx.live is not None:
        ctx.live.lines_changed(ctx.tenant_id)


# ---------------------------------------------------------------- trunks
@router.get("/trunks", response_model=Page[TrunkStatusOut], tags=["lines"])
def trunks(pp: PageParams = Depends(page_params), ctx: Ctx = need("lines.read")) -> dict[str, Any]:
    """The trunks the tenant may use with their live statistics (``sort``: name, priority, created_at)."""
    with ctx.uow() as uow:
        rows, cur = lq.trunk_page(uow, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page(with_trunk_health(ctx.live, ctx.tenant_id, ln.trunk_status(uow, _now(ctx), rows=rows)), cur)


@router.post("/trunks", response_model=TrunkOut, status_code=201, tags=["lines"])
def trunk_add(body: TrunkIn, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Register one of the tenant's own trunks (enabled; running dialers route over it at once)."""
    with ctx.uow() as uow:
        doc = ln.add_trunk(uow, ctx.now(), name=body.name, capacity=body.capacity, cps=body.cps,
                           cost_per_minute=body.cost_per_minute, billing_increment=body.billing_increment,
                           cost_per_attempt=body.cost_per_attempt, regions=",".join(body.regions),
                           business=",".join(body.business), priority=body.priority, role=body.role,
                           thresholds=body.thresholds, **_sip_kw(body.sip))
        uow.commit()
    _changed(ctx)
    return doc


@router.get("/trunks/{trunk_id}", response_model=TrunkStatusOut, tags=["lines"])
def trunk_get(trunk_id: str, ctx: Ctx = need("lines.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows = [ln.find_trunk(uow, trunk_id=trunk_id)]
        return with_trunk_health(ctx.live, ctx.tenant_id, ln.trunk_status(uow, _now(ctx), rows=rows))[0]


def _sip_kw(sip: SipIn | None) -> dict[str, Any]:
    if sip is None:
        return {}
    return {"sip": sip.uri, "sip_password": sip.password, "sip_register": sip.registration, "sip_pai": sip.pai,
            "sip_options_interval": sip.options_interval}


@router.put("/trunks/{trunk_id}/sip", response_model=TrunkOut, tags=["lines"])
def trunk_sip_set(trunk_id: str, body: SipIn, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Set the SIP address of one of the tenant's own trunks (409 ``trunk.platform_owned`` for a
    platform trunk); a running dialer dials its next calls over it."""
    with ctx.uow() as uow:
        row = ln.find_trunk(uow, trunk_id=trunk_id)
        set_trunk_sip(uow, ctx.now(), row, body.uri, register=body.registration, pai=body.pai,
                      options_interval=body.options_interval, password=body.password)
        uow.commit()
        doc = ln.trunk_doc(row)
    _changed(ctx)
    return doc


@router.delete("/trunks/{trunk_id}/sip", response_model=TrunkOut, tags=["lines"])
def trunk_sip_remove(trunk_id: str, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Take the SIP address away: the trunk is a line of the simulated network again."""
    with ctx.uow() as uow:
        row = ln.find_trunk(uow, trunk_id=trunk_id)
        set_trunk_sip(uow, ctx.now(), row, None)
        uow.commit()
        doc = ln.trunk_doc(row)
    _changed(ctx)
    return doc


def _enable(trunk_id: str, enabled: bool, ctx: Ctx) -> dict[str, Any]:
    with ctx.uow() as uow:
        doc = ln.set_trunk_enabled(uow, ctx.now(), ln.find_trunk(uow, trunk_id=trunk_id), enabled)
        uow.commit()
    _changed(ctx)
    return doc


@router.post("/trunks/{trunk_id}/enable", response_model=TrunkOut, tags=["lines"])
def trunk_enable(trunk_id: str, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Enable one of the tenant's own trunks (409 ``trunk.platform_owned`` for a platform trunk)."""
    return _enable(trunk_id, True, ctx)


@router.post("/trunks/{trunk_id}/disable", response_model=TrunkOut, tags=["lines"])
def trunk_disable(trunk_id: str, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Disable one of the tenant's own trunks; running dialers stop placing calls on it at once."""
    return _enable(trunk_id, False, ctx)


# ---------------------------------------------------------------- caller IDs
@router.get("/caller-ids", response_model=Page[CallerIdUsageOut], tags=["lines"])
def caller_ids(status: str | None = Query(None, max_length=20, description="active, reduced or offline"),
               province: str | None = Query(None, max_length=50),
               number: str | None = Query(None, max_length=40, description="Find one number (any common format)."),
               pp: PageParams = Depends(page_params), ctx: Ctx = need("lines.read")) -> dict[str, Any]:
    """The caller IDs the tenant may use, with today's use (``sort``: number, province, created_at)."""
    with ctx.uow() as uow:
        rows, cur = lq.caller_id_page(uow, status=status, province=province, number=number, sort=pp.sort,
                                      cursor=pp.cursor, limit=pp.limit)
        return page(lq.caller_id_usage(uow, rows, _now(ctx)), cur)


@router.post("/caller-ids", response_model=CallerIdsOut, status_code=201, tags=["lines"])
def caller_ids_add(body: CallerIdsIn, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Add caller IDs to the tenant's pool, all or none: every bad entry is listed (``row`` is its
    1-based position when several are sent)."""
    with ctx.uow() as uow:
        docs = ln.add_caller_ids(uow, ctx.now(), [c.model_dump() for c in body.caller_ids])
        uow.commit()
    _changed(ctx)
    return {"items": docs}


@router.get("/caller-ids/{caller_id}", response_model=CallerIdUsageOut, tags=["lines"])
def caller_id_get(caller_id: str, ctx: Ctx = need("lines.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return lq.caller_id_usage(uow, [ln.find_caller_id(uow, caller_id=caller_id)], _now(ctx))[0]


def _status(caller_id: str, action: str, ctx: Ctx) -> dict[str, Any]:
    with ctx.uow() as uow:
        doc = ln.set_caller_id_status(uow, ctx.now(), ln.find_caller_id(uow, caller_id=caller_id), action)
        uow.commit()
    _changed(ctx)
    return doc


@router.post("/caller-ids/{caller_id}/take-offline", response_model=CallerIdOut, tags=["lines"])
def caller_id_offline(caller_id: str, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Stop using one of the tenant's own caller IDs (409 for a platform number or one already offline)."""
    return _status(caller_id, "take_offline", ctx)


@router.post("/caller-ids/{caller_id}/clear", response_model=CallerIdOut, tags=["lines"])
def caller_id_clear(caller_id: str, ctx: Ctx = need("lines.manage")) -> dict[str, Any]:
    """Back to active, spam marks cleared."""
    return _status(caller_id, "clear", ctx)
