"""Tenant data-key rotation: a new key version, then every sealed value of the tenant re-sealed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from waihu.adapters.storage.models import Contact, ContactPhone
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import Conflict
from waihu.domain.timeutil import to_dt
from waihu.service.tenants import audit


def rotate_tenant_key(uow: UnitOfWork, now: float) -> dict[str, Any]:
    keys: Any = uow.codec.keys
    if keys is None or not hasattr(keys, "create"):
        raise Conflict("keys.no_key_store", "this deployment has no tenant key store")
    version = keys.create(uow.tenant_id, to_dt(now))
    codec, tid, s = uow.codec, uow.tenant_id, uow.session
    phones = contacts = 0
    for pid, sealed in s.execute(select(ContactPhone.id, ContactPhone.phone_sealed)
                                 .where(ContactPhone.tenant_id == tid)).all():
        if codec.key_version(sealed) != version:
            s.execute(update(ContactPhone).where(ContactPhone.id == pid)
                      .values(phone_sealed=codec.seal(tid, codec.open(tid, sealed))))
            phones += 1
    for c in s.scalars(select(Contact).where(Contact.tenant_id == tid)):
        name = codec.open_text(tid, c.name)
        attrs = codec.open_json(tid, c.attributes)
        c.name = codec.seal_text(tid, name)
        c.attributes = codec.seal_json(tid, attrs)
        contacts += 1
    audit(uow, "keys.rotate", "tenant", tid, now, version=version, phones=phones, contacts=contacts)
    uow.commit()
    return {"version": version, "phones_resealed": phones, "contacts_resealed": contacts}
