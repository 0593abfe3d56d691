"""CDR queries and export. Numbers are masked unless the caller may see them in full."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from waihu.adapters.storage.models import Campaign, Cdr, ContactPhone, DispositionRecord, Tenant
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.phone import PhoneNumber
from waihu.service.tenants import audit

COLUMNS = ["call_id", "campaign", "contact_id", "phone", "attempt", "chain_id", "mode", "dial_at", "ring_at",
           "answer_at", "bridge_at", "end_at", "outcome", "loss_cause", "sip_code", "agent_id", "trunk_id",
           "caller_id", "hangup_by", "talk_seconds", "disposition"]


def export_cdrs(uow: UnitOfWork, now: float, *, campaign_id: str | None = None, since: datetime | None = None,
                until: datetime | None = None, unmasked: bool = False,
                outcome: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield CDR rows (times in the tenant's time zone); the export is audited."""
    s, tid = uow.session, uow.tenant_id
    tzname = s.scalar(select(Tenant.timezone).where(Tenant.id == tid)) or "Asia/Shanghai"
    tz = ZoneInfo(tzname)
    names = dict(s.execute(select(Campaign.id, Campaign.name).where(Campaign.tenant_id == tid)).all())
    q = (select(Cdr, ContactPhone.phone_sealed, DispositionRecord.code)
         .outerjoin(ContactPhone, (ContactPhone.id == Cdr.phone_id) & (ContactPhone.tenant_id == tid))
         .outerjoin(DispositionRecord, (DispositionRecord.call_id == Cdr.id) & (DispositionRecord.tenant_id == tid))
         .where(Cdr.tenant_id == tid).order_by(Cdr.dial_at, Cdr.id))
    if campaign_id is not None:
        q = q.where(Cdr.campaign_id == campaign_id)
    if since is not None:
        q = q.where(Cdr.dial_at >= since)
    if until is not None:
        q = q.where(Cdr.dial_at < until)
    if outcome is not None:
        q = q.where(Cdr.outcome == outcome)
    audit(uow, "cdr.export", "cdr", campaign_id, now, unmasked=unmasked)
    uow.commit()

    def local(dt: datetime | None) -> str:
        if dt is None:
            return ""
        if dt.tzinfo is None:
            from datetime import UTC
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(tz).isoformat(timespec="milliseconds")

    for cdr, sealed, disp in s.execute(q).yield_per(1000):
        phone = ""
        if sealed is not None:
            number = PhoneNumber(uow.codec.open(tid, sealed))
            phone = number.e164 if unmasked else number.masked()
        else:
            phone = "(erased)"
        yield {"call_id": cdr.id, "campaign": names.get(cdr.campaign_id, cdr.campaign_id),
               "contact_id": cdr.contact_id, "phone": phone, "attempt": cdr.attempt, "chain_id": cdr.chain_id or "",
               "mode": cdr.mode, "dial_at": local(cdr.dial_at), "ring_at": local(cdr.ring_at),
               "answer_at": local(cdr.answer_at), "bridge_at": local(cdr.bridge_at), "end_at": local(cdr.end_at),
               "outcome": cdr.outcome, "loss_cause": cdr.loss_cause or "", "sip_code": cdr.sip_code or "",
               "agent_id": cdr.agent_id or "", "trunk_id": cdr.trunk_id or "", "caller_id": cdr.caller_id or "",
               "hangup_by": cdr.hangup_by or "", "talk_seconds": f"{float(cdr.talk_seconds):.3f}",
               "disposition": disp or ""}
