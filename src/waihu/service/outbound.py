"""``POST /v1/outbound``: one call now, for an agent (click-to-call) or on a robot seat.

The request is written first (a ``call_requests`` row whose id becomes the call id on the
network), then handed to the live runtime; the runtime reports progress back to the row.
Without a campaign the call goes into the tenant's ad-hoc campaign.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from waihu.adapters.storage.compliance_repo import active_dnc
from waihu.adapters.storage.models import Agent, Campaign, CampaignContact, Contact, ContactPhone
from waihu.adapters.storage.models_api import CallRequest
from waihu.adapters.storage.uow import UnitOfWork
from waihu.bootstrap import Platform
from waihu.domain.campaigns import CampaignState, ContactState, Disposition
from waihu.domain.errors import ComplianceBlocked, Conflict, ErrorDetail, NotFound, ValidationError, WaihuError
from waihu.domain.messages import AgentLoggedIn, DialTarget, ManualDialRequested
from waihu.domain.phone import PhoneNumber
from waihu.domain.timeutil import to_dt
from waihu.engine.config import CampaignSpec
from waihu.numbering import NumberInfo, normalize
from waihu.service.campaigns import create_campaign, dispositions_of, get_campaign, spec_for, transition
from waihu.service.live_observe import ADHOC_NAME
from waihu.service.tenants import audit

if TYPE_CHECKING:
    from waihu.service.live import LiveHost

NO_RETRY = {k: {"delay_seconds": 60.0, "max_attempts": 1} for k in
            ("busy", "no_answer", "rejected", "abandoned", "line_failure", "unreachable")}


@dataclass
class OutboundRequest:
    phone: str
    campaign_id: str | None = None
    agent_id: str | None = None
    script_id: str | None = None
    auto_dial: bool = True
    override_reason: str | None = None  # a supervisor's reason to dial through a compliance hold

    def fingerprint(self, keyed: Callable[[str], str]) -> str:
        """A keyed digest of the request (the blind-index key), so the stored fingerprint of an
        idempotent request cannot be reversed to its phone number by trying every number."""
        raw = json.dumps([self.phone, self.campaign_id, self.agent_id, self.script_id, self.auto_dial,
                          self.override_reason])
        return keyed("outbound-request:" + raw)


def adhoc_campaign(uow: UnitOfWork, now: float) -> Campaign:
    c = uow.session.scalar(select(Campaign).where(Campaign.tenant_id == uow.tenant_id, Campaign.name == ADHOC_NAME))
    if c is None:
        c = create_campaign(uow, ADHOC_NAME, now, mode="manual", retry=NO_RETRY)
        transition(uow, c, "start", now)
    return c


def phone_info(raw: str) -> NumberInfo:
    try:
        return normalize(raw)
    except ValidationError as e:
        raise ValidationError(e.code, e.message, [ErrorDetail(e.code, e.message, field="phone")]) from None


def contact_for(uow: UnitOfWork, info: NumberInfo, now: float) -> tuple[str, str, str]:
    """(contact id, phone id, blind index) of the number, creating the customer record if new."""
    h = uow.codec.phone_hash(info.phone.e164)
    row = uow.session.execute(select(ContactPhone.contact_id, ContactPhone.id).where(
        ContactPhone.tenant_id == uow.tenant_id, ContactPhone.phone_hash == h)).first()
    if row is not None:
        return row[0], row[1], h
    ts = to_dt(now)
    cid, pid = uow.new_id(), uow.new_id()
    uow.session.add(Contact(id=cid, tenant_id=uow.tenant_id, fields={}, attributes={}, tags=[], source="api",
                            total_attempts=0, total_connects=0, created_at=ts, updated_at=ts))
    uow.session.flush()
    uow.session.add(ContactPhone(id=pid, tenant_id=uow.tenant_id, contact_id=cid, rank=0,
                                 phone_sealed=uow.codec.seal(uow.tenant_id, info.phone.e164), phone_hash=h,
                                 kind=info.kind, region=info.region, city=info.city, carrier=info.carrier,
                                 timezone=info.timezone))
    return cid, pid, h


def is_dnc(uow: UnitOfWork, phone_hash: str, campaign_id: str | None, now: float) -> bool:
    """On the global, the tenant's or the campaign's list now (the list the dialer screens with)."""
    return active_dnc(uow.session.connection(), uow.tenant_id, campaign_id, phone_hash, now) is not None


def _enlist(uow: UnitOfWork, campaign_id: str, contact_id: str, auto: bool, now: float) -> int:
    cc = uow.session.scalar(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                          CampaignContact.contact_id == contact_id))
    state = ContactState.ACTIVE.value if auto else ContactState.PENDING.value
    if cc is None:
        cc = CampaignContact(id=uow.new_id(), tenant_id=uow.tenant_id, campaign_id=campaign_id, contact_id=contact_id,
                             state=state, priority=100, attempts=0, next_attempt_at=to_dt(now), added_at=to_dt(now),
                             updated_at=to_dt(now))
        uow.session.add(cc)
    else:
        if auto and cc.state == ContactState.ACTIVE.value:
            raise Conflict("call.contact_busy", "this customer is already being called in this campaign")
        cc.state, cc.next_attempt_at, cc.updated_at, cc.priority = state, to_dt(now), to_dt(now), 100
    return cc.attempts


def request_call(platform: Platform, live: LiveHost | None, uow: UnitOfWork, req: OutboundRequest, now: float, *,
                 idempotency_key: str | None = None) -> tuple[CallRequest, bool]:
    """Record the request and hand it to the live runtime. Returns (request, created now?)."""
    if idempotency_key is not None:
        old = uow.session.scalar(select(CallRequest).where(CallRequest.tenant_id == uow.tenant_id,
                                                           CallRequest.idempotency_key == idempotency_key))
        if old is not None:
            if old.request_hash != req.fingerprint(uow.codec.phone_hash):
                raise Conflict("idempotency.key_reused", "this Idempotency-Key was used for a different request")
            return old, False
    info = phone_info(req.phone)
    if req.campaign_id is not None:
        c = get_campaign(uow, req.campaign_id)
        if c.id != req.campaign_id:
            raise NotFound("campaign.not_found", "no such campaign")
        if c.state != CampaignState.RUNNING.value:
            raise Conflict("campaign.not_running", "the campaign is not running")
    elif not req.auto_dial:
        raise ValidationError("outbound.campaign_required", "a scheduled call (auto_dial false) needs a campaign",
                              [ErrorDetail("outbound.campaign_required", "required", field="campaign_id")])
    else:
        c = adhoc_campaign(uow, now)
    groups: frozenset[str] = frozenset()
    if req.agent_id is not None:
        agent = uow.session.get(Agent, req.agent_id)
        if agent is None or agent.tenant_id != uow.tenant_id:
            raise NotFound("agent.not_found", "no such agent")
        groups = frozenset(agent.groups)
        state = (live.agent(uow.tenant_id, agent.id) or {}).get("state") if live is not None else None
        if req.auto_dial and state not in ("ready", "break"):
            raise Conflict("agent.not_available", "the agent is not logged in or is busy")
    elif req.auto_dial and live is not None and live.dials_over_sip(uow.tenant_id):
        raise Conflict("outbound.robot_over_sip", "this tenant dials over SIP trunks, where no robot can take a "
                       "call yet: give an agent_id (click-to-call) or a campaign with agents")
    contact_id, phone_id, h = contact_for(uow, info, now)
    if is_dnc(uow, h, c.id, now):
        raise ComplianceBlocked("compliance.dnc", "the number is on the do-not-call list")
    attempts = _enlist(uow, c.id, contact_id, req.auto_dial, now)
    cr = CallRequest(id=uow.new_id(), tenant_id=uow.tenant_id, campaign_id=c.id, contact_id=contact_id,
                     agent_id=req.agent_id, script_id=req.script_id, auto_dial=req.auto_dial,
                     status="queued" if req.auto_dial else "scheduled", idempotency_key=idempotency_key,
                     request_hash=req.fingerprint(uow.codec.phone_hash), requested_by=uow.actor, created_at=to_dt(now),
                     updated_at=to_dt(now))
    uow.session.add(cr)
    if req.override_reason is not None:  # who asked to dial through a compliance hold, and why
        audit(uow, "call.override_requested", "call", cr.id, now, reason=req.override_reason,
              contact_id=contact_id)
    spec, disps = spec_for(c), dispositions_of(c)
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        if idempotency_key is None:
            raise
        # the same key arrived twice at once: the other request won; answer with its call
        return request_call(platform, live, uow, req, now, idempotency_key=idempotency_key)
    if req.auto_dial and live is not None:
        target = DialTarget(contact_id=contact_id, campaign_id=c.id, phone=info.phone, phone_ref=phone_id,
                            attempts=attempts, timezone=info.timezone, region=info.region)
        _submit(platform, live, uow.tenant_id, cr.id, target, h, spec, disps, req.agent_id, groups,
                req.override_reason)
    return cr, True


def _submit(platform: Platform, live: LiveHost, tid: str, call_id: str, target: DialTarget, phone_hash: str,
            spec: CampaignSpec, disps: list[Disposition], agent_id: str | None, groups: frozenset[str],
            override: str | None = None) -> None:
    def act(host: LiveHost, now: float) -> None:
        lane = host.lane(tid, "main" if agent_id is not None else "robot")
        if spec.campaign_id not in lane.campaigns:
            lane.activate(spec, disps, now)
        lane.store.remember_phone(target.phone_ref, phone_hash)
        seat = agent_id
        if seat is None and lane.kind == "robot" and "main" in host.tenants[tid].lanes \
                and host.tenants[tid].lanes["main"].sip is not None:
            raise Conflict("outbound.robot_over_sip", "this tenant dials over SIP trunks, where no robot can take "
                           "a call yet")
        if seat is None:
            free = [r for r, st in host.observer.robots.get(tid, {}).items() if st == "ready"]
            if free:
                seat = free[0]
            else:
                host.tenants[tid].robots += 1
                seat = f"robot-{host.tenants[tid].robots}"
                lane.robots.agent_ids.add(seat)
                lane.feed(AgentLoggedIn(seat, groups), now)
        host.observer.requested.add(call_id)
        lane.preset_id = call_id
        lane.last_hold = None
        try:
            lane.feed(ManualDialRequested(seat, target, override), now)
        finally:
            held = lane.preset_id is not None
            lane.preset_id = None
        if held:  # the compliance screen (or the router) held it back: say why
            host.observer.requested.discard(call_id)
            why = lane.last_hold.reasons[0] if lane.last_hold is not None and lane.last_hold.reasons else None
            set_call_status(platform, tid, call_id, "held", now, error_code=why)

    def failed(e: WaihuError) -> None:
        set_call_status(platform, tid, call_id, "rejected", live.now, error_code=e.code)
        release_contact(platform, tid, spec.campaign_id, target.contact_id, live.now)
        live.observer.alert(tid, "call.rejected", "a requested call could not start", live.now,
                            call_id=call_id, reason=e.code)

    live.submit(tid, act, failed)


def release_contact(platform: Platform, tid: str, campaign_id: str, contact_id: str, now: float) -> None:
    """A call that never started leaves its contact free for the next request."""
    with platform.uow(tid, actor="system:dialer") as uow:
        uow.session.execute(update(CampaignContact).where(
            CampaignContact.tenant_id == tid, CampaignContact.campaign_id == campaign_id,
            CampaignContact.contact_id == contact_id, CampaignContact.state == ContactState.ACTIVE.value)
            .values(state=ContactState.FINISHED.value, updated_at=to_dt(now)))
        uow.commit()


def set_call_status(platform: Platform, tid: str, call_id: str, status: str, now: float, *,
                    error_code: str | None = None) -> None:
    with platform.uow(tid, actor="system:dialer") as uow:
        values: dict[str, Any] = {"status": status, "updated_at": to_dt(now)}
        if error_code is not None:
            values["error_code"] = error_code
        uow.session.execute(update(CallRequest).where(CallRequest.tenant_id == tid, CallRequest.id == call_id)
                            .values(**values))
        uow.commit()


def masked(e164: str) -> str:
    return PhoneNumber(e164).masked()
