"""Reads and writes for compliance: callee history from CDRs, DNC entries, consent evidence.

Every query is scoped to one tenant (plus the global DNC list, ``tenant_id = ''``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, delete, func, insert, null, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from waihu.adapters.storage.models import Campaign, Cdr, ContactPhone
from waihu.adapters.storage.models_compliance import DNC_KEY_LEN, GLOBAL, Consent, DncChange, DncEntry, DncKey
from waihu.domain.timeutil import opt_dt, to_dt, to_ts

CHUNK = 500
KEY_CHUNK = 10_000
CHANGE_HASHES = 1000  # a DNC change of more numbers is signalled as "many" (every known number is read again)


@dataclass(frozen=True, slots=True)
class CdrFact:
    phone_hash: str
    call_id: str
    campaign_id: str
    chain_id: str | None
    dial_at: float
    job_type: str


@dataclass(frozen=True, slots=True)
class DncFact:
    phone_hash: str
    tenant_id: str
    campaign_id: str
    source: str
    expires_at: float | None  # None: permanent
    created_at: float
    masked: str | None = None
    note: str | None = None
    created_by: str | None = None


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def callee_history(engine: Engine, tenant_id: str, hashes: Sequence[str], since: float) -> list[CdrFact]:
    out: list[CdrFact] = []
    with engine.connect() as conn:
        for part in _chunks(hashes):
            q = (select(Cdr.phone_hash, Cdr.id, Cdr.campaign_id, Cdr.chain_id, Cdr.dial_at, Campaign.job_type)
                 .join(Campaign, Campaign.id == Cdr.campaign_id)
                 .where(Cdr.tenant_id == tenant_id, Cdr.phone_hash.in_(part), Cdr.dial_at >= to_dt(since)))
            out += [CdrFact(r[0], r[1], r[2], r[3], to_ts(r[4]), r[5]) for r in conn.execute(q)]
    return out


def numbers_held(engine: Engine, tenant_id: str, hashes: Sequence[str]) -> set[str]:
    """Which of these blind indexes still belong to a contact of the tenant."""
    out: set[str] = set()
    with engine.connect() as conn:
        for part in _chunks(hashes):
            out.update(conn.scalars(select(ContactPhone.phone_hash).where(
                ContactPhone.tenant_id == tenant_id, ContactPhone.phone_hash.in_(part))))
    return out


def dnc_facts(engine: Engine, tenant_id: str, hashes: Sequence[str]) -> list[DncFact]:
    out: list[DncFact] = []
    with engine.connect() as conn:
        for part in _chunks(hashes):
            q = select(DncEntry).where(DncEntry.phone_hash.in_(part), DncEntry.tenant_id.in_([GLOBAL, tenant_id]))
            out += [_fact(r) for r in conn.execute(q).mappings()]
    return out


def _fact(r: object) -> DncFact:
    m = dict(r)  # type: ignore[call-overload]
    exp = m["expires_at"]
    return DncFact(m["phone_hash"], m["tenant_id"], m["campaign_id"], m["source"],
                   to_ts(exp) if exp is not None else None, to_ts(m["created_at"]), m.get("masked"),
                   m.get("note"), m.get("created_by"))


def consented(engine: Engine, tenant_id: str, contact_ids: Sequence[str], now: float) -> dict[str, set[str]]:
    """Contact id -> the scopes of its valid consents (a job type, or ``all``)."""
    out: dict[str, set[str]] = {}
    t = to_dt(now)
    with engine.connect() as conn:
        for part in _chunks(contact_ids):
            q = select(Consent.contact_id, Consent.scope).where(
                Consent.tenant_id == tenant_id, Consent.contact_id.in_(part), Consent.revoked_at.is_(None),
                Consent.given_at <= t, (Consent.expires_at.is_(None)) | (Consent.expires_at > t))
            for cid, scope in conn.execute(q):
                out.setdefault(cid, set()).add(scope)
    return out


def upsert_dnc(conn: Connection, rows: Sequence[dict[str, object]]) -> int:
    """Insert DNC rows; an existing (hash, tenant, campaign) entry is replaced. Returns rows written."""
    if not rows:
        return 0
    for part_start in range(0, len(rows), CHUNK):
        part = rows[part_start:part_start + CHUNK]
        keys = [and_(DncEntry.phone_hash == r["phone_hash"], DncEntry.tenant_id == r["tenant_id"],
                     DncEntry.campaign_id == r["campaign_id"]) for r in part]
        for k in keys:
            conn.execute(delete(DncEntry).where(k))
        conn.execute(insert(DncEntry), list(part))
        add_dnc_keys(conn, [str(r["phone_hash"]) for r in part])
    return len(rows)


def add_dnc_keys(conn: Connection, hashes: Iterable[str]) -> None:
    """Keep the ``dnc_keys`` prefilter a superset of the listed numbers (call with every entry written)."""
    keys = sorted({h[:DNC_KEY_LEN] for h in hashes})
    if not keys:
        return
    ins = postgresql.insert(DncKey) if conn.dialect.name == "postgresql" else sqlite.insert(DncKey)
    for i in range(0, len(keys), KEY_CHUNK):
        conn.execute(ins.on_conflict_do_nothing(), [{"k": k} for k in keys[i:i + KEY_CHUNK]])


def dnc_row(phone_hash: str, tenant_id: str, campaign_id: str, source: str, expires_at: float | None,
            now: float, *, masked: str | None = None, note: str | None = None,
            created_by: str | None = None) -> dict[str, object]:
    return {"phone_hash": phone_hash, "tenant_id": tenant_id, "campaign_id": campaign_id, "source": source,
            "expires_at": opt_dt(expires_at), "created_at": to_dt(now), "masked": masked, "note": note,
            "created_by": created_by}


def active_dnc(conn: Connection, tenant_id: str, campaign_id: str | None, phone_hash: str,
               now: float) -> DncFact | None:
    """The entry that blocks this number now, if any: the global list, the tenant's, the campaign's."""
    scopes = or_(DncEntry.tenant_id == GLOBAL,
                 and_(DncEntry.tenant_id == tenant_id, DncEntry.campaign_id.in_([GLOBAL, campaign_id or GLOBAL])))
    q = select(DncEntry).where(DncEntry.phone_hash == phone_hash, scopes,
                               or_(DncEntry.expires_at.is_(None), DncEntry.expires_at > to_dt(now))).limit(1)
    row = conn.execute(q).mappings().first()
    return _fact(row) if row is not None else None


def list_dnc(conn: Connection, tenant_ids: Sequence[str], campaign_id: str | None = None,
             limit: int | None = None) -> list[DncFact]:
    q = select(DncEntry).where(DncEntry.tenant_id.in_(list(tenant_ids)))
    if campaign_id is not None:
        q = q.where(DncEntry.campaign_id == campaign_id)
    q = q.order_by(DncEntry.created_at, DncEntry.phone_hash)
    if limit is not None:
        q = q.limit(limit)
    return [_fact(r) for r in conn.execute(q).mappings()]


def remove_dnc(conn: Connection, phone_hash: str, tenant_id: str, campaign_id: str) -> int:
    res = conn.execute(delete(DncEntry).where(DncEntry.phone_hash == phone_hash, DncEntry.tenant_id == tenant_id,
                                              DncEntry.campaign_id == campaign_id))
    return int(res.rowcount or 0)


def note_dnc_change(conn: Connection, tenant_id: str, hashes: Iterable[str] | None, now: float) -> None:
    """Signal a DNC change to running dialers in other processes (``LiveHost.check_dnc``); call it
    in the transaction of the change. ``hashes`` None (or more than ``CHANGE_HASHES``): many."""
    listed = None if hashes is None else sorted(set(hashes))
    if listed is not None and not listed:
        return
    if listed is not None and len(listed) > CHANGE_HASHES:
        listed = None
    conn.execute(insert(DncChange).values(tenant_id=tenant_id, at=to_dt(now),
                                         hashes=null() if listed is None else listed))


@dataclass(frozen=True, slots=True)
class DncChangeFact:
    id: int
    tenant_id: str  # '' (GLOBAL): the global list
    hashes: list[str] | None  # None: many


def last_dnc_change(engine: Engine) -> int:
    """The id of the newest DNC change (0: none)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(DncChange.id))).scalar() or 0)


def dnc_changes(engine: Engine, after: int, also: Sequence[int] = ()) -> list[DncChangeFact]:
    """DNC changes newer than ``after`` and those of the ids ``also``, oldest first."""
    cond = DncChange.id > after
    if also:
        cond = or_(cond, DncChange.id.in_(list(also)))
    with engine.connect() as conn:
        rows = conn.execute(select(DncChange.id, DncChange.tenant_id, DncChange.hashes).where(cond)
                            .order_by(DncChange.id))
        return [DncChangeFact(int(i), t, None if h is None else [str(x) for x in h]) for i, t, h in rows]


def as_dt(ts: float | None) -> datetime | None:
    return opt_dt(ts)
