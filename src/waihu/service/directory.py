"""Agents and agent groups, the tenant's DNC list as the API shows it, dispositions and the audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select

from waihu.adapters.storage.compliance_repo import add_dnc_keys, note_dnc_change
from waihu.adapters.storage.models import Agent, AuditEntry, DispositionRecord
from waihu.adapters.storage.models_api import AgentGroup, User
from waihu.adapters.storage.models_compliance import GLOBAL, DncEntry
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import Conflict, NotFound, ValidationError
from waihu.domain.timeutil import opt_dt, to_dt
from waihu.service.accounts import iso
from waihu.service.campaigns import get_campaign
from waihu.service.dnc import check_expiry, check_source
from waihu.service.outbound import phone_info
from waihu.service.paging import paginate
from waihu.service.sip_lines import set_agent_phone
from waihu.service.tenants import audit


# ---------------------------------------------------------------- agents
def agent_dict(a: Agent) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "name": a.name, "groups": a.groups, "simulated": a.simulated,
            "created_at": iso(a.created_at), "phone": a.phone_uri, "sip_user": a.sip_user}


def get_agent(uow: UnitOfWork, agent_id: str) -> Agent:
    a = uow.session.get(Agent, agent_id)
    if a is None or a.tenant_id != uow.tenant_id:
        raise NotFound("agent.not_found", "no such agent")
    return a


def agent_by_code(uow: UnitOfWork, code: str) -> Agent:
    a = uow.session.scalar(select(Agent).where(Agent.tenant_id == uow.tenant_id, Agent.code == code))
    if a is None:
        raise NotFound("agent.not_found", "no such agent")
    return a


def list_agents(uow: UnitOfWork, *, group: str | None, sort: str | None, cursor: str | None,
                limit: int) -> tuple[Sequence[Agent], str | None]:
    q = select(Agent).where(Agent.tenant_id == uow.tenant_id)
    if group is not None:
        q = q.where(cast(Agent.groups, String).contains(json.dumps(group, ensure_ascii=False), autoescape=True))
    return paginate(uow.session, q, {"created_at": Agent.created_at, "code": Agent.code}, Agent.id,
                    sort=sort, default="code", cursor=cursor, limit=limit)


def create_agent(uow: UnitOfWork, code: str, name: str, groups: list[str], now: float, *,
                 phone: str | None = None) -> Agent:
    if uow.session.scalar(select(Agent.id).where(Agent.tenant_id == uow.tenant_id, Agent.code == code)):
        raise Conflict("agent.code_taken", "an agent with this code exists")
    a = Agent(id=uow.new_id(), tenant_id=uow.tenant_id, code=code, name=name, groups=sorted(set(groups)),
              simulated=False, created_at=to_dt(now))
    uow.session.add(a)
    uow.session.flush()
    audit(uow, "agent.create", "agent", a.id, now, code=code)
    if phone is not None:
        set_agent_phone(uow, now, a, phone)
    return a


def update_agent(uow: UnitOfWork, a: Agent, changes: dict[str, Any], now: float) -> Agent:
    if changes.get("name") is not None:
        a.name = changes["name"]
    if changes.get("groups") is not None:
        a.groups = sorted(set(changes["groups"]))
    if "phone" in changes:
        set_agent_phone(uow, now, a, changes["phone"])
    audit(uow, "agent.update", "agent", a.id, now, fields=sorted(changes))
    return a


def delete_agent(uow: UnitOfWork, a: Agent, now: float) -> None:
    if uow.session.scalar(select(User.id).where(User.tenant_id == uow.tenant_id, User.agent_id == a.id)):
        raise Conflict("agent.in_use", "a user acts as this agent; change the user first")
    uow.session.delete(a)
    audit(uow, "agent.delete", "agent", a.id, now, code=a.code)


# ---------------------------------------------------------------- groups
def group_dict(g: AgentGroup) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "description": g.description, "created_at": iso(g.created_at)}


def get_group(uow: UnitOfWork, group_id: str) -> AgentGroup:
    g = uow.session.get(AgentGroup, group_id)
    if g is None or g.tenant_id != uow.tenant_id:
        raise NotFound("group.not_found", "no such agent group")
    return g


def list_groups(uow: UnitOfWork, *, sort: str | None, cursor: str | None,
                limit: int) -> tuple[Sequence[AgentGroup], str | None]:
    q = select(AgentGroup).where(AgentGroup.tenant_id == uow.tenant_id)
    return paginate(uow.session, q, {"name": AgentGroup.name, "created_at": AgentGroup.created_at}, AgentGroup.id,
                    sort=sort, default="name", cursor=cursor, limit=limit)


def create_group(uow: UnitOfWork, name: str, description: str | None, now: float) -> AgentGroup:
    if uow.session.scalar(select(AgentGroup.id).where(AgentGroup.tenant_id == uow.tenant_id,
                                                      AgentGroup.name == name)):
        raise Conflict("group.name_taken", "a group with this name exists")
    g = AgentGroup(id=uow.new_id(), tenant_id=uow.tenant_id, name=name, description=description,
                   created_at=to_dt(now))
    uow.session.add(g)
    uow.session.flush()
    audit(uow, "group.create", "agent_group", g.id, now, name=name)
    return g


# ---------------------------------------------------------------- the tenant's DNC list (API and console)
def dnc_dict(d: DncEntry) -> dict[str, Any]:
    """An entry as the API shows it: its id is the number's blind index, never the number."""
    return {"id": d.phone_hash, "phone": d.masked or "", "reason": d.note, "source": d.source,
            "scope": "tenant" if d.campaign_id == GLOBAL else f"campaign:{d.campaign_id}",
            "campaign_id": d.campaign_id or None, "expires_at": iso(d.expires_at), "created_at": iso(d.created_at)}


