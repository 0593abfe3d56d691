"""Administration pages: the do-not-call list, users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from waihu.domain.permissions import TENANT_ROLES, Role, may_grant
from waihu.service import accounts as ac
from waihu.service import directory as dr
from waihu.service.auth import create_token, create_user
from waihu.web.session import page_of

router = APIRouter()


# ---------------------------------------------------------------- do-not-call
@router.get("/dnc")
def dnc(request: Request, phone: str = "") -> Response:
    pg = page_of(request)
    pg.need("dnc.read")
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = dr.list_dnc(uow, phone=phone or None, sort="-created_at", cursor=None, limit=200)
        items = [dr.dnc_dict(d) for d in rows]
    return pg.render("dnc.html", items=items, phone=phone)


@router.post("/dnc")
def dnc_add(request: Request, csrf: str = Form(""), phone: str = Form(..., max_length=40),
            reason: str = Form("", max_length=200)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("dnc.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        d = dr.add_dnc(uow, phone, reason or None, pg.now())
        uow.commit()
    if pg.live is not None:
        pg.live.dnc_changed(pg.tenant_id, [d.phone_hash])
    return RedirectResponse("/dnc", status_code=303)


@router.post("/dnc/{entry_id}/remove")
def dnc_remove(entry_id: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("dnc.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        dr.remove_dnc(uow, entry_id, pg.now())
        uow.commit()
    if pg.live is not None:
        pg.live.dnc_changed(pg.tenant_id, [entry_id])
    return RedirectResponse("/dnc", status_code=303)


# ---------------------------------------------------------------- users
def _grantable(role: Role) -> list[str]:
    return sorted(r.value for r in TENANT_ROLES if may_grant(role, r))


@router.get("/users")
def users(request: Request) -> Response:
    pg = page_of(request)
    pg.need("users.read")
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = ac.list_users(uow, role=None, sort=None, cursor=None, limit=500)
        items = [ac.user_dict(u) for u in rows]
        agents = [dr.agent_dict(a) for a in dr.list_agents(uow, group=None, sort=None, cursor=None, limit=500)[0]]
    return pg.render("users.html", items=items, agents=agents, roles=_grantable(pg.who.role))


@router.post("/users")
def user_create(request: Request, csrf: str = Form(""), username: str = Form(..., max_length=100),
                password: str = Form(..., max_length=200), role: str = Form(..., max_length=30),
                agent_id: str = Form("", max_length=32)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("users.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        if agent_id:
            ac.check_agent(uow, agent_id)
        create_user(uow, username, password, role, pg.now(), agent_id=agent_id or None, granter=pg.who.role)
        uow.commit()
    return RedirectResponse("/users", status_code=303)


# ---------------------------------------------------------------- API tokens
@router.get("/tokens")
def tokens(request: Request) -> Response:
    pg = page_of(request)
    pg.need("tokens.manage")
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = ac.list_tokens(uow, sort="-created_at", cursor=None, limit=500)
        items = [ac.token_dict(t) for t in rows]
    return pg.render("tokens.html", items=items, roles=_grantable(pg.who.role), new_token=None)


@router.post("/tokens")
def token_create(request: Request, csrf: str = Form(""), name: str = Form(..., max_length=100),
                 role: str = Form(..., max_length=30)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("tokens.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        _, secret = create_token(uow, name, role, pg.now(), granter=pg.who.role, created_by=pg.who.actor)
        uow.commit()
        rows, _ = ac.list_tokens(uow, sort="-created_at", cursor=None, limit=500)
        items = [ac.token_dict(t) for t in rows]
    resp = pg.render("tokens.html", items=items, roles=_grantable(pg.who.role), new_token=secret)
    resp.headers["Cache-Control"] = "no-store"  # the token is shown once
    return resp


@router.post("/tokens/{token_id}/revoke")
def token_revoke(token_id: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("tokens.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ac.revoke_token(uow, token_id, pg.now())
        uow.commit()
    return RedirectResponse("/tokens", status_code=303)
