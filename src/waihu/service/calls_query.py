"""Calls and CDRs as the API shows them: filtered, paged, tenant-scoped, numbers masked unless
the caller may see them; an agent sees only their own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Cdr, ContactPhone, DispositionRecord
from waihu.adapters.storage.models_api import CallRequest
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import NotFound
from waihu.domain.phone import PhoneNumber
from waihu.service.accounts import iso
from waihu.service.paging import paginate


def cdr_dicts(uow: UnitOfWork, rows: Sequence[Cdr], pii: bool) -> list[dict[str, Any]]:
    """A page of CDRs with their numbers and dispositions, in two extra queries."""
    tid = uow.tenant_id
    sealed: dict[str, bytes] = {r[0]: r[1] for r in uow.session.execute(
        select(ContactPhone.id, ContactPhone.phone_sealed).where(
            ContactPhone.tenant_id == tid, ContactPhone.id.in_({c.phone_id for c in rows})))}
    disps: dict[str, str] = {r[0]: r[1] for r in uow.session.execute(
        select(DispositionRecord.call_id, DispositionRecord.code).where(
            DispositionRecord.tenant_id == tid, DispositionRecord.call_id.in_([c.id for c in rows])))}
    out = []
    for c in rows:
        blob = sealed.get(c.phone_id)
        if blob is None:
            phone = "(erased)"
        else:
            n = PhoneNumber(uow.codec.open(tid, blob))
            phone = n.e164 if pii else n.masked()
        out.append(_cdr(c, phone, disps.get(c.id)))
    return out


def cdr_dict(uow: UnitOfWork, c: Cdr, pii: bool) -> dict[str, Any]:
    return cdr_dicts(uow, [c], pii)[0]


def _cdr(c: Cdr, phone: str | None, disp: str | None) -> dict[str, Any]:
    return {"call_id": c.id, "campaign_id": c.campaign_id, "contact_id": c.contact_id,
            "phone": phone, "attempt": c.attempt, "mode": c.mode,
            "dial_at": iso(c.dial_at), "ring_at": iso(c.ring_at), "answer_at": iso(c.answer_at),
            "bridge_at": iso(c.bridge_at), "end_at": iso(c.end_at), "outcome": c.outcome,
            "loss_cause": c.loss_cause, "sip_code": c.sip_code, "agent_id": c.agent_id, "trunk_id": c.trunk_id,
            "caller_id": c.caller_id, "route_reason": c.route_reason, "chain_id": c.chain_id,
            "hangup_by": c.hangup_by, "talk_seconds": float(c.talk_seconds), "disposition": disp}


def list_cdrs(uow: UnitOfWork, *, since: datetime | None, until: datetime | None, campaign_id: str | None,
              outcome: str | None, agent_id: str | None, contact_id: str | None, sort: str | None,
              cursor: str | None, limit: int) -> tuple[Sequence[Cdr], str | None]:
    q = select(Cdr).where(Cdr.tenant_id == uow.tenant_id)
    for col, v in ((Cdr.campaign_id, campaign_id), (Cdr.outcome, outcome), (Cdr.agent_id, agent_id),
                   (Cdr.contact_id, contact_id)):
        if v is not None:
            q = q.where(col == v)
    if since is not None:
        q = q.where(Cdr.dial_at >= since)
    if until is not None:
        q = q.where(Cdr.dial_at < until)
    return paginate(uow.session, q, {"dial_at": Cdr.dial_at, "end_at": Cdr.end_at}, Cdr.id, sort=sort,
                    default="-dial_at", cursor=cursor, limit=limit)


def get_cdr(uow: UnitOfWork, call_id: str, agent_id: str | None = None) -> Cdr:
    c = uow.session.get(Cdr, call_id)
    if c is None or c.tenant_id != uow.tenant_id or (agent_id is not None and c.agent_id != agent_id):
        raise NotFound("call.not_found", "no such call")
    return c


def request_dict(r: CallRequest, live: dict[str, Any] | None) -> dict[str, Any]:
    status = r.status
    if live is not None and status not in ("rejected", "held"):
        status = live["status"]
    return {"call_id": r.id, "campaign_id": r.campaign_id, "contact_id": r.contact_id, "agent_id": r.agent_id,
            "script_id": r.script_id, "auto_dial": r.auto_dial, "status": status, "error_code": r.error_code,
            "outcome": live.get("outcome") if live else None, "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at)}


def list_requests(uow: UnitOfWork, *, campaign_id: str | None, status: str | None, agent_id: str | None,
                  sort: str | None, cursor: str | None, limit: int, since: datetime | None = None,
                  until: datetime | None = None) -> tuple[Sequence[CallRequest], str | None]:
    q = select(CallRequest).where(CallRequest.tenant_id == uow.tenant_id)
    for col, v in ((CallRequest.campaign_id, campaign_id), (CallRequest.status, status),
                   (CallRequest.agent_id, agent_id)):
        if v is not None:
            q = q.where(col == v)
    if since is not None:
        q = q.where(CallRequest.created_at >= since)
    if until is not None:
        q = q.where(CallRequest.created_at < until)
    return paginate(uow.session, q, {"created_at": CallRequest.created_at}, CallRequest.id, sort=sort,
                    default="-created_at", cursor=cursor, limit=limit)


def get_call(uow: UnitOfWork, call_id: str, live: dict[str, Any] | None, pii: bool,
             agent_id: str | None = None) -> dict[str, Any]:
    """A call by id: the API request (if it was one) with its CDR once the call ended."""
    r = uow.session.get(CallRequest, call_id)
    cdr = uow.session.get(Cdr, call_id)
    if cdr is not None and cdr.tenant_id != uow.tenant_id:
        cdr = None
    if r is not None and r.tenant_id != uow.tenant_id:
        r = None
    if r is None and cdr is None:
        raise NotFound("call.not_found", "no such call")
    if agent_id is not None and (r.agent_id if r is not None else cdr.agent_id if cdr else None) != agent_id:
        raise NotFound("call.not_found", "no such call")
    if r is not None and cdr is not None and cdr.chain_id == cdr.id:
        # a requested call lost on the line went out again on another trunk: the request is
        # its latest attempt, ended once the request says so
        cdr = uow.session.scalars(select(Cdr).where(Cdr.tenant_id == uow.tenant_id, Cdr.chain_id == call_id)
                                  .order_by(Cdr.dial_at.desc(), Cdr.end_at.desc()).limit(1)).first()
        if r.status != "ended":
            cdr = None
    if r is not None:
        doc = request_dict(r, live)
    else:
        assert cdr is not None
        doc = {"call_id": cdr.id, "campaign_id": cdr.campaign_id, "contact_id": cdr.contact_id,
               "agent_id": cdr.agent_id, "script_id": None, "auto_dial": True, "status": "ended",
               "error_code": None, "outcome": cdr.outcome, "created_at": iso(cdr.dial_at),
               "updated_at": iso(cdr.end_at)}
    if cdr is not None:
        doc["status"] = "ended"
        doc["outcome"] = cdr.outcome
    doc["cdr"] = cdr_dict(uow, cdr, pii) if cdr is not None else None
    return doc
