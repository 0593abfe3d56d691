"""The permission matrix: every endpoint denies every role that lacks its permission."""

from __future__ import annotations

import re

from tests.apitools import World, error_code

from waihu.api.app import api_routes, route_permission
from waihu.domain.permissions import PERMISSIONS, ROLE_PERMISSIONS, Role, allowed, may_grant

OPEN = {"/v1/auth/login", "/v1/auth/refresh", "/v1/me"}


def _routes(world: World) -> list[tuple[str, str, str | None]]:
    out = []
    for r in api_routes():
        for m in sorted(r.methods):
            out.append((m, r.path, route_permission(r)))
    return out


def test_every_endpoint_names_a_known_permission(world: World) -> None:
    routes = _routes(world)
    assert len(routes) > 50
    for method, path, perm in routes:
        if path in OPEN:
            assert perm is None, (method, path)
        else:
            assert perm in PERMISSIONS, (method, path, perm)
    documented = world.client.get("/openapi.json").json()["paths"]
    assert documented["/v1/cdrs/export"]["get"]["x-permission"] == "cdr.export"


def test_every_endpoint_denies_every_role_without_its_permission(world: World) -> None:
    t = world.tenant("matrix")
    failures = []
    checked = 0
    for method, path, perm in _routes(world):
        if perm is None:
            continue
        url = re.sub(r"\{[^}]+\}", "0" * 32, path)
        for role in Role:
            if allowed(role, perm):
                continue
            r = world.client.request(method, url, headers=t.h(role.value), json={})
            checked += 1
            if r.status_code != 403 or error_code(r) != "auth.forbidden":
                failures.append((method, path, role.value, r.status_code))
    assert checked > 150
    assert failures == []


def test_unauthenticated_calls_answer_401(world: World) -> None:
    for method, path, perm in _routes(world):
        if perm is None:
            continue
        r = world.client.request(method, re.sub(r"\{[^}]+\}", "x", path))
        assert r.status_code == 401, (method, path)
        assert error_code(r) == "auth.missing_token"


def test_least_privilege_table() -> None:
    # only platform operators manage tenants, and they see no tenant data
    assert ROLE_PERMISSIONS[Role.PLATFORM_ADMIN] == frozenset({"tenants.manage"})
    for role in Role:
        if role is not Role.TENANT_ADMIN:
            assert "cdr.export" not in ROLE_PERMISSIONS[role]
            assert "contacts.read_pii" not in ROLE_PERMISSIONS[role]
    assert not allowed(Role.AGENT, "contacts.write") and not allowed(Role.QA, "calls.create")
    assert may_grant(Role.TENANT_ADMIN, Role.SUPERVISOR) and not may_grant(Role.SUPERVISOR, Role.TENANT_ADMIN)
    assert not may_grant(Role.TENANT_ADMIN, Role.PLATFORM_ADMIN)
