"""The tenant's compliance rules, and why a contact would or would not be called."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Query

from waihu.api.deps import Ctx, need
from waihu.service.compliance_settings import set_tenant_rules, tenant_rules
from waihu.service.explain import explain

router = APIRouter(prefix="/v1", tags=["compliance"])

RULES_EXAMPLE = {"windows": ["09:00-12:00", "13:30-20:00"], "holidays": ["2026-10-01"], "workdays": ["2026-10-10"],
                 "max_per_day": 2, "rolling_max": 3, "rolling_minutes": 5, "min_gap_seconds": 600,
                 "job_types": {"collection": {"windows": ["09:00-20:00"]}}}


@router.get("/compliance/rules")
def get_rules(ctx: Ctx = need("compliance.read")) -> dict[str, Any]:
    """The tenant's own rules (keys it leaves out take the built-in defaults, docs/compliance.md)."""
    with ctx.uow() as uow:
        return {"rules": tenant_rules(uow)}


@router.put("/compliance/rules")
def put_rules(rules: dict[str, Any] = Body(..., examples=[RULES_EXAMPLE]),
              ctx: Ctx = need("compliance.manage")) -> dict[str, Any]:
    """Replace the tenant's rules. Every problem is reported (422) and then nothing changes; running
    campaigns apply the new rules at once."""
    with ctx.uow() as uow:
        saved = set_tenant_rules(uow, rules, ctx.now())
    if ctx.live is not None:
        ctx.live.rules_changed(ctx.tenant_id)
    return {"rules": saved}


@router.get("/contacts/{contact_id}/explain")
def explain_contact(contact_id: str, campaign_id: str | None = Query(None, max_length=32),
                    at: datetime | None = Query(None, description="When (ISO 8601); default now."),
                    ctx: Ctx = need("compliance.read")) -> dict[str, Any]:
    """Why the contact would or would not be dialled at that time in each of its campaigns, with
    stable reason codes and when it next can be."""
    with ctx.uow() as uow:
        when = at.timestamp() if at is not None else ctx.now()
        return explain(uow, ctx.platform.engine, contact_id, when, campaign=campaign_id)