def _scope(uow: UnitOfWork, campaign_id: str | None) -> str:
    return get_campaign(uow, campaign_id).id if campaign_id else GLOBAL


def add_dnc(uow: UnitOfWork, raw: str, reason: str | None, now: float, *, source: str = "customer_request",
            expires_at: float | None = None, campaign_id: str | None = None) -> DncEntry:
    """Add one number to the tenant's list (or a campaign's): the same list the dialer screens with."""
    problems = check_expiry(expires_at, now) + check_source(source)
    if problems:
        raise ValidationError("dnc.invalid", "nothing was added to the DNC list", problems)
    info = phone_info(raw)
    h = uow.codec.phone_hash(info.phone.e164)
    cid = _scope(uow, campaign_id)
    if uow.session.get(DncEntry, (h, uow.tenant_id, cid)) is not None:
        raise Conflict("dnc.exists", "the number is already on the list")
    d = DncEntry(phone_hash=h, tenant_id=uow.tenant_id, campaign_id=cid, source=source,
                 expires_at=opt_dt(expires_at), created_at=to_dt(now), masked=info.phone.masked(), note=reason,
                 created_by=uow.actor)
    uow.session.add(d)
    uow.session.flush()
    add_dnc_keys(uow.session.connection(), [h])
    note_dnc_change(uow.session.connection(), uow.tenant_id, [h], now)
    audit(uow, "dnc.add", "dnc", h, now, scope="tenant" if not cid else f"campaign:{cid}", source=source)
    return d


def list_dnc(uow: UnitOfWork, *, phone: str | None, sort: str | None, cursor: str | None, limit: int,
             campaign_id: str | None = None) -> tuple[Sequence[DncEntry], str | None]:
    q = select(DncEntry).where(DncEntry.tenant_id == uow.tenant_id, DncEntry.campaign_id == _scope(uow, campaign_id))
    if phone:
        q = q.where(DncEntry.phone_hash == uow.codec.phone_hash(phone_info(phone).phone.e164))
    return paginate(uow.session, q, {"created_at": DncEntry.created_at}, DncEntry.phone_hash, sort=sort,
                    default="-created_at", cursor=cursor, limit=limit)


def remove_dnc(uow: UnitOfWork, entry_id: str, now: float, *, campaign_id: str | None = None) -> None:
    d = uow.session.get(DncEntry, (entry_id, uow.tenant_id, _scope(uow, campaign_id))) if uow.tenant_id else None
    if d is None:
        raise NotFound("dnc.not_found", "no such entry")
    uow.session.delete(d)
    note_dnc_change(uow.session.connection(), uow.tenant_id, [entry_id], now)
    audit(uow, "dnc.remove", "dnc", entry_id, now)


# ---------------------------------------------------------------- dispositions and audit
def disposition_dict(d: DispositionRecord) -> dict[str, Any]:
    return {"id": d.id, "call_id": d.call_id, "campaign_id": d.campaign_id, "contact_id": d.contact_id,
            "agent_id": d.agent_id, "code": d.code, "note": d.note, "callback_at": iso(d.callback_at),
            "set_at": iso(d.set_at)}


def list_dispositions(uow: UnitOfWork, *, call_id: str | None, campaign_id: str | None, agent_id: str | None,
                      code: str | None, sort: str | None, cursor: str | None,
                      limit: int) -> tuple[Sequence[DispositionRecord], str | None]:
    D = DispositionRecord
    q = select(D).where(D.tenant_id == uow.tenant_id)
    for col, v in ((D.call_id, call_id), (D.campaign_id, campaign_id), (D.agent_id, agent_id), (D.code, code)):
        if v is not None:
            q = q.where(col == v)
    return paginate(uow.session, q, {"set_at": D.set_at}, D.id, sort=sort, default="-set_at", cursor=cursor,
                    limit=limit)


def audit_dict(a: AuditEntry) -> dict[str, Any]:
    return {"id": a.id, "actor": a.actor, "action": a.action, "object_type": a.object_type,
            "object_id": a.object_id, "at": iso(a.at), "detail": a.detail}


def list_audit(uow: UnitOfWork, *, action: str | None, since: datetime | None, sort: str | None,
               cursor: str | None, limit: int) -> tuple[Sequence[AuditEntry], str | None]:
    q = select(AuditEntry).where(AuditEntry.tenant_id == uow.tenant_id)
    if action is not None:
        q = q.where(AuditEntry.action == action)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    return paginate(uow.session, q, {"at": AuditEntry.at}, AuditEntry.id, sort=sort, default="-at", cursor=cursor,
                    limit=limit)
