"""The agent desktop, the supervisor wallboard and their server-sent event feed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from waihu.domain.errors import Conflict, Forbidden
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
from waihu.service.live import LiveHost
from waihu.web.screen import screen_pop, wallboard_view
from waihu.web.session import Page, page_of

router = APIRouter()
KEEPALIVE = 15.0


def _agent_view(pg: Page, live: LiveHost | None, agent_id: str) -> dict[str, Any] | None:
    a = live.agent(pg.tenant_id, agent_id) if live else None
    if a is not None and live is not None:
        a["elapsed"] = max(0.0, live.virtual_now() - float(a["since"]))
    return a


def _desk_ctx(pg: Page) -> dict[str, Any]:
    aid = pg.who.agent_id
    a = _agent_view(pg, pg.live, aid) if aid else None
    pop = screen_pop(pg, a) if a is not None else None
    return {"agent_id": aid, "a": a, "pop": pop, "live_on": pg.live is not None}


@router.get("/desk")
def desk(request: Request) -> Response:
    pg = page_of(request)
    pg.need("desk.use")
    return pg.render("desk.html", **_desk_ctx(pg))


@router.get("/desk/panel")
def desk_panel(request: Request) -> Response:
    pg = page_of(request)
    pg.need("desk.use")
    return pg.render("desk_panel.html", **_desk_ctx(pg))


def _feed(pg: Page, agent_id: str, event: Event) -> None:
    if pg.live is None:
        raise Conflict("live.unavailable", "the dialer runtime is not running in this process")
    pg.live.submit(pg.tenant_id, pg.live.feed(pg.tenant_id, event))


def _own_agent(pg: Page, agent_id: str | None) -> Any:
    if agent_id is None:
        raise Forbidden("auth.no_agent", "this login is not linked to an agent")
    with pg.platform.uow(pg.tenant_id) as uow:
        a = dr.get_agent(uow, agent_id)
        return a.id, frozenset(a.groups)


@router.post("/desk/state")
def desk_state(request: Request, csrf: str = Form(""), to: str = Form(..., max_length=20),
               reason: str = Form("break", max_length=50)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("desk.use")
    aid, groups = _own_agent(pg, pg.who.agent_id)
    ev: Event
    if to == "login":
        if pg.live is not None:  # over SIP trunks the agent takes calls on a phone: refused now without one
            with pg.platform.uow(pg.tenant_id) as uow:
                pg.live.check_login(pg.tenant_id, dr.get_agent(uow, aid))
        ev = AgentLoggedIn(aid, groups)
    elif to == "ready":
        ev = AgentReadied(aid)
    elif to == "break":
        ev = AgentPaused(aid, reason or "break")
    else:
        ev = AgentLoggedOut(aid)
    _feed(pg, aid, ev)
    return RedirectResponse("/desk", status_code=303)


@router.post("/desk/wrap-up")
def desk_wrap_up(request: Request, csrf: str = Form(""), call_id: str = Form(..., max_length=32),
                 disposition: str = Form(..., max_length=50), note: str = Form("", max_length=2000),
                 callback_at: str = Form("", max_length=40), personal: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("desk.use")
    aid, _ = _own_agent(pg, pg.who.agent_id)
    cb = None
    if callback_at:
        from zoneinfo import ZoneInfo

        cb = datetime.fromisoformat(callback_at).replace(tzinfo=ZoneInfo(pg.tz)).timestamp()
    _feed(pg, aid, WrapUpEnded(aid, call_id, disposition, note or None, cb, bool(personal)))
    return RedirectResponse("/desk", status_code=303)


@router.post("/desk/preview")
def desk_preview(request: Request, csrf: str = Form(""), contact_id: str = Form(..., max_length=32),
                 accept: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("desk.use")
    aid, _ = _own_agent(pg, pg.who.agent_id)
    _feed(pg, aid, PreviewAnswered(aid, contact_id, accept == "1"))
    return RedirectResponse("/desk", status_code=303)


# ---------------------------------------------------------------- wallboard
@router.get("/wallboard")
def wallboard(request: Request) -> Response:
    pg = page_of(request)
    pg.need("live.read")
    return pg.render("wallboard.html", **wallboard_view(pg))


@router.get("/wallboard/panel")
def wallboard_panel(request: Request) -> Response:
    pg = page_of(request)
    pg.need("live.read")
    return pg.render("wallboard_panel.html", **wallboard_view(pg))


@router.post("/wallboard/agents/{agent_id}/{action}")
def force_agent(agent_id: str, action: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("agents.control")
    with pg.platform.uow(pg.tenant_id) as uow:
        aid = dr.get_agent(uow, agent_id).id
    ev: Event = AgentPaused(aid, "supervisor") if action == "break" else AgentLoggedOut(aid)
    _feed(pg, aid, ev)
    return RedirectResponse("/wallboard", status_code=303)


# ---------------------------------------------------------------- server-sent events
@router.get("/events")
async def events(request: Request) -> Response:
    """Changes of the caller's tenant as server-sent events: every change for live.read, one's own
    agent for an agent. The page re-renders its panel on each event."""
    pg = page_of(request)
    if not pg.can("live.read"):
        pg.need("desk.use")
    live = pg.live
    tid, own = pg.tenant_id, (None if pg.can("live.read") else pg.who.agent_id or "-")
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
    loop = asyncio.get_running_loop()

    def put(doc: dict[str, Any]) -> None:
        if not queue.full():
            queue.put_nowait(doc)

    def listener(tenant_id: str, kind: str, doc: dict[str, Any]) -> None:
        if tenant_id != tid or (own is not None and (kind != "agent" or doc.get("agent_id") != own)):
            return
        loop.call_soon_threadsafe(put, {"kind": kind, "id": doc.get("agent_id") or doc.get("campaign_id")})

    stop = live.listen(listener) if live is not None else (lambda: None)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                try:
                    doc = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                yield f"event: {doc['kind']}\ndata: {json.dumps(doc)}\n\n"
        finally:
            stop()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
