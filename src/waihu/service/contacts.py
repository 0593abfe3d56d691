"""Contact import: merge parsed rows into customer records in one transaction.

Duplicates (a number seen earlier in the same file, or a number that already belongs to a
customer of the tenant) are merged into that customer record, never dropped: the result
counts them and lists each merged row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from waihu.adapters.storage import report_rollup
from waihu.adapters.storage.models import CampaignContact, Contact, ContactPhone, ImportRecord
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.campaigns import ContactState
from waihu.domain.errors import ErrorDetail
from waihu.domain.timeutil import to_dt
from waihu.numbering import NumberInfo
from waihu.service.importing.mapping import ParsedRow
from waihu.service.tenants import audit

CHUNK = 500


@dataclass
class ImportOutcome:
    imported: int = 0
    duplicates: int = 0
    rejected: list[ErrorDetail] = field(default_factory=list)
    warnings: list[ErrorDetail] = field(default_factory=list)
    merged: list[dict[str, Any]] = field(default_factory=list)
    added_to_campaign: int = 0
    contact_ids: list[str] = field(default_factory=list)
    import_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": [d.as_dict() for d in self.rejected],
            "warnings": [d.as_dict() for d in self.warnings],
            "merged": self.merged,
            "added_to_campaign": self.added_to_campaign,
            "import_id": self.import_id,
        }


def _existing_owners(uow: UnitOfWork, hashes: Sequence[str]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for i in range(0, len(hashes), CHUNK):
        chunk = hashes[i:i + CHUNK]
        q = select(ContactPhone.phone_hash, ContactPhone.contact_id).where(
            ContactPhone.tenant_id == uow.tenant_id, ContactPhone.phone_hash.in_(chunk))
        owners.update({h: cid for h, cid in uow.session.execute(q)})
    return owners


def _merge_into(contact: dict[str, Any], row: ParsedRow) -> None:
    if row.name:
        contact["name"] = row.name
    fields = dict(contact["fields"])
    for k, v in row.fields.items():
        if k == "tags":
            continue
        if k == "external_id":
            contact["external_id"] = str(v)
        elif k == "source":
            contact["source"] = str(v)
        else:
            fields[k] = v
    contact["fields"] = fields
    tags = row.fields.get("tags")
    if isinstance(tags, list):
        contact["tags"] = list(dict.fromkeys([*contact["tags"], *tags]))
    contact["attributes"] = {**contact["attributes"], **row.attributes}


def merge_rows(uow: UnitOfWork, rows: Sequence[ParsedRow], now: float, *,
               campaign_id: str | None = None, filename: str = "",
               rejected: Sequence[ErrorDetail] = (), warnings: Sequence[ErrorDetail] = (),
               rejected_raw: dict[str, Any] | None = None) -> ImportOutcome:
    """Merge rows into the tenant's customer records (and the campaign). Does not commit.

    ``rejected_raw`` (the rejected rows as read) is kept sealed with the tenant's key in the
    import's report, for the download of rejected rows."""
    out = ImportOutcome(rejected=list(rejected), warnings=list(warnings))
    codec, tid, ts = uow.codec, uow.tenant_id, to_dt(now)
    hash_of: dict[str, str] = {}
    for row in rows:
        for info in row.phones:
            hash_of.setdefault(info.phone.e164, codec.phone_hash(info.phone.e164))
    owners = _existing_owners(uow, list(hash_of.values()))
    existing_ids = set(owners.values())
    loaded: dict[str, dict[str, Any]] = {}
    for i in range(0, len(existing_ids), CHUNK):
        ids = list(existing_ids)[i:i + CHUNK]
        for c in uow.session.scalars(select(Contact).where(Contact.tenant_id == tid, Contact.id.in_(ids))):
            loaded[c.id] = {"id": c.id, "name": codec.open_text(tid, c.name), "external_id": c.external_id,
                            "fields": open_fields(uow, c.fields), "attributes": codec.open_json(tid, c.attributes),
                            "tags": c.tags,
                            "source": c.source, "_old": True}
    max_rank: dict[str, int] = {}
    for i in range(0, len(existing_ids), CHUNK):
        ids = list(existing_ids)[i:i + CHUNK]
        q = select(ContactPhone.contact_id, func.max(ContactPhone.rank)).where(
            ContactPhone.tenant_id == tid, ContactPhone.contact_id.in_(ids)).group_by(ContactPhone.contact_id)
        max_rank.update({cid: int(r) for cid, r in uow.session.execute(q)})
    new_phones: list[dict[str, Any]] = []
    rank_of: dict[str, int] = {}
    order: dict[str, None] = {}  # contact ids in first-seen order
    row_owner: list[str] = []
    for row in rows:
        hashes = [hash_of[p.phone.e164] for p in row.phones]
        owner = next((owners[h] for h in hashes if h in owners), None)
        if owner is not None:
            contact = loaded[owner]
            out.duplicates += 1
            reason = "existing_contact" if contact.get("_old") else "duplicate_in_file"
            out.merged.append({"row": row.row, "contact_id": owner, "reason": reason})
        else:
            owner = uow.new_id()
            contact = {"id": owner, "name": None, "external_id": None, "fields": {}, "attributes": {},
                       "tags": [], "source": None}
            loaded[owner] = contact
            out.imported += 1
        order.setdefault(owner, None)
        row_owner.append(owner)
        _merge_into(contact, row)
        for info, h in zip(row.phones, hashes, strict=True):
            if h in owners:
                if owners[h] != owner:
                    out.warnings.append(ErrorDetail(
                        "import.phone_owned_by_other_contact",
                        f"{info.phone.masked()} already belongs to another customer; not added to this one",
                        row=row.row))
                continue
            owners[h] = owner
            rank = rank_of.get(owner, max_rank.get(owner, -1) + 1)
            rank_of[owner] = rank + 1
            new_phones.append(_phone_row(uow, owner, info, h, rank))
    _write_contacts(uow, loaded, list(order), ts)
    if new_phones:
        uow.session.execute(insert(ContactPhone), new_phones)
    out.contact_ids = list(order)
    if campaign_id is not None:
        prio = {}
        for row, owner in zip(rows, row_owner, strict=True):
            p = row.fields.get("priority")
            if isinstance(p, int):
                prio[owner] = p
        out.added_to_campaign = add_to_campaign(uow, campaign_id, out.contact_ids, now, prio)
    rec = ImportRecord(id=uow.new_id(), tenant_id=tid, filename=filename[:255], campaign_id=campaign_id,
                       created_at=ts, imported=out.imported, duplicates=out.duplicates,
                       rejected=len(out.rejected),
                       report={"rejected": [d.as_dict() for d in out.rejected],
                               "warnings": [d.as_dict() for d in out.warnings], "merged": out.merged,
                               **({"rejected_rows": uow.codec.seal_json(tid, rejected_raw)} if rejected_raw else {})})
    uow.session.add(rec)
    out.import_id = rec.id
    audit(uow, "contacts.import", "import", rec.id, now, filename=filename, imported=out.imported,
          duplicates=out.duplicates, rejected=len(out.rejected), campaign_id=campaign_id)
    return out


