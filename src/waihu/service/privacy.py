"""Consent evidence and the "delete my data" operation.

Erasure removes the person's data (numbers, name, custom columns, notes, consent evidence) and
keeps anonymised statistics: CDR rows stay (they hold no plaintext personal data; the blind
index cannot be reversed without the deployment's key) and so do the contact's counters. With
SQLite ``secure_delete`` on, deleted rows are overwritten in the file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from waihu.adapters.storage import compliance_repo, report_rollup
from waihu.adapters.storage.models import CampaignContact, Contact, ContactPhone, DispositionRecord
from waihu.adapters.storage.models_compliance import Consent
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.campaigns import ContactState, JobType
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.timeutil import opt_dt, parse_aware, to_dt
from waihu.service.explain import find_contact
from waihu.service.tenants import audit

SCOPES = ("all", *JobType.__members__.values())


def record_consent(uow: UnitOfWork, ref: str, now: float, *, source: str, scope: str = "all",
                   given_at: float | None = None, expires_at: float | None = None,
                   evidence: str | None = None, default_region: str = "CN") -> str:
    problems: list[ErrorDetail] = []
    given = now if given_at is None else given_at
    if scope not in SCOPES:
        problems.append(ErrorDetail("consent.invalid_scope", f"scope must be one of {', '.join(SCOPES)}",
                                    field="scope"))
    if not source.strip() or len(source) > 50:
        problems.append(ErrorDetail("consent.invalid_source", "source has 1 to 50 characters", field="source"))
    if given > now:
        problems.append(ErrorDetail("consent.given_in_future", "consent cannot be given in the future",
                                    field="given_at"))
    if expires_at is not None and expires_at <= max(given, now):
        problems.append(ErrorDetail("consent.expiry_in_past", "the expiry lies in the past", field="expires_at"))
    if evidence is not None and len(evidence) > 200:
        problems.append(ErrorDetail("consent.invalid_evidence", "evidence reference has at most 200 characters",
                                    field="evidence"))
    if problems:
        raise ValidationError("consent.invalid", "the consent was not recorded", problems)
    contact = find_contact(uow, ref, default_region)
    cid = uow.new_id()
    uow.session.add(Consent(id=cid, tenant_id=uow.tenant_id, contact_id=contact.id, source=source.strip(),
                            scope=scope, given_at=to_dt(given), expires_at=opt_dt(expires_at), evidence=evidence))
    audit(uow, "consent.record", "contact", contact.id, now, scope=scope, source=source.strip())
    uow.commit()
    return cid


def revoke_consent(uow: UnitOfWork, ref: str, now: float, default_region: str = "CN") -> int:
    contact = find_contact(uow, ref, default_region)
    res = uow.session.execute(update(Consent).where(
        Consent.tenant_id == uow.tenant_id, Consent.contact_id == contact.id, Consent.revoked_at.is_(None))
        .values(revoked_at=to_dt(now)))
    audit(uow, "consent.revoke", "contact", contact.id, now)
    uow.commit()
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def erase_contact(uow: UnitOfWork, ref: str, now: float, default_region: str = "CN") -> dict[str, Any]:
    """Delete a person's data; keep anonymised statistics (CDRs, counters). Returns what was removed."""
    done = erase_record(uow, find_contact(uow, ref, default_region), now)
    uow.commit()
    return done


def erase_record(uow: UnitOfWork, contact: Contact, now: float) -> dict[str, Any]:
    """The one erasure of a person (CLI, API, console): their numbers, consent evidence, notes
    and custom fields go; the record stays as an anonymous id so CDRs and counters still add up;
    pending campaign memberships end as ``erased``. Audited; the caller commits."""
    s, tid, cid = uow.session, uow.tenant_id, contact.id
    rollup = report_rollup.Tracker.begin(s.connection(), tid, contacts=[cid]) if contact.tags else None
    hashes = list(s.scalars(select(ContactPhone.phone_hash).where(ContactPhone.tenant_id == tid,
                                                                  ContactPhone.contact_id == cid)))
    phones = s.execute(delete(ContactPhone).where(ContactPhone.tenant_id == tid, ContactPhone.contact_id == cid))
    consents = s.execute(delete(Consent).where(Consent.tenant_id == tid, Consent.contact_id == cid))
    s.execute(update(DispositionRecord).where(DispositionRecord.tenant_id == tid,
                                              DispositionRecord.contact_id == cid).values(note=None))
    s.execute(update(CampaignContact).where(
        CampaignContact.tenant_id == tid, CampaignContact.contact_id == cid,
        CampaignContact.state.in_([ContactState.PENDING.value, ContactState.ACTIVE.value]))
        .values(state=ContactState.FINISHED.value, last_disposition="erased", updated_at=to_dt(now)))
    contact.name = None
    contact.external_id = None
    contact.fields = {}
    contact.attributes = {}
    contact.tags = []
    contact.source = None
    contact.updated_at = to_dt(now)
    if rollup is not None:  # the report rollup counts calls by the contact's current tags
        s.flush()
        rollup.finish()
    done = {"contact_id": cid, "numbers": int(phones.rowcount or 0),  # type: ignore[attr-defined]
            "consents": int(consents.rowcount or 0)}  # type: ignore[attr-defined]
    # running dialers that loaded the person's numbers learn that no contact holds them any more
    # (the DNC change signal: they read those numbers again and block them as erased)
    compliance_repo.note_dnc_change(s.connection(), tid, hashes, now)
    audit(uow, "contact.erase", "contact", cid, now, **{k: v for k, v in done.items() if k != "contact_id"})
    return done


def parse_time(value: str | None, name: str) -> float | None:
    dt = parse_aware(value, name, "time.invalid", "time.naive")
    return None if dt is None else dt.timestamp()
