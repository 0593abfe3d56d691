"""The tenant's compliance rules (calling windows, holidays, caps, ...): read and replace, validated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Tenant
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.campaigns import JobType
from waihu.domain.compliance_rules import build_rules
from waihu.domain.errors import NotFound
from waihu.service.tenants import audit


def tenant_rules(uow: UnitOfWork) -> dict[str, Any]:
    t = uow.session.scalar(select(Tenant).where(Tenant.id == uow.tenant_id))
    if t is None:
        raise NotFound("tenant.not_found", "no such tenant")
    return dict((t.settings or {}).get("compliance") or {})


def set_tenant_rules(uow: UnitOfWork, cfg: dict[str, Any], now: float) -> dict[str, Any]:
    """Replace the tenant's rules. Every job type's merged rules must validate, or nothing changes."""
    for job_type in JobType:
        build_rules(cfg, None, job_type.value)  # raises ValidationError with every problem
    t = uow.session.scalar(select(Tenant).where(Tenant.id == uow.tenant_id))
    if t is None:
        raise NotFound("tenant.not_found", "no such tenant")
    t.settings = {**(t.settings or {}), "compliance": cfg}
    audit(uow, "compliance.set_rules", "tenant", t.id, now, keys=sorted(cfg))
    uow.commit()
    return cfg
