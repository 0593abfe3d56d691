"""Agents, agent groups and the live desk: log in, ready, pause, log out, wrap up, previews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, need, page_params
from waihu.api.schemas import Accepted, Page, Strict, page
from waihu.domain.errors import Conflict, Forbidden, NotFound
from waihu.domain.messages import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReadied,
    Event,
    PreviewAnswered,
    WrapUpEnded,
)
from waihu.service import directory as dr
from waihu.service.live_sip import account_binding
from waihu.service.sip_lines import SIP_REALM, issue_sip_account, remove_sip_account

router = APIRouter(prefix="/v1")


class AgentIn(Strict):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    groups: list[str] = Field(default_factory=list, max_length=50)
    phone: str | None = Field(None, min_length=5, max_length=255, examples=["sip:1001@10.0.0.5:5060"],
                              description="The SIP phone called when the agent logs in to a dialer on SIP trunks.")


class AgentPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    groups: list[str] | None = Field(None, max_length=50)
    phone: str | None = Field(None, min_length=5, max_length=255, description="SIP phone; null removes it.")


class AgentOut(BaseModel):
    id: str
    code: str
    name: str
    groups: list[Any]
    simulated: bool
    created_at: str | None
    phone: str | None = Field(description="SIP phone (sip:ext@host:port) or null")
    sip_user: str | None = Field(None, description="The SIP account its phone registers with, or null "
                                 "(POST /v1/agents/{id}/sip-account issues one).")


class SipAccountIssued(BaseModel):
    username: str
    password: str = Field(description="Shown this once; issue a new account to change it.")
    realm: str


class SipAccountOut(BaseModel):
    username: str
    realm: str
    registered: bool = Field(description="A phone is registered with this server's SIP registrar now.")
    registered_until: float | None = Field(description="When the registration runs out (Unix time), or null.")
    contact: str | None = Field(description="Where the registered phone is called at login, or null.")


class GroupIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=1000)


class GroupPatch(Strict):
    description: str | None = Field(None, max_length=1000)


class GroupOut(BaseModel):
    id: str
    name: str
    description: str | None
    created_at: str | None


class PauseIn(Strict):
    reason: str = Field("break", min_length=1, max_length=50)


class WrapUpIn(Strict):
    call_id: str = Field(min_length=1, max_length=32)
    disposition: str = Field(min_length=1, max_length=50)
    note: str | None = Field(None, max_length=2000)
    callback_at: datetime | None = None
    personal_callback: bool = False
    then_pause: bool = False


class PreviewIn(Strict):
    contact_id: str = Field(min_length=1, max_length=32)
    accept: bool


class LiveAgent(BaseModel):
    agent_id: str
    state: str
    since: float
    call_id: str | None
    campaign_id: str | None
    reason: str | None
    offer: dict[str, Any] | None


class LiveCounters(BaseModel):
    campaigns: dict[str, dict[str, Any]]


# ---------------------------------------------------------------- agents
@router.get("/agents", response_model=Page[AgentOut], tags=["agents"])
def agents(group: str | None = Query(None, max_length=100), pp: PageParams = Depends(page_params),
           ctx: Ctx = need("agents.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = dr.list_agents(uow, group=group, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([dr.agent_dict(a) for a in rows], cur)


@router.post("/agents", response_model=AgentOut, status_code=201, tags=["agents"])
def agent_create(body: AgentIn, ctx: Ctx = need("agents.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        a = dr.create_agent(uow, body.code, body.name, body.groups, ctx.now(), phone=body.phone)
        uow.commit()
        return dr.agent_dict(a)


@router.get("/agents/{agent_id}", response_model=AgentOut, tags=["agents"])
def agent_get(agent_id: str, ctx: Ctx = need("agents.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return dr.agent_dict(dr.get_agent(uow, agent_id))


@router.patch("/agents/{agent_id}", response_model=AgentOut, tags=["agents"])
def agent_patch(agent_id: str, body: AgentPatch, ctx: Ctx = need("agents.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        a = dr.update_agent(uow, dr.get_agent(uow, agent_id), body.model_dump(exclude_unset=True), ctx.now())
        uow.commit()
        return dr.agent_dict(a)


@router.delete("/agents/{agent_id}", status_code=204, tags=["agents"])
def agent_delete(agent_id: str, ctx: Ctx = need("agents.manage")) -> None:
    with ctx.uow() as uow:
        dr.delete_agent(uow, dr.get_agent(uow, agent_id), ctx.now())
        uow.commit()


@router.post("/agents/{agent_id}/sip-account", response_model=SipAccountIssued, status_code=201, tags=["agents"])
def agent_sip_account_issue(agent_id: str, ctx: Ctx = need("agents.manage")) -> dict[str, str]:
    """A new SIP account for the agent's softphone (replacing the agent's current one)."""
    with ctx.uow() as uow:
        a = dr.get_agent(uow, agent_id)
        old = a.sip_user
        issued = issue_sip_account(uow, ctx.now(), a)
        uow.commit()
    _forget(ctx, old)
    return issued


def _forget(ctx: Ctx, sip_user: str | None) -> None:
    """A replaced or removed account: the running registrar drops its cache entry and binding."""
    if sip_user is not None and ctx.live is not None and ctx.live.sip is not None:
        ctx.live.sip.stack.call(ctx.live.sip.registrar.forget, sip_user)


@router.get("/agents/{agent_id}/sip-account", response_model=SipAccountOut, tags=["agents"])
def agent_sip_account(agent_id: str, ctx: Ctx = need("agents.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        a = dr.get_agent(uow, agent_id)
    if a.sip_user is None:
        raise NotFound("agent.no_sip_account", "the agent has no SIP account")
    registrar = ctx.live.sip.registrar if ctx.live is not None and ctx.live.sip is not None else None
    b = account_binding(registrar, ctx.tenant_id, a.id, a.sip_user)
    return {"username": a.sip_user, "realm": SIP_REALM, "registered": b is not None,
            "registered_until": b.expires_at if b else None, "contact": b.uri if b else None}


@router.delete("/agents/{agent_id}/sip-account", status_code=204, tags=["agents"])
def agent_sip_account_remove(agent_id: str, ctx: Ctx = need("agents.manage")) -> None:
    with ctx.uow() as uow:
        a = dr.get_agent(uow, agent_id)
        old = a.sip_user
        remove_sip_account(uow, ctx.now(), a)
        uow.commit()
    _forget(ctx, old)


# ---------------------------------------------------------------- groups
@router.get("/agent-groups", response_model=Page[GroupOut], tags=["agents"])
def groups(pp: PageParams = Depends(page_params), ctx: Ctx = need("agents.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = dr.list_groups(uow, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([dr.group_dict(g) for g in rows], cur)


@router.post("/agent-groups", response_model=GroupOut, status_code=201, tags=["agents"])
def group_create(body: GroupIn, ctx: Ctx = need("agents.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        g = dr.create_group(uow, body.name, body.description, ctx.now())
        uow.commit()
        return dr.group_dict(g)


@router.get("/agent-groups/{group_id}", response_model=GroupOut, tags=["agents"])
def group_get(group_id: str, ctx: Ctx = need("agents.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return dr.group_dict(dr.get_group(uow, group_id))


@router.patch("/agent-groups/{group_id}", response_model=GroupOut, tags=["agents"])
def group_patch(group_id: str, body: GroupPatch, ctx: Ctx = need("agents.manage")) -> dict[str, Any]:
    with ctx.uow() as uow:
        g = dr.get_group(uow, group_id)
        if "description" in body.model_fields_set:
            g.description = body.description
        uow.commit()
        return dr.group_dict(g)


@router.delete("/agent-groups/{group_id}", status_code=204, tags=["agents"])
def group_delete(group_id: str, ctx: Ctx = need("agents.manage")) -> None:
    with ctx.uow() as uow:
        uow.session.delete(dr.get_group(uow, group_id))
        uow.commit()


# ---------------------------------------------------------------- the live desk
def _desk(ctx: Ctx, agent_id: str, make: Any) -> dict[str, bool]:
    """Queue an event for one agent: one's own agent (desk.use) or anyone's (agents.control)."""
    if agent_id != ctx.principal.agent_id and not ctx.can("agents.control"):
        raise Forbidden("auth.forbidden", "you may act only for your own agent")
    with ctx.uow() as uow:
        a = dr.get_agent(uow, agent_id)
        event: Event = make(a)
    if ctx.live is None:
        raise Conflict("live.unavailable", "the dialer runtime is not running in this process")
    if isinstance(event, AgentLoggedIn):
        ctx.live.check_login(ctx.tenant_id, a)
    ctx.live.submit(ctx.tenant_id, ctx.live.feed(ctx.tenant_id, event))
    return {"accepted": True}


@router.post("/agents/{agent_id}/login", response_model=Accepted, status_code=202, tags=["desk"])
def agent_login(agent_id: str, ctx: Ctx = need("desk.use")) -> dict[str, bool]:
    return _desk(ctx, agent_id, lambda a: AgentLoggedIn(a.id, frozenset(a.groups)))


@router.post("/agents/{agent_id}/ready", response_model=Accepted, status_code=202, tags=["desk"])
def agent_ready(agent_id: str, ctx: Ctx = need("desk.use")) -> dict[str, bool]:
    return _desk(ctx, agent_id, lambda a: AgentReadied(a.id))


@router.post("/agents/{agent_id}/pause", response_model=Accepted, status_code=202, tags=["desk"])
def agent_pause(agent_id: str, body: PauseIn, ctx: Ctx = need("desk.use")) -> dict[str, bool]:
    return _desk(ctx, agent_id, lambda a: AgentPaused(a.id, body.reason))


@router.post("/agents/{agent_id}/logout", response_model=Accepted, status_code=202, tags=["desk"])
def agent_logout(agent_id: str, ctx: Ctx = need("desk.use")) -> dict[str, bool]:
    return _desk(ctx, agent_id, lambda a: AgentLoggedOut(a.id))


@router.post("/agents/{agent_id}/wrap-up", response_model=Accepted, status_code=202, tags=["desk"])
def agent_wrap_up(agent_id: str, body: WrapUpIn, ctx: Ctx = need("desk.use")) -> dict[str, bool]:
    """End the wrap-up of a call with a disposition (and an optional callback)."""
    cb = body.callback_at.timestamp() if body.callback_at is not None else None
    return _desk(ctx, agent_id, lambda a: WrapUpEnded(a.id, body.call_id, body.disposition, body.note, cb,
                                                      body.personal_callback, body.then_pause))


@router.post("/agents/{agent_id}/preview", response_model=Accepted, status_code=202, tags=["desk"])
def agent_preview(agent_id: str, body: PreviewIn, ctx: Ctx = need("desk.use")) -> dict[str, bool]:
    """Accept (dial now) or skip the contact offered in preview mode."""
    return _desk(ctx, agent_id, lambda a: PreviewAnswered(a.id, body.contact_id, body.accept))


@router.get("/live/agents", response_model=list[LiveAgent], tags=["desk"])
def live_agents(ctx: Ctx = need("live.read")) -> list[dict[str, Any]]:
    """Agents as the dialer sees them now."""
    return ctx.live.agents(ctx.tenant_id) if ctx.live else []


@router.get("/live/agents/{agent_id}", response_model=LiveAgent, tags=["desk"])
def live_agent(agent_id: str, ctx: Ctx = need("desk.use")) -> dict[str, Any]:
    """One agent's live state (one's own, or anyone's with agents.control)."""
    if agent_id != ctx.principal.agent_id and not ctx.can("agents.control"):
        raise Forbidden("auth.forbidden", "you may see only your own agent")
    a = ctx.live.agent(ctx.tenant_id, agent_id) if ctx.live else None
    if a is None:
        raise NotFound("agent.not_logged_in", "the agent is not logged in")
    return a


@router.get("/live/campaigns", response_model=LiveCounters, tags=["desk"])
def live_campaigns(ctx: Ctx = need("live.read")) -> dict[str, Any]:
    """Counters of the running campaigns since this process started."""
    return {"campaigns": ctx.live.counters(ctx.tenant_id) if ctx.live else {}}