def _phone_row(uow: UnitOfWork, contact_id: str, info: NumberInfo, h: str, rank: int) -> dict[str, Any]:
    return {"id": uow.new_id(), "tenant_id": uow.tenant_id, "contact_id": contact_id, "rank": rank,
            "phone_sealed": uow.codec.seal(uow.tenant_id, info.phone.e164), "phone_hash": h,
            "kind": info.kind, "region": info.region, "city": info.city, "carrier": info.carrier,
            "timezone": info.timezone}


PERSONAL_FIELDS = ("email", "birthday", "notes")  # kept sealed inside ``fields`` under "sealed"


def seal_fields(uow: UnitOfWork, fields: dict[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in fields.items() if k not in PERSONAL_FIELDS and k != "sealed"}
    personal = {k: fields[k] for k in PERSONAL_FIELDS if k in fields}
    if personal:
        plain["sealed"] = uow.codec.seal_json(uow.tenant_id, personal)
    return plain


def open_fields(uow: UnitOfWork, fields: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(fields or {})
    sealed = out.pop("sealed", None)
    if isinstance(sealed, dict):
        out.update(uow.codec.open_json(uow.tenant_id, sealed))
    return out


def _write_contacts(uow: UnitOfWork, loaded: dict[str, dict[str, Any]], order: list[str], ts: Any) -> None:
    fresh = []
    retagged = [cid for cid in order if loaded[cid].get("_old") and _tags_change(uow, cid, loaded[cid]["tags"])]
    # the report rollup counts calls by the contact's current tags
    rollup = (report_rollup.Tracker.begin(uow.session.connection(), uow.tenant_id, contacts=retagged)
              if retagged else None)
    for cid in order:
        # the name and the custom columns are personal data: stored sealed (see pii.py)
        c = {**loaded[cid], "name": uow.codec.seal_text(uow.tenant_id, loaded[cid]["name"]),
             "attributes": uow.codec.seal_json(uow.tenant_id, loaded[cid]["attributes"]),
             "fields": seal_fields(uow, loaded[cid]["fields"])}
        if c.get("_old"):
            obj = uow.session.get(Contact, cid)
            assert obj is not None
            obj.name, obj.external_id, obj.source = c["name"], c["external_id"], c["source"]
            obj.fields, obj.attributes, obj.tags, obj.updated_at = c["fields"], c["attributes"], c["tags"], ts
        else:
            fresh.append({"id": cid, "tenant_id": uow.tenant_id, "name": c["name"],
                          "external_id": c["external_id"], "fields": c["fields"], "attributes": c["attributes"],
                          "tags": c["tags"], "source": c["source"], "total_attempts": 0, "total_connects": 0,
                          "created_at": ts, "updated_at": ts})
    if fresh:
        uow.session.execute(insert(Contact), fresh)
    uow.session.flush()
    if rollup is not None:
        rollup.finish()


def _tags_change(uow: UnitOfWork, cid: str, tags: list[str]) -> bool:
    obj = uow.session.get(Contact, cid)
    return obj is not None and list(obj.tags or []) != list(tags or [])


def add_to_campaign(uow: UnitOfWork, campaign_id: str, contact_ids: Sequence[str], now: float,
                    priority: int | dict[str, int] = 0) -> int:
    """Distribute contacts to a campaign in the given order (those already in it are left as they are).

    ``priority`` is one value for all, or a value per contact id (higher is dialled first)."""
    present: set[str] = set()
    for i in range(0, len(contact_ids), CHUNK):
        chunk = list(contact_ids[i:i + CHUNK])
        q = select(CampaignContact.contact_id).where(CampaignContact.campaign_id == campaign_id,
                                                     CampaignContact.contact_id.in_(chunk))
        present.update(uow.session.scalars(q))
    ts = to_dt(now)
    seq0 = uow.session.scalar(select(func.coalesce(func.max(CampaignContact.seq), 0)).where(
        CampaignContact.campaign_id == campaign_id)) or 0
    fresh = [cid for cid in dict.fromkeys(contact_ids) if cid not in present]
    rows = [{"id": uow.new_id(), "tenant_id": uow.tenant_id, "campaign_id": campaign_id, "contact_id": cid,
             "state": ContactState.PENDING.value,
             "priority": priority.get(cid, 0) if isinstance(priority, dict) else priority, "seq": seq0 + i + 1,
             "attempts": 0, "next_attempt_at": ts, "added_at": ts, "updated_at": ts}
            for i, cid in enumerate(fresh)]
    if rows:
        uow.session.execute(insert(CampaignContact), rows)
    return len(rows)
