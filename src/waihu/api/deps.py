"""Request dependencies: who is calling (bearer token), the permission an endpoint needs, the
tenant-scoped unit of work, rate limiting and the shared pagination parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from waihu.api.ratelimit import RateLimiter
from waihu.bootstrap import Platform, UnitOfWork
from waihu.domain.errors import Forbidden, Unauthenticated
from waihu.domain.permissions import SELF_SCOPED
from waihu.service.auth import Principal, authenticate
from waihu.service.live import LiveHost

bearer = HTTPBearer(auto_error=False, description="A JWT from /v1/auth/login or an API token (wh_...)")


@dataclass
class Ctx:
    principal: Principal
    platform: Platform
    live: LiveHost | None
    request: Request

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id or ""

    def uow(self) -> UnitOfWork:
        return self.platform.uow(self.tenant_id, actor=self.principal.actor)

    def now(self) -> float:
        return self.platform.clock.now()

    @property
    def self_scoped(self) -> bool:
        """An agent sees only their own calls and assigned contacts."""
        return self.principal.role in SELF_SCOPED

    @property
    def own_agent(self) -> str:
        return self.principal.agent_id or "-"

    def can(self, permission: str) -> bool:
        return self.principal.can(permission)


def platform_of(request: Request) -> Platform:
    p: Platform = request.app.state.platform
    return p


def limiter_of(request: Request) -> RateLimiter:
    r: RateLimiter = request.app.state.limiter
    return r


def client_key(request: Request) -> str:
    return f"ip:{request.client.host if request.client else '-'}"


def principal(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    if cred is None or not cred.credentials:
        raise Unauthenticated("auth.missing_token", "send 'Authorization: Bearer <token>'")
    p = platform_of(request)
    try:
        with p.uow("") as uow:
            who = authenticate(uow, p.settings, cred.credentials, p.clock.now())
    except Unauthenticated:
        limiter_of(request).hit(client_key(request))  # guessing tokens is limited per client address
        raise
    limiter_of(request).hit(who.actor)  # one bucket per token or per user
    request.state.principal = who
    return who


class Need:
    """``Depends(Need("cdr.read"))``: the caller must hold this permission."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    def __call__(self, request: Request, who: Principal = Depends(principal)) -> Ctx:
        if not who.can(self.permission):
            raise Forbidden("auth.forbidden", f"this needs the permission {self.permission!r}")
        return Ctx(who, platform_of(request), request.app.state.live, request)


def need(permission: str) -> Any:
    return Depends(Need(permission))


def permission_of(call: Callable[..., Any]) -> str | None:
    return call.permission if isinstance(call, Need) else None


@dataclass
class PageParams:
    limit: int
    cursor: str | None
    sort: str | None


def page_params(limit: int = Query(50, ge=1, le=500, description="Items per page (1..500)."),
                cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
                sort: str | None = Query(None, max_length=50, description="A sort key; '-' for descending."),
                ) -> PageParams:
    return PageParams(limit, cursor, sort)
