"""The agent desktop's customer search and click-to-call."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from waihu.domain.errors import Forbidden, ValidationError
from waihu.domain.permissions import SELF_SCOPED
from waihu.service import customers as cu
from waihu.service.outbound import OutboundRequest, request_call
from waihu.web.session import page_of

router = APIRouter()


@router.get("/search")
def search(request: Request, q: str = "", tag: str = "") -> Response:
    """Customers by name, external id or tag (an agent: only the assigned ones), numbers masked
    unless the role may see them."""
    pg = page_of(request)
    pg.need("contacts.read")
    agent = (pg.who.agent_id or "-") if pg.who.role in SELF_SCOPED else None
    items = []
    if q.strip() or tag.strip():
        with pg.platform.uow(pg.tenant_id) as uow:
            rows, _ = cu.search(uow, q=q.strip()[:100] or None, phone=None, tag=tag.strip()[:50] or None,
                                campaign_id=None, agent_id=agent, sort=None, cursor=None, limit=50)
            items = [cu.contact_dict(uow, c, pg.can("contacts.read_pii")) for c in rows]
    return pg.render("search.html", items=items, q=q, tag=tag)


@router.post("/call")
def click_to_call(request: Request, csrf: str = Form(""), contact_id: str = Form("", max_length=32),
                  phone: str = Form("", max_length=40)) -> Response:
    """Dial a customer (or a typed number) now for one's own agent; the number never reaches the page."""
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("calls.create")
    if pg.who.agent_id is None:
        raise Forbidden("auth.no_agent", "this login is not linked to an agent")
    agent = pg.who.agent_id if pg.who.role in SELF_SCOPED else None
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        if contact_id:
            c = cu.get_contact(uow, contact_id, agent)
            phones = cu.contact_dict(uow, c, True)["phones"]
            if not phones:
                raise ValidationError("contact.no_phone", "the customer has no number")
            phone = phones[0]["phone"]
        if not phone:
            raise ValidationError("call.no_phone", "give a number or a customer")
        request_call(pg.platform, pg.live, uow, OutboundRequest(phone, None, pg.who.agent_id), pg.now())
    return RedirectResponse("/desk", status_code=303)
