"""DNC (do-not-call) lists: add, import, export, list, remove. Entries hold the blind index only.

Scopes: the global list (every tenant of the deployment), a tenant-wide list and per-campaign
lists. An entry is permanent or temporary (1 to 120 hours). Input is validated as a whole: one
bad row rejects the request and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from waihu.adapters.storage import compliance_repo as repo
from waihu.adapters.storage.models import ContactPhone
from waihu.adapters.storage.models_compliance import GLOBAL
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import ErrorDetail, NotFound, ValidationError
from waihu.domain.phone import PhoneNumber
from waihu.numbering import normalize
from waihu.service.campaigns import get_campaign
from waihu.service.tenants import audit

SOURCES = ("complaint", "ivr_opt_out", "customer_request", "regulator", "carrier")
MAX_TEMP_HOURS = 120
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class DncItem:
    """One requested entry: a number (or a blind-index hash), with optional source and expiry."""

    value: str
    source: str | None = None
    expires_at: float | None = None
    row: int | None = None


def scope_of(uow: UnitOfWork, *, is_global: bool = False, campaign: str | None = None) -> tuple[str, str]:
    """(tenant id, campaign id) of a list: ('', '') global, (tenant, '') tenant-wide, (tenant, id)."""
    if is_global and campaign:
        raise ValidationError("dnc.invalid_scope", "the global list has no campaigns")
    if is_global:
        return GLOBAL, GLOBAL
    return uow.tenant_id, get_campaign(uow, campaign).id if campaign else GLOBAL


def check_source(source: str, row: int | None = None) -> list[ErrorDetail]:
    if source in SOURCES:
        return []
    return [ErrorDetail("dnc.invalid_source", f"source must be one of {', '.join(SOURCES)}", row=row,
                        field="source")]


def check_expiry(expires_at: float | None, now: float, row: int | None = None) -> list[ErrorDetail]:
    if expires_at is None:
        return []
    if expires_at <= now:
        return [ErrorDetail("dnc.expiry_in_past", "the expiry lies in the past", row=row, field="expires_at")]
    if expires_at - now > MAX_TEMP_HOURS * 3600 + 1e-6 or expires_at - now < 3600 - 1e-6:
        return [ErrorDetail("dnc.invalid_expiry", "a temporary entry lasts 1 to 120 hours (or is permanent)",
                            row=row, field="expires_at")]
    return []


def _hash_of(uow: UnitOfWork, value: str, row: int | None,
             default_region: str) -> tuple[str | None, str | None, ErrorDetail | None]:
    """(blind index, masked number or None for a given hash, problem)."""
    v = value.strip()
    if _HASH.match(v):
        return v, None, None
    try:
        info = normalize(v, default_region)
    except ValidationError as e:
        return None, None, ErrorDetail(e.code, e.message, row=row, field="number")
    return uow.codec.phone_hash(info.phone.e164), info.phone.masked(), None


def add_entries(uow: UnitOfWork, items: Sequence[DncItem], now: float, *, source: str = "customer_request",
                is_global: bool = False, campaign: str | None = None, default_region: str = "CN") -> int:
    """Validate every item, then write them all (an existing entry is replaced) in one transaction."""
    tid, cid = scope_of(uow, is_global=is_global, campaign=campaign)
    problems: list[ErrorDetail] = []
    rows: dict[str, dict[str, object]] = {}
    for it in items:
        src = it.source or source
        problems += check_source(src, it.row)
        problems += check_expiry(it.expires_at, now, it.row)
        h, masked, bad = _hash_of(uow, it.value, it.row, default_region)
        if bad is not None:
            problems.append(bad)
        elif h is not None:
            rows[h] = repo.dnc_row(h, tid, cid, src, it.expires_at, now, masked=masked, created_by=uow.actor)
    if not items:
        problems.append(ErrorDetail("dnc.empty", "no numbers given"))
    if problems:
        raise ValidationError("dnc.invalid", "nothing was added to the DNC list", problems)
    conn = uow.session.connection()
    n = repo.upsert_dnc(conn, list(rows.values()))
    repo.note_dnc_change(conn, tid, list(rows), now)
    audit(uow, "dnc.add", "dnc_list", cid or tid or "global", now, entries=n, scope=_scope_name(tid, cid),
          source=source)
    uow.commit()
    return n


def remove_entries(uow: UnitOfWork, values: Iterable[str], now: float, *, is_global: bool = False,
                   campaign: str | None = None, default_region: str = "CN") -> int:
    tid, cid = scope_of(uow, is_global=is_global, campaign=campaign)
    hashes, problems = [], []
    for i, v in enumerate(values, 1):
        h, _, bad = _hash_of(uow, v, i, default_region)
        if bad is not None:
            problems.append(bad)
        elif h is not None:
            hashes.append(h)
    if problems:
        raise ValidationError("dnc.invalid", "nothing was removed from the DNC list", problems)
    conn = uow.session.connection()
    n = sum(repo.remove_dnc(conn, h, tid, cid) for h in hashes)
    if n == 0:
        uow.rollback()
        raise NotFound("dnc.not_listed", "none of the numbers is on this list")
    repo.note_dnc_change(conn, tid, hashes, now)
    audit(uow, "dnc.remove", "dnc_list", cid or tid or "global", now, entries=n, scope=_scope_name(tid, cid))
    uow.commit()
    return n


def list_entries(uow: UnitOfWork, now: float, *, is_global: bool = False, campaign: str | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
    """Entries of one list, newest last; numbers of the tenant's own contacts are shown masked."""
    tid, cid = scope_of(uow, is_global=is_global, campaign=campaign)
    facts = repo.list_dnc(uow.session.connection(), [tid], cid, limit)
    masked = _masked(uow, [f.phone_hash for f in facts if not f.masked])
    return [{"hash": f.phone_hash, "number": f.masked or masked.get(f.phone_hash, ""), "scope": _scope_name(f.tenant_id,
             f.campaign_id), "source": f.source, "expires_at": f.expires_at, "created_at": f.created_at,
             "active": f.expires_at is None or f.expires_at > now} for f in facts]


def _masked(uow: UnitOfWork, hashes: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(hashes), 500):
        q = select(ContactPhone.phone_hash, ContactPhone.phone_sealed).where(
            ContactPhone.tenant_id == uow.tenant_id, ContactPhone.phone_hash.in_(hashes[i:i + 500]))
        for h, sealed in uow.session.execute(q):
            out[h] = PhoneNumber(uow.codec.open(uow.tenant_id, sealed)).masked()
    return out


def _scope_name(tid: str, cid: str) -> str:
    return "global" if not tid else ("tenant" if not cid else f"campaign:{cid}")


def block_contact(uow: UnitOfWork, contact_id: str, source: str, now: float) -> int:
    """Put every number of a contact on the tenant's list (a complaint, an opt-out)."""
    if source not in SOURCES:
        raise ValidationError("dnc.invalid_source", f"source must be one of {', '.join(SOURCES)}")
    hashes = list(uow.session.scalars(select(ContactPhone.phone_hash).where(
        ContactPhone.tenant_id == uow.tenant_id, ContactPhone.contact_id == contact_id)))
    if not hashes:
        raise NotFound("contact.not_found", "no such contact (or it has no numbers)")
    conn = uow.session.connection()
    n = repo.upsert_dnc(conn, [repo.dnc_row(h, uow.tenant_id, GLOBAL, source, None, now) for h in hashes])
    repo.note_dnc_change(conn, uow.tenant_id, hashes, now)
    audit(uow, f"dnc.{source}", "contact", contact_id, now, entries=n)
    uow.commit()
    return n
