"""Customer records for the API: search, create, change, erase, history; imports' reports.

An agent's assigned contacts: personal callbacks, contacts of their calls and of calls asked for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, delete, exists, or_, select

from waihu.adapters.storage import report_rollup
from waihu.adapters.storage.models import (
    CampaignContact,
    Cdr,
    Contact,
    ContactPhone,
    DispositionRecord,
    ImportRecord,
)
from waihu.adapters.storage.models_api import CallRequest
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import Conflict, ErrorDetail, NotFound, ValidationError
from waihu.domain.phone import PhoneNumber
from waihu.domain.timeutil import to_dt
from waihu.numbering import NumberInfo, normalize
from waihu.service.accounts import iso
from waihu.service.contacts import open_fields, seal_fields
from waihu.service.paging import paginate
from waihu.service.privacy import erase_record
from waihu.service.tenants import audit


def _assigned(agent_id: str) -> Any:
    return or_(exists().where(CampaignContact.contact_id == Contact.id, CampaignContact.owner_agent_id == agent_id),
               exists().where(Cdr.contact_id == Contact.id, Cdr.agent_id == agent_id),
               exists().where(CallRequest.contact_id == Contact.id, CallRequest.agent_id == agent_id))


def get_contact(uow: UnitOfWork, contact_id: str, agent_id: str | None = None) -> Contact:
    q = select(Contact).where(Contact.id == contact_id, Contact.tenant_id == uow.tenant_id)
    if agent_id is not None:
        q = q.where(_assigned(agent_id))
    c = uow.session.scalar(q)
    if c is None:
        raise NotFound("contact.not_found", "no such contact")
    return c


def contact_dict(uow: UnitOfWork, c: Contact, pii: bool) -> dict[str, Any]:
    phones = []
    for p in uow.session.scalars(select(ContactPhone).where(ContactPhone.contact_id == c.id,
                                                            ContactPhone.tenant_id == uow.tenant_id)
                                 .order_by(ContactPhone.rank)):
        n = PhoneNumber(uow.codec.open(uow.tenant_id, p.phone_sealed))
        phones.append({"id": p.id, "phone": n.e164 if pii else n.masked(), "rank": p.rank, "kind": p.kind,
                       "region": p.region, "city": p.city, "carrier": p.carrier})
    tid = uow.tenant_id  # name, custom columns and personal fields are stored sealed
    return {"id": c.id, "name": uow.codec.open_text(tid, c.name), "external_id": c.external_id,
            "fields": open_fields(uow, c.fields), "attributes": uow.codec.open_json(tid, c.attributes),
            "tags": c.tags, "source": c.source, "follow_up_stage": c.follow_up_stage,
            "total_attempts": c.total_attempts, "total_connects": c.total_connects,
            "last_contact_at": iso(c.last_contact_at), "last_outcome": c.last_outcome, "phones": phones,
            "created_at": iso(c.created_at), "updated_at": iso(c.updated_at)}


def search(uow: UnitOfWork, *, q: str | None, phone: str | None, tag: str | None, campaign_id: str | None,
           agent_id: str | None, sort: str | None, cursor: str | None,
           limit: int) -> tuple[Sequence[Contact], str | None]:
    s = select(Contact).where(Contact.tenant_id == uow.tenant_id)
    if q:  # names are sealed: matched after unsealing (a scan of the tenant's names)
        ids = [cid for cid, name in uow.session.execute(select(Contact.id, Contact.name).where(
            Contact.tenant_id == uow.tenant_id, Contact.name.is_not(None))) if q in (uow.codec.open_text(
                uow.tenant_id, name) or "")]
        s = s.where(or_(Contact.id.in_(ids), Contact.external_id == q))
    if phone:
        h = uow.codec.phone_hash(_number(phone, "phone").phone.e164)
        s = s.where(exists().where(ContactPhone.contact_id == Contact.id, ContactPhone.phone_hash == h,
                                   ContactPhone.tenant_id == uow.tenant_id))
    if tag:
        s = s.where(cast(Contact.tags, String).contains(tag, autoescape=True))
    if campaign_id:
        s = s.where(exists().where(CampaignContact.contact_id == Contact.id,
                                   CampaignContact.campaign_id == campaign_id,
                                   CampaignContact.tenant_id == uow.tenant_id))
    if agent_id is not None:
        s = s.where(_assigned(agent_id))
    return paginate(uow.session, s, {"created_at": Contact.created_at, "updated_at": Contact.updated_at},
                    Contact.id, sort=sort, default="created_at", cursor=cursor, limit=limit)


def _number(raw: str, field: str) -> NumberInfo:
    try:
        return normalize(raw)
    except ValidationError as e:
        raise ValidationError(e.code, e.message, [ErrorDetail(e.code, e.message, field=field)]) from None


def create(uow: UnitOfWork, phones: list[str], now: float, **values: Any) -> Contact:
    infos = [_number(p, f"phones[{i}]") for i, p in enumerate(phones)]
    hashes = [uow.codec.phone_hash(i.phone.e164) for i in infos]
    if len(set(hashes)) != len(hashes):
        raise ValidationError("contact.duplicate_phone", "a number is listed twice",
                              [ErrorDetail("contact.duplicate_phone", "listed twice", field="phones")])
    owner = uow.session.scalar(select(ContactPhone.contact_id).where(ContactPhone.tenant_id == uow.tenant_id,
                                                                    ContactPhone.phone_hash.in_(hashes)))
    if owner is not None:
        raise Conflict("contact.phone_exists", "a customer with this number exists",
                       [ErrorDetail("contact.phone_exists", f"contact {owner}", field="phones")])
    ts = to_dt(now)
    c = Contact(id=uow.new_id(), tenant_id=uow.tenant_id, name=uow.codec.seal_text(uow.tenant_id, values.get("name")),
                external_id=values.get("external_id"), fields=seal_fields(uow, values.get("fields") or {}),
                attributes=uow.codec.seal_json(uow.tenant_id, values.get("attributes") or {}),
                tags=values.get("tags") or [], source="api",
                total_attempts=0, total_connects=0, created_at=ts, updated_at=ts)
    uow.session.add(c)
    uow.session.flush()
    for rank, (info, h) in enumerate(zip(infos, hashes, strict=True)):
        uow.session.add(ContactPhone(id=uow.new_id(), tenant_id=uow.tenant_id, contact_id=c.id, rank=rank,
                                     phone_sealed=uow.codec.seal(uow.tenant_id, info.phone.e164), phone_hash=h,
                                     kind=info.kind, region=info.region, city=info.city, carrier=info.carrier,
                                     timezone=info.timezone))
    audit(uow, "contact.create", "contact", c.id, now)
    return c


def update(uow: UnitOfWork, c: Contact, changes: dict[str, Any], now: float) -> Contact:
    tid = uow.tenant_id
    retag = "tags" in changes and (changes["tags"] or []) != (c.tags or [])
    rollup = report_rollup.Tracker.begin(uow.session.connection(), tid, contacts=[c.id]) if retag else None
    for k in ("name", "external_id", "tags", "follow_up_stage"):
        if k in changes:
            setattr(c, k, changes[k] if k != "tags" else (changes[k] or []))
    if "name" in changes:
        c.name = uow.codec.seal_text(tid, changes["name"])
    if changes.get("attributes") is not None:
        c.attributes = uow.codec.seal_json(tid, {**uow.codec.open_json(tid, c.attributes), **changes["attributes"]})
    if changes.get("fields") is not None:
        c.fields = seal_fields(uow, {**open_fields(uow, c.fields), **changes["fields"]})
    c.updated_at = to_dt(now)
    if rollup is not None:  # the report rollup counts calls by the contact's current tags
        uow.session.flush()
        rollup.finish()
    audit(uow, "contact.update", "contact", c.id, now, fields=sorted(changes))
    return c


def erase(uow: UnitOfWork, c: Contact, now: float) -> None:
    """Erase the person's data as ``waihu contact erase`` does (numbers, consent evidence, notes,
    fields), then remove the record itself and its campaign memberships (CDRs keep only the ids
    and the blind index)."""
    erase_record(uow, c, now)
    uow.session.execute(delete(CampaignContact).where(CampaignContact.contact_id == c.id,
                                                      CampaignContact.tenant_id == uow.tenant_id))
    uow.session.delete(c)


def history(uow: UnitOfWork, c: Contact) -> dict[str, Any]:
    tid = uow.tenant_id
    campaigns = [{"campaign_id": cc.campaign_id, "state": cc.state, "attempts": cc.attempts,
                  "last_outcome": cc.last_outcome, "last_disposition": cc.last_disposition}
                 for cc in uow.session.scalars(select(CampaignContact).where(
                     CampaignContact.contact_id == c.id, CampaignContact.tenant_id == tid))]
    calls = [{"call_id": r.id, "campaign_id": r.campaign_id, "dial_at": iso(r.dial_at), "outcome": r.outcome,
              "agent_id": r.agent_id, "talk_seconds": float(r.talk_seconds)}
             for r in uow.session.scalars(select(Cdr).where(Cdr.contact_id == c.id, Cdr.tenant_id == tid)
                                          .order_by(Cdr.dial_at.desc()).limit(200))]
    disps = [{"call_id": d.call_id, "code": d.code, "note": d.note, "agent_id": d.agent_id, "set_at": iso(d.set_at)}
             for d in uow.session.scalars(select(DispositionRecord).where(
                 DispositionRecord.contact_id == c.id, DispositionRecord.tenant_id == tid)
                 .order_by(DispositionRecord.set_at.desc()).limit(200))]
    return {"contact_id": c.id, "campaigns": campaigns, "calls": calls, "dispositions": disps}


# ---------------------------------------------------------------- imports
def import_dict(r: ImportRecord) -> dict[str, Any]:
    return {"id": r.id, "filename": r.filename, "campaign_id": r.campaign_id, "created_at": iso(r.created_at),
            "imported": r.imported, "duplicates": r.duplicates, "rejected": r.rejected,
            "report": {k: v for k, v in (r.report or {}).items() if k != "rejected_rows"}}


def rejected_rows_csv(uow: UnitOfWork, r: ImportRecord, pii: bool) -> str:
    """The rejected rows of an import as CSV (UTF-8 with BOM, for Excel): the row number as in
    the file, the columns and codes of its problems, the problems, then the row as read. Phone
    columns are masked unless ``pii``. The rows are opened from the sealed report."""
    import csv
    import io

    from waihu.domain.phone import mask_digits

    report = r.report or {}
    raw = uow.codec.open_json(uow.tenant_id, report.get("rejected_rows")) if report.get("rejected_rows") else {}
    headers: list[str] = list(raw.get("headers") or [])
    phone_cols = set(raw.get("phone_columns") or [])
    cells_of = {int(n): cells for n, cells in raw.get("rows") or []}
    problems: dict[int, list[dict[str, Any]]] = {}
    for d in report.get("rejected") or []:
        problems.setdefault(int(d.get("row") or 0), []).append(d)

    def shown(i: int, v: str) -> str:
        if v[:1] in ("=", "@"):  # a spreadsheet must not read a cell as a formula
            return "'" + v
        if pii or i not in phone_cols or not v:
            return v
        digits = "".join(ch for ch in v if ch.isdigit())
        return mask_digits(digits) if digits else v

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row / 行号", "field / 列", "code / 错误码", "problem / 问题", *headers])
    for row in sorted(problems):
        ds = problems[row]
        cells = cells_of.get(row, [])
        w.writerow([row or "", "; ".join(str(d.get("field") or "") for d in ds),
                    "; ".join(str(d.get("code") or "") for d in ds), "; ".join(str(d.get("message") or "") for d in ds),
                    *[shown(i, str(v)) for i, v in enumerate(cells)]])
    return "\ufeff" + buf.getvalue()


def get_import(uow: UnitOfWork, import_id: str) -> ImportRecord:
    r = uow.session.get(ImportRecord, import_id)
    if r is None or r.tenant_id != uow.tenant_id:
        raise NotFound("import.not_found", "no such import")
    return r


def list_imports(uow: UnitOfWork, *, sort: str | None, cursor: str | None,
                 limit: int) -> tuple[Sequence[ImportRecord], str | None]:
    q = select(ImportRecord).where(ImportRecord.tenant_id == uow.tenant_id)
    return paginate(uow.session, q, {"created_at": ImportRecord.created_at}, ImportRecord.id, sort=sort,
                    default="-created_at", cursor=cursor, limit=limit)
