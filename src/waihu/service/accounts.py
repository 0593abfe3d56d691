"""Tenants, users and API tokens as the API manages them (queries and changes, tenant-scoped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Agent, Tenant
from waihu.adapters.storage.models_api import ApiToken, User
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationError
from waihu.domain.permissions import Role, may_grant
from waihu.domain.timeutil import to_dt
from waihu.service.auth import create_token, hash_password, parse_role
from waihu.service.paging import paginate
from waihu.service.tenants import audit, ensure_tenant, find_tenant


def iso(dt: Any) -> str | None:
    from waihu.domain.timeutil import to_ts

    return to_dt(to_ts(dt)).isoformat() if dt is not None else None


# ---------------------------------------------------------------- tenants (platform operators)
def tenant_dict(t: Tenant) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "timezone": t.timezone, "created_at": iso(t.created_at)}


def create_tenant(uow: UnitOfWork, name: str, now: float, *, timezone: str = "Asia/Shanghai",
                  token_name: str = "bootstrap") -> tuple[Tenant, str]:  # noqa: S107
    """A new tenant and its first tenant_admin API token (shown once). Does not commit."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("tenant.invalid_timezone", "unknown time zone",
                              [ErrorDetail("tenant.invalid_timezone", "an IANA zone name", field="timezone")]) from None
    if find_tenant(uow, name.strip()) is not None:
        raise Conflict("tenant.name_taken", "a tenant with this name exists")
    tid = ensure_tenant(uow, name, now, timezone=timezone)
    _, token = create_token(uow, token_name, Role.TENANT_ADMIN.value, now, created_by=uow.actor)
    t = uow.session.get(Tenant, tid)
    assert t is not None
    return t, token


def list_tenants(uow: UnitOfWork, *, sort: str | None, cursor: str | None,
                 limit: int) -> tuple[Sequence[Tenant], str | None]:
    return paginate(uow.session, select(Tenant), {"created_at": Tenant.created_at, "name": Tenant.name}, Tenant.id,
                    sort=sort, default="created_at", cursor=cursor, limit=limit)


def get_tenant(uow: UnitOfWork, tid: str) -> Tenant:
    t = uow.session.get(Tenant, tid)
    if t is None:
        raise NotFound("tenant.not_found", "no such tenant")
    return t


def tenant_exists(uow: UnitOfWork, tid: str) -> bool:
    return uow.session.get(Tenant, tid) is not None


# ---------------------------------------------------------------- users
def user_dict(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "agent_id": u.agent_id, "active": u.active, "created_at": iso(u.created_at),
            "last_login_at": iso(u.last_login_at), "locked": u.locked_until is not None}


def get_user(uow: UnitOfWork, uid: str) -> User:
    u = uow.session.get(User, uid)
    if u is None or u.tenant_id != uow.tenant_id:
        raise NotFound("user.not_found", "no such user")
    return u


def check_agent(uow: UnitOfWork, agent_id: str | None) -> None:
    if agent_id is None:
        return
    a = uow.session.get(Agent, agent_id)
    if a is None or a.tenant_id != uow.tenant_id:
        raise ValidationError("user.unknown_agent", "no such agent in this tenant",
                              [ErrorDetail("user.unknown_agent", "no such agent", field="agent_id")])


def list_users(uow: UnitOfWork, *, role: str | None, sort: str | None, cursor: str | None,
               limit: int) -> tuple[Sequence[User], str | None]:
    q = select(User).where(User.tenant_id == uow.tenant_id)
    if role:
        q = q.where(User.role == role)
    return paginate(uow.session, q, {"created_at": User.created_at, "username": User.username}, User.id,
                    sort=sort, default="created_at", cursor=cursor, limit=limit)


def update_user(uow: UnitOfWork, u: User, changes: dict[str, Any], granter: Role, now: float) -> User:
    if "role" in changes and changes["role"] is not None:
        r = parse_role(changes["role"], tenant=True)
        if not may_grant(granter, r):
            raise Forbidden("auth.role_not_grantable", "you cannot grant a role with permissions you lack")
        u.role = r.value
    if changes.get("password") is not None:
        if len(changes["password"]) < 8:
            raise ValidationError("user.weak_password", "at least 8 characters",
                                  [ErrorDetail("user.weak_password", "at least 8 characters", field="password")])
        u.password_hash = hash_password(changes["password"])
    if "agent_id" in changes:
        check_agent(uow, changes["agent_id"])
        u.agent_id = changes["agent_id"]
    for k in ("display_name", "active"):
        if changes.get(k) is not None:
            setattr(u, k, changes[k])
    if changes.get("active"):
        u.locked_until, u.failed_logins = None, 0
    audit(uow, "user.update", "user", u.id, now, fields=sorted(k for k in changes if k != "password"))
    return u


# ---------------------------------------------------------------- tokens
def token_dict(t: ApiToken) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "role": t.role, "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at)}


def list_tokens(uow: UnitOfWork, *, sort: str | None, cursor: str | None,
                limit: int) -> tuple[Sequence[ApiToken], str | None]:
    q = select(ApiToken).where(ApiToken.tenant_id == uow.tenant_id)
    return paginate(uow.session, q, {"created_at": ApiToken.created_at, "name": ApiToken.name}, ApiToken.id,
                    sort=sort, default="created_at", cursor=cursor, limit=limit)


def revoke_token(uow: UnitOfWork, token_id: str, now: float) -> ApiToken:
    t = uow.session.get(ApiToken, token_id)
    if t is None or t.tenant_id != uow.tenant_id:
        raise NotFound("token.not_found", "no such token")
    if t.revoked_at is None:
        t.revoked_at = to_dt(now)
        audit(uow, "token.revoke", "api_token", t.id, now)
    return t
