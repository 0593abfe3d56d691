"""Reports and analytics: the daily and campaign reports as files (audited), KPIs by dimension,
funnel, ROI, time slots and staffing (the services behind ``waihu report`` and the console)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, need
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.timeutil import parse_aware
from waihu.service import campaign_admin as ca
from waihu.service.analytics import funnel as fn
from waihu.service.analytics import roi as ro
from waihu.service.analytics import slots as sl
from waihu.service.analytics.dimensions import DIMENSIONS
from waihu.service.analytics.dimensions import check as check_dimensions
from waihu.service.analytics.kpis import Scope, compute
from waihu.service.analytics.report_files import FORMATS, MEDIA_TYPES, ReportFile, produce
from waihu.service.analytics.staffing import staffing

router = APIRouter(prefix="/v1/reports", tags=["reports"])

FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "content": {MEDIA_TYPES[f].split(";")[0]: {} for f in FORMATS},
    "description": "The report as a file (Content-Disposition: attachment); html, xlsx, csv or json."}}
FORMAT = Query("html", alias="format", max_length=10, description="html, xlsx, csv or json")
SEGMENT = Query(None, max_length=20, description="A dimension to split by, e.g. region, age_band.")


class KpisOut(BaseModel):
    campaign_id: str | None
    by: list[str]
    since: str | None
    until: str | None
    timezone: str
    currency: str
    totals: dict[str, Any] = Field(description="Every KPI over the whole scope (docs/analytics.md).")
    rows: list[dict[str, Any]] = Field(description="One row per combination of the ``by`` dimensions' values.")


class FunnelStage(BaseModel):
    stage: str
    contacts: int
    rate_from_previous: float
    rate_from_dialled: float
    drop_off: dict[str, int]


class FunnelOut(BaseModel):
    campaign: str
    stages: list[FunnelStage]


class SlotsOut(BaseModel):
    campaign: str
    segment: str | None
    plan: dict[str, list[list[int]]] = Field(description="Per segment: the recommended [weekday, hour] slots.")
    min_attempts: int
    excluded_slots: list[list[int]]
    cells: list[dict[str, Any]] = Field(description="Weekday x hour: attempts, answer and conversion rates with "
                                                    "95% Wilson intervals.")


def _file(f: ReportFile) -> Response:
    return Response(f.data, media_type=f.media_type, headers={
        "Content-Disposition": f'attachment; filename="{f.filename}"', "Cache-Control": "no-store"})


@router.get("/daily", response_class=Response, responses=FILE_RESPONSES)
def daily_report(day: str = Query(..., max_length=10, description="YYYY-MM-DD in the tenant's time zone."),
                 fmt: str = FORMAT, ctx: Ctx = need("reports.read")) -> Response:
    """The daily report over every campaign, built now. Every download is audited."""
    with ctx.uow() as uow:
        f = produce(uow, ctx.now(), fmt, day=day)
        uow.commit()
    return _file(f)


@router.get("/campaigns/{campaign_id}", response_class=Response, responses=FILE_RESPONSES)
def campaign_report(campaign_id: str, fmt: str = FORMAT, ctx: Ctx = need("reports.read")) -> Response:
    """The campaign report (KPIs, review, leaderboard, funnel, ROI, slots), built now. Audited."""
    with ctx.uow() as uow:
        f = produce(uow, ctx.now(), fmt, campaign=ca.by_id(uow, campaign_id))
        uow.commit()
    return _file(f)


@router.get("/kpis", response_model=KpisOut)
def kpis(campaign_id: str | None = Query(None, max_length=32, description="One campaign (default: all)."),
         by: list[str] = Query([], max_length=5, description=f"Dimensions, repeatable: {', '.join(DIMENSIONS)}."),
         since: str | None = Query(None, max_length=40, description="ISO 8601 with offset; calls dialled from."),
         until: str | None = Query(None, max_length=40, description="ISO 8601 with offset; calls dialled before."),
         ctx: Ctx = need("reports.read")) -> dict[str, Any]:
    """KPIs by any dimensions, computed in the database (definitions: docs/analytics.md)."""
    problems: list[ErrorDetail] = []
    times = {}
    for name, value in (("since", since), ("until", until)):
        try:
            times[name] = parse_aware(value, name, "report.invalid_time", "report.naive_time")
        except ValidationError as e:
            problems.append(ErrorDetail(e.code, e.message, field=name))
    try:
        check_dimensions(list(by))
    except ValidationError as e:
        problems += e.details or [ErrorDetail(e.code, e.message, field="by")]
    if problems:
        raise ValidationError(problems[0].code if len(problems) == 1 else "report.invalid",
                              "the report was not made", problems)
    with ctx.uow() as uow:
        camps = [ca.by_id(uow, campaign_id)] if campaign_id is not None else None
        doc = compute(uow, Scope(campaigns=camps, since=times["since"], until=times["until"], by=list(by)))
    return {"campaign_id": campaign_id, **doc}


@router.get("/campaigns/{campaign_id}/funnel", response_model=FunnelOut)
def funnel(campaign_id: str, ctx: Ctx = need("reports.read")) -> dict[str, Any]:
    """Contacts reaching each funnel stage, with drop-off reasons."""
    with ctx.uow() as uow:
        return fn.funnel(uow, ca.by_id(uow, campaign_id))


@router.get("/campaigns/{campaign_id}/roi", response_model=dict[str, Any])
def roi(campaign_id: str, segment: str | None = SEGMENT, ctx: Ctx = need("reports.read")) -> dict[str, Any]:
    """Cost, revenue, CAC, LTV and LTV/CAC of the campaign (costs: analytics settings)."""
    with ctx.uow() as uow:
        return ro.roi(uow, ca.by_id(uow, campaign_id), segment)


@router.get("/campaigns/{campaign_id}/slots", response_model=SlotsOut)
def slots(campaign_id: str, segment: str | None = SEGMENT, ctx: Ctx = need("reports.read")) -> dict[str, Any]:
    """Answer and conversion rates by local weekday and hour, and the recommended calling slots."""
    with ctx.uow() as uow:
        c = ca.by_id(uow, campaign_id)
        hm = sl.heatmap(uow, c, segment)
        return {**sl.plan(uow, c, segment, hm=hm), "cells": hm["cells"]}


# The queueing formulas cost more as the load grows (Erlang A most): the API bounds the load so
# one request stays within a few seconds; ``waihu report staffing`` has no such bound.
MAX_ERLANGS = 2000.0
MAX_ERLANGS_A = 50.0


@router.get("/staffing", response_model=dict[str, Any])
def staffing_plan(
    calls_per_hour: float = Query(..., ge=0.01, le=20000, description="Offered calls per hour."),
    aht: float = Query(..., ge=30, le=3600, description="Average handle time in seconds, wrap-up included."),
    agents: int | None = Query(None, ge=1, le=5000, description="Agents on duty (else: sized for target_sl)."),
    patience: float | None = Query(None, ge=1, le=600, description="Mean patience in seconds: Erlang A."),
    sl_seconds: float = Query(20.0, ge=0, le=120, description="Service-level threshold, seconds."),
    target_sl: float | None = Query(None, ge=0.01, le=0.9999, description="Target service level."),
    target_blocking: float | None = Query(None, ge=1e-6, lt=1, description="Also size trunks with Erlang B."),
    ctx: Ctx = need("reports.read"),
) -> dict[str, Any]:
    """Erlang C / Erlang A staffing and Erlang B trunk sizing (docs/analytics.md); the offered load
    (calls_per_hour x aht / 3600) is at most 2000 Erlangs, 50 with ``patience`` (Erlang A)."""
    limit = MAX_ERLANGS if patience is None else MAX_ERLANGS_A
    if calls_per_hour * aht / 3600.0 > limit:
        raise ValidationError("staffing.too_large", f"the offered load is over {limit:g} Erlangs", [
            ErrorDetail("staffing.too_large", f"calls_per_hour x aht / 3600 must be at most {limit:g}",
                        field="calls_per_hour")])
    return staffing(calls_per_hour, aht, agents=agents, patience=patience, sl_seconds=sl_seconds,
                    target_sl=target_sl, target_blocking=target_blocking)
