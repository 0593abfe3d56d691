"""Which tenant a report command acts on when ``--tenant`` is not given (a local operator's
convenience: ``waihu demo`` writes into its own tenant)."""

from __future__ import annotations

from sqlalchemy import select

from waihu.adapters.storage.models import Campaign, Cdr, Tenant
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import ValidationError


def pick_tenant(uow: UnitOfWork, default_name: str, campaign: str | None) -> str | None:
    """The tenant holding ``campaign`` (the default tenant first), or, without a campaign, the
    default tenant if it has CDRs, else the only tenant that has any. None: use the default."""
    s = uow.session
    default_id = s.scalar(select(Tenant.id).where(Tenant.name == default_name))
    if campaign is not None:
        owners = list(s.scalars(select(Campaign.tenant_id).distinct().where(
            (Campaign.name == campaign) | (Campaign.id == campaign))))
        if default_id in owners or not owners:
            return None
        if len(owners) > 1:
            raise ValidationError("report.ambiguous_tenant",
                                  "several tenants have a campaign of this name; give --tenant")
        return owners[0]
    if default_id is not None and s.scalar(select(Cdr.id).where(Cdr.tenant_id == default_id).limit(1)):
        return None
    with_cdrs = list(s.scalars(select(Tenant.id).where(
        select(Cdr.id).where(Cdr.tenant_id == Tenant.id).limit(1).exists())))
    return with_cdrs[0] if len(with_cdrs) == 1 else None
