"""``explain``: why a contact would or would not be dialled at a time, and when it next can be.

The answer comes from the same ``ComplianceScreen`` the dialer uses (history from CDRs, DNC
lists, consent), so the explanation and the dialer never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from waihu.adapters.storage.models import Campaign, CampaignContact, Contact, ContactPhone
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.compliance import zone
from waihu.domain.compliance_text import describe
from waihu.domain.errors import NotFound, ValidationError
from waihu.domain.messages import DialTarget
from waihu.domain.phone import PhoneNumber
from waihu.domain.timeutil import to_ts
from waihu.numbering import normalize
from waihu.service.campaigns import get_campaign, spec_for
from waihu.service.screen import load_screen


def find_contact(uow: UnitOfWork, ref: str, default_region: str = "CN") -> Contact:
    """A contact by id, external id or phone number (looked up by blind index)."""
    c = uow.session.scalar(select(Contact).where(Contact.tenant_id == uow.tenant_id,
                                                 (Contact.id == ref) | (Contact.external_id == ref)))
    if c is not None:
        return c
    try:
        h = uow.codec.phone_hash(normalize(ref, default_region).phone.e164)
    except ValidationError:
        h = None
    if h is not None:
        c = uow.session.scalar(select(Contact).join(ContactPhone, ContactPhone.contact_id == Contact.id).where(
            ContactPhone.tenant_id == uow.tenant_id, ContactPhone.phone_hash == h))
    if c is None:
        raise NotFound("contact.not_found", "no such contact")
    return c


def explain(uow: UnitOfWork, engine: Engine, ref: str, at: float, *, campaign: str | None = None,
            default_region: str = "CN") -> dict[str, Any]:
    contact = find_contact(uow, ref, default_region)
    phone = uow.session.scalars(select(ContactPhone).where(
        ContactPhone.tenant_id == uow.tenant_id, ContactPhone.contact_id == contact.id)
        .order_by(ContactPhone.rank)).first()
    if phone is None:
        raise NotFound("contact.no_number", "the contact has no phone number (erased?)")
    number = PhoneNumber(uow.codec.open(uow.tenant_id, phone.phone_sealed))
    q = (select(Campaign, CampaignContact).join(CampaignContact, CampaignContact.campaign_id == Campaign.id)
         .where(CampaignContact.tenant_id == uow.tenant_id, CampaignContact.contact_id == contact.id))
    if campaign is not None:
        q = q.where(Campaign.id == get_campaign(uow, campaign).id)
    rows = list(uow.session.execute(q.order_by(Campaign.created_at)))
    if campaign is not None and not rows:
        raise NotFound("campaign.contact_not_member", "the contact is not in this campaign")
    screen = load_screen(engine, uow.codec.phone_hash, uow.tenant_id, [c.id for c, _ in rows])
    tz = zone(phone.timezone or "Asia/Shanghai")
    out: list[dict[str, Any]] = []
    for camp, member in rows:
        spec = spec_for(camp)
        target = DialTarget(contact_id=contact.id, campaign_id=camp.id, phone=number, phone_ref=phone.id,
                            attempts=member.attempts, timezone=phone.timezone, region=phone.region)
        d = screen.decide(target, spec, at)
        due = to_ts(member.next_attempt_at)
        out.append({
            "campaign": camp.name, "campaign_id": camp.id, "contact_state": member.state,
            "attempts": member.attempts, "next_attempt_at": _iso(due, tz) if member.state == "pending" else None,
            "verdict": d.verdict.value, "reasons": list(d.reasons), "explanations": [describe(r) for r in d.reasons],
            "allowed_from": _iso(d.until, tz) if d.until is not None else None,
        })
    return {"contact_id": contact.id, "number": number.masked(), "timezone": phone.timezone, "region": phone.region,
            "at": _iso(at, tz), "campaigns": out}


def _iso(ts: float, tz: Any) -> str:
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")
