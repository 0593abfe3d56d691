"""Login, tenants (platform operators), users and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, client_key, limiter_of, need, page_params, platform_of, principal
from waihu.api.schemas import Page, Strict, page
from waihu.service import accounts as acc
from waihu.service.auth import Principal, create_token, create_user, login, refresh

router = APIRouter(prefix="/v1")


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    tenant: str | None = Field(None, max_length=100, description="Tenant name or id; needed only when the "
                               "username and password fit accounts in several tenants / 租户（仅在需要时）")


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str


class Me(BaseModel):
    kind: str
    id: str
    tenant_id: str | None
    role: str
    agent_id: str | None
    permissions: list[str]


@router.post("/auth/login", response_model=TokenPair, tags=["auth"])
def do_login(body: LoginIn, request: Request) -> dict[str, Any]:
    """Exchange a username and password for a short-lived access token (JWT) and a refresh token."""
    p = platform_of(request)
    limiter_of(request).hit(client_key(request))
    with p.uow("") as uow:
        return login(uow, p.settings, body.username, body.password, p.clock.now(), tenant=body.tenant)


@router.post("/auth/refresh", response_model=TokenPair, tags=["auth"])
def do_refresh(body: RefreshIn, request: Request) -> dict[str, Any]:
    """A new token pair for a refresh token; each refresh token works once."""
    p = platform_of(request)
    limiter_of(request).hit(client_key(request))
    with p.uow("") as uow:
        return refresh(uow, p.settings, body.refresh_token, p.clock.now())


@router.get("/me", response_model=Me, tags=["auth"])
def me(who: Principal = Depends(principal)) -> dict[str, Any]:
    from waihu.domain.permissions import ROLE_PERMISSIONS

    return {"kind": who.kind, "id": who.id, "tenant_id": who.tenant_id, "role": who.role.value,
            "agent_id": who.agent_id, "permissions": sorted(ROLE_PERMISSIONS[who.role])}


# ---------------------------------------------------------------- tenants
class TenantIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    timezone: str = Field("Asia/Shanghai", min_length=1, max_length=64)


class TenantPatch(Strict):
    timezone: str | None = Field(None, min_length=1, max_length=64)


class TenantOut(BaseModel):
    id: str
    name: str
    timezone: str
    created_at: str | None


class TenantCreated(BaseModel):
    tenant: TenantOut
    tenant_id: str
    api_token: str


@router.get("/tenants", response_model=Page[TenantOut], tags=["tenants"])
def tenants(pp: PageParams = Depends(page_params), ctx: Ctx = need("tenants.manage")) -> dict[str, Any]:
    with ctx.platform.uow("") as uow:
        rows, cur = acc.list_tenants(uow, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([acc.tenant_dict(t) for t in rows], cur)


@router.post("/tenants", response_model=TenantCreated, status_code=201, tags=["tenants"])
def tenant_create(body: TenantIn, ctx: Ctx = need("tenants.manage")) -> dict[str, Any]:
    """A new tenant and its first tenant_admin API token (shown once)."""
    with ctx.platform.uow("", actor=ctx.principal.actor) as uow:
        t, token = acc.create_tenant(uow, body.name, ctx.now(), timezone=body.timezone)
        uow.commit()
        return {"tenant": acc.tenant_dict(t), "tenant_id": t.id, "api_token": token}


@router.get("/tenants/{tenant_id}", response_model=TenantOut, tags=["tenants"])
def tenant_get(tenant_id: str, ctx: Ctx = need("tenants.manage")) -> dict[str, Any]:
    with ctx.platform.uow("") as uow:
        return acc.tenant_dict(acc.get_tenant(uow, tenant_id))


@router.patch("/tenants/{tenant_id}", response_model=TenantOut, tags=["tenants"])
def tenant_patch(tenant_id: str, body: TenantPatch, ctx: Ctx = need("tenants.manage")) -> dict[str, Any]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from waihu.domain.errors import ErrorDetail, ValidationError

    with ctx.platform.uow("") as uow:
        t = acc.get_tenant(uow, tenant_id)
        if body.timezone is not None:
            try:
                ZoneInfo(body.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError("tenant.invalid_timezone", "unknown time zone", [
                    ErrorDetail("tenant.invalid_timezone", "an IANA zone name", field="timezone")]) from None
            t.timezone = body.timezone
        uow.commit()
        return acc.tenant_dict(t)


# ---------------------------------------------------------------- users
class UserIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=30)
    display_name: str | None = Field(None, max_length=100)
    agent_id: str | None = Field(None, max_length=32)


class UserPatch(Strict):
    password: str | None = Field(None, min_length=1, max_length=200)
    role: str | None = Field(None, min_length=1, max_length=30)
    display_name: str | None = Field(None, max_length=100)
    agent_id: str | None = Field(None, max_length=32)
    active: bool | None = None


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str | None
    role: str
    agent_id: str | None
    active: bool
    created_at: str | None
    last_login_at: str | None
    locked: bool


@router.get("/users", response_model=Page[UserOut], tags=["users"])
def users(role: str | None = Query(None, max_length=30), pp: PageParams = Depends(page_params),
          ctx: Ctx = need("users.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = acc.list_users(uow, role=role, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([acc.user_dict(u) for u in rows], cur)


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def user_create(body: UserIn, ctx: Ctx = need("users.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        acc.check_agent(uow, body.agent_id)
        u = create_user(uow, body.username, body.password, body.role, ctx.now(), display_name=body.display_name,
                        agent_id=body.agent_id, granter=ctx.principal.role)
        uow.commit()
        return acc.user_dict(u)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def user_get(user_id: str, ctx: Ctx = need("users.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return acc.user_dict(acc.get_user(uow, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
def user_patch(user_id: str, body: UserPatch, ctx: Ctx = need("users.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        u = acc.get_user(uow, user_id)
        acc.update_user(uow, u, body.model_dump(exclude_unset=True), ctx.principal.role, ctx.now())
        uow.commit()
        return acc.user_dict(u)


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
def user_delete(user_id: str, ctx: Ctx = need("users.manage")) -> None:
    """Deactivate the user (kept for the audit trail); their logins stop working."""
    with ctx.uow() as uow:
        u = acc.get_user(uow, user_id)
        acc.update_user(uow, u, {"active": False}, ctx.principal.role, ctx.now())
        u.active = False
        uow.commit()


# ---------------------------------------------------------------- API tokens
class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field("api_client", min_length=1, max_length=30)


class TokenOut(BaseModel):
    id: str
    name: str
    role: str
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenOut):
    token: str


@router.get("/tokens", response_model=Page[TokenOut], tags=["tokens"])
def tokens(pp: PageParams = Depends(page_params), ctx: Ctx = need("tokens.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = acc.list_tokens(uow, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([acc.token_dict(t) for t in rows], cur)


@router.post("/tokens", response_model=TokenCreated, status_code=201, tags=["tokens"])
def token_create(body: TokenIn, ctx: Ctx = need("tokens.manage")) -> dict[str, Any]:
    """A new API token scoped to a role; the token is shown in this answer only."""
    with ctx.uow() as uow:
        t, plain = create_token(uow, body.name, body.role, ctx.now(), granter=ctx.principal.role,
                                created_by=ctx.principal.actor)
        uow.commit()
        return {**acc.token_dict(t), "token": plain}


@router.delete("/tokens/{token_id}", status_code=204, tags=["tokens"])
def token_revoke(token_id: str, ctx: Ctx = need("tokens.manage")) -> None:
    with ctx.uow() as uow:
        acc.revoke_token(uow, token_id, ctx.now())
        uow.commit()
