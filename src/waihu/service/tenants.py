"""Tenants and the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import AuditEntry, Tenant
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.timeutil import to_dt


def audit(uow: UnitOfWork, action: str, object_type: str, object_id: str | None, now: float,
          **detail: Any) -> None:
    uow.session.add(AuditEntry(id=uow.new_id(), tenant_id=uow.tenant_id, actor=uow.actor, action=action,
                               object_type=object_type, object_id=object_id, at=to_dt(now), detail=detail))


def find_tenant(uow: UnitOfWork, name: str) -> str | None:
    return uow.session.scalar(select(Tenant.id).where(Tenant.name == name))


def ensure_tenant(uow: UnitOfWork, name: str, now: float, *, timezone: str = "Asia/Shanghai") -> str:
    """The tenant's id, creating it on first use. ``uow.tenant_id`` is set to it."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("tenant.invalid_name", "a tenant name has 1 to 100 characters",
                              [ErrorDetail("tenant.invalid_name", "1 to 100 characters", field="name")])
    tid = find_tenant(uow, name)
    if tid is None:
        tid = uow.new_id()
        keys = getattr(uow.codec, "keys", None)
        if keys is not None and hasattr(keys, "create"):
            keys.create(tid, to_dt(now))  # the tenant's data key, before the tenant's first write
        uow.session.add(Tenant(id=tid, name=name, timezone=timezone, created_at=to_dt(now), settings={}))
        uow.session.flush()
        uow.tenant_id = tid
        audit(uow, "tenant.create", "tenant", tid, now, name=name)
    uow.tenant_id = tid
    return tid
