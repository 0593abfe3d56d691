"""Keeps the report rollup (``report_hourly``, ``report_day_contacts``) in step with CDRs,
dispositions and script assignments, in the transaction that writes them.

The unit of change is a contact's local day: before a write, the facts of every touched
(contact, day) are read from the raw tables; after it, again; the rollup gets the difference.
So a disposition that arrives after its CDR moves the call from one disposition code to
another, and a contact dialled twice in a day still counts once among the day's distinct
contacts. On PostgreSQL each touched contact is locked (transaction advisory lock, in sorted
order) before its facts are read, so two writers never count from the same stale state.

Writers of contact tags (imports, the customer API, erasure) track the contacts they change
the same way. The facts follow the report's raw definitions (``service.analytics.kpis``): a CDR's disposition
is its latest by ``set_at`` (connected calls only), its script the contact's latest assignment in
the campaign, else the campaign's script, else ``(none)``; its tags the contact's current tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, exists, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from waihu.adapters.storage.models import Campaign, Cdr, Contact, DispositionRecord, Tenant
from waihu.adapters.storage.models_analytics import (
    ReportDayContacts,
    ReportHourly,
    ReportRollupState,
    ScriptAssignment,
)
from waihu.domain.calls import ANSWERED_OUTCOMES, Outcome

NONE = "(none)"
ANSWERED = frozenset(o.value for o in ANSWERED_OUTCOMES)
HOURLY_DIMS = ("all", "agent", "outcome", "script", "tag")
CHUNK = 500


@dataclass(frozen=True)
class Fact:
    """What one CDR contributes to the rollup."""

    cdr_id: str
    campaign_id: str
    contact_id: str
    dial_at: datetime
    outcome: str
    agent: str
    talk: Decimal
    code: str  # latest disposition code, "" without one
    wrap: float
    script: str
    tags: tuple[str, ...]  # the contact's tags now, as stored (``(none)`` without any)


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def hour_of(t: datetime) -> datetime:
    return _utc(t).replace(minute=0, second=0, microsecond=0)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def state(conn: Connection, tenant_id: str) -> tuple[str, bool] | None:
    row = conn.execute(select(ReportRollupState.tz, ReportRollupState.ready)
                       .where(ReportRollupState.tenant_id == tenant_id)).first()
    return (row[0], bool(row[1])) if row else None


def set_state(conn: Connection, tenant_id: str, tz: str, ready: bool, now: datetime) -> None:
    st = ReportRollupState
    if state(conn, tenant_id) is None:
        conn.execute(insert(st).values(tenant_id=tenant_id, tz=tz, ready=ready, built_at=now))
    else:
        conn.execute(update(st).where(st.tenant_id == tenant_id).values(tz=tz, ready=ready, built_at=now))


def invalidate(conn: Connection, tenant_id: str) -> None:
    """Something the rollup cannot follow changed (a campaign's script): reports compute from
    the CDRs until ``rebuild``."""
    st = ReportRollupState
    conn.execute(update(st).where(st.tenant_id == tenant_id).values(ready=False))


def _zone_for(conn: Connection, tenant_id: str) -> str | None:
    """The zone to maintain the rollup in, or None when it is not maintained (not ready: a
    rebuild will recompute it). A tenant without any CDR yet starts a ready rollup."""
    st = state(conn, tenant_id)
    if st is not None:
        return st[0] if st[1] else None
    if conn.execute(select(exists().where(Cdr.tenant_id == tenant_id))).scalar():
        return None
    tz = conn.execute(select(Tenant.timezone).where(Tenant.id == tenant_id)).scalar() or "Asia/Shanghai"
    set_state(conn, tenant_id, tz, True, datetime.now(UTC))
    return tz


@dataclass(frozen=True)
class _Row:
    id: str
    campaign_id: str
    contact_id: str
    dial_at: datetime
    outcome: str
    agent_id: str | None
    talk: Decimal
    end_at: datetime


class Tracker:
    """``begin`` before writing CDRs, dispositions or assignments; ``finish`` after, in the same
    transaction."""

    def __init__(self, conn: Connection, tenant_id: str, tz: str) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.zone = ZoneInfo(tz)
        self.tz = tz
        self.touched: dict[str, set[str]] = {}  # contact -> local days
        self.before: list[Fact] = []
        self.batch = False  # a store flush: the after state is the before state plus its rows
        self.cdrs: Sequence[dict[str, Any]] = ()
        self.disps: Sequence[dict[str, Any]] = ()
        self.extra_pairs: set[tuple[str, str]] = set()
        self.rows: dict[str, _Row] = {}
        self.latest: dict[str, tuple[datetime, str]] = {}  # call -> (set_at, code) of its latest disposition
        self.script: dict[tuple[str, str], str] = {}
        self.tags: dict[str, tuple[str, ...]] = {}

    @classmethod
    def begin(cls, conn: Connection, tenant_id: str, *, cdrs: Sequence[dict[str, Any]] = (),
              disps: Sequence[dict[str, Any]] = (), contacts: Sequence[str] = ()) -> Tracker | None:
        """New CDR rows, new disposition rows (by call id) and contacts whose every day may
        change (new script assignments)."""
        tz = _zone_for(conn, tenant_id)
        if tz is None:
            return None
        t = cls(conn, tenant_id, tz)
        t.batch, t.cdrs, t.disps = not contacts, cdrs, disps
        t.extra_pairs = {(c["campaign_id"], c["contact_id"]) for c in cdrs}
        known = {c["id"]: c for c in cdrs}
        for c in cdrs:
            t.touched.setdefault(c["contact_id"], set()).add(t.day(c["dial_at"]))
        missing = sorted({d["call_id"] for d in disps if d["call_id"] not in known})
        for part in _chunks(missing):
            for contact, dial in conn.execute(select(Cdr.contact_id, Cdr.dial_at).where(
                    Cdr.tenant_id == tenant_id, Cdr.id.in_(part))):
                t.touched.setdefault(contact, set()).add(t.day(dial))
        for part in _chunks(sorted(set(contacts))):
            for contact, dial in conn.execute(select(Cdr.contact_id, Cdr.dial_at).where(
                    Cdr.tenant_id == tenant_id, Cdr.contact_id.in_(part))):
                t.touched.setdefault(contact, set()).add(t.day(dial))
        if not t.touched:
            return None
        t._lock()
        t.before = t.facts()
        return t

    def day(self, at: datetime) -> str:
        return _utc(at).astimezone(self.zone).date().isoformat()

    def local_hour(self, at: datetime) -> int:
        return _utc(at).astimezone(self.zone).hour

    def _lock(self) -> None:
        if self.conn.dialect.name != "postgresql":
            return  # SQLite has one writer at a time
        keys = sorted(f"{self.tenant_id}:{c}" for c in self.touched)
        self.conn.execute(text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(x, 7) AS k "
            "FROM unnest(CAST(:keys AS text[])) AS x ORDER BY 1 OFFSET 0) AS s"), {"keys": keys})

    def facts(self) -> list[Fact]:
        """The facts of the touched contact-days, from the raw tables (also remembering the
        latest dispositions, scripts and tags read, for ``finish`` after a store flush)."""
        conn, tid = self.conn, self.tenant_id
        days = [d for ds in self.touched.values() for d in ds]
        lo = datetime.combine(datetime.fromisoformat(min(days)).date(), datetime.min.time(), self.zone) \
            - timedelta(days=1)
        hi = datetime.combine(datetime.fromisoformat(max(days)).date(), datetime.min.time(), self.zone) \
            + timedelta(days=2)
        d = DispositionRecord
        rows: dict[str, _Row] = {}
        self.latest = {}
        for part in _chunks(sorted(self.touched)):
            for r in conn.execute(select(
                    Cdr.id, Cdr.campaign_id, Cdr.contact_id, Cdr.dial_at, Cdr.outcome, Cdr.agent_id, Cdr.talk_seconds,
                    Cdr.end_at, d.code, d.set_at)
                    .outerjoin(d, (d.call_id == Cdr.id) & (func.coalesce(d.tenant_id, "") == tid)
                               & (Cdr.outcome == Outcome.CONNECTED.value))
                    # coalesce(): probe the contact index, not a range of the tenant's dial times
                    .where(func.coalesce(Cdr.tenant_id, "") == tid, Cdr.contact_id.in_(part), Cdr.dial_at >= lo,
                           Cdr.dial_at < hi)):
                if self.day(r.dial_at) not in self.touched.get(r.contact_id, ()):
                    continue
                rows[r.id] = _Row(r.id, r.campaign_id, r.contact_id, _utc(r.dial_at), r.outcome, r.agent_id,
                                  Decimal(r.talk_seconds or 0), _utc(r.end_at))
                if r.code is not None and (r.id not in self.latest or _utc(r.set_at) > self.latest[r.id][0]):
                    self.latest[r.id] = (_utc(r.set_at), r.code)
        self.rows = rows
        pairs = {(r.campaign_id, r.contact_id) for r in rows.values()} | self.extra_pairs
        self.script = self._scripts(pairs)
        self.tags = {}
        for part in _chunks(sorted(self.touched)):
            for cid, tl in conn.execute(select(Contact.id, Contact.tags).where(
                    Contact.tenant_id == tid, Contact.id.in_(part))):
                self.tags[cid] = tuple(str(x) for x in tl or ()) or (NONE,)
        return self._build()

    def _build(self) -> list[Fact]:
        out = []
        for r in self.rows.values():
            disp = self.latest.get(r.id)
            wrap = (disp[0] - r.end_at).total_seconds() if disp else 0.0
            out.append(Fact(r.id, r.campaign_id, r.contact_id, r.dial_at, r.outcome, r.agent_id or NONE, r.talk,
                            disp[1] if disp else "", wrap, self.script.get((r.campaign_id, r.contact_id), NONE),
                            self.tags.get(r.contact_id, (NONE,))))
        return out

    def _after_batch(self) -> list[Fact]:
        """The facts after a store flush of ``cdrs`` and ``disps``, without reading them back."""
        for c in self.cdrs:
            self.rows[c["id"]] = _Row(c["id"], c["campaign_id"], c["contact_id"], _utc(c["dial_at"]), c["outcome"],
                                      c["agent_id"], Decimal(c["talk_seconds"] or 0), _utc(c["end_at"]))
        for dr in self.disps:
            row = self.rows.get(dr["call_id"])
            if row is None or row.outcome != Outcome.CONNECTED.value:
                continue  # a disposition of a call on no touched day, or not connected: not counted
            at = _utc(dr["set_at"])
            if row.id not in self.latest or at > self.latest[row.id][0]:
                self.latest[row.id] = (at, dr["code"])
        return self._build()

    def _scripts(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not pairs:
            return {}
        conn, sa = self.conn, ScriptAssignment
        camps = sorted({c for c, _ in pairs})
        refs = dict(conn.execute(select(Campaign.id, Campaign.script_ref).where(Campaign.id.in_(camps))).all())
        best: dict[tuple[str, str], tuple[datetime, str]] = {}
        contacts = sorted({k for _, k in pairs})
        for part in _chunks(contacts):
            for camp, contact, variant, at in conn.execute(select(
                    sa.campaign_id, sa.contact_id, sa.variant, sa.assigned_at).where(
                    sa.tenant_id == self.tenant_id, sa.campaign_id.in_(camps), sa.contact_id.in_(part))):
                k = (camp, contact)
                if k in pairs and (k not in best or _utc(at) > best[k][0]):
                    best[k] = (_utc(at), variant)
        return {k: best[k][1] if k in best else (refs.get(k[0]) or NONE) for k in pairs}

    def finish(self) -> None:
        after = self._after_batch() if self.batch else self.facts()
        self._apply_hourly(self.before, after)
        self._apply_days(self.before, after)

    # ---------------------------------------------------------------- hourly sums
    @staticmethod
    def _hourly_rows(f: Fact) -> list[tuple[tuple[str, datetime, str, str, str], tuple[Any, ...]]]:
        answered = f.outcome in ANSWERED
        vec = (1, int(answered), int(f.outcome == Outcome.CONNECTED.value), int(f.outcome == Outcome.ABANDONED.value),
               int(f.code != ""), f.talk, f.wrap if f.code else 0.0)
        h = hour_of(f.dial_at)
        values = [("all", ""), ("agent", f.agent), ("outcome", f.outcome), ("script", f.script),
                  *[("tag", t) for t in f.tags]]  # a tag listed twice counts twice, as in the raw report
        return [((f.campaign_id, h, dim, value, f.code), vec) for dim, value in values]

    def _apply_hourly(self, before: list[Fact], after: list[Fact]) -> None:
        old = {f.cdr_id: f for f in before}
        new = {f.cdr_id: f for f in after}
        delta: dict[tuple[str, datetime, str, str, str], list[Any]] = {}

        def add(f: Fact, sign: int) -> None:
            for key, vec in self._hourly_rows(f):
                acc = delta.setdefault(key, [0, 0, 0, 0, 0, Decimal(0), 0.0])
                for i, v in enumerate(vec):
                    acc[i] += v * sign
        for cid in old.keys() | new.keys():
            a, b = old.get(cid), new.get(cid)
            if a == b:
                continue
            if a is not None:
                add(a, -1)
            if b is not None:
                add(b, 1)
        cols = ("attempts", "answered", "connected", "abandoned", "dispositions", "talk_seconds", "wrap_seconds")
        rows = [{"tenant_id": self.tenant_id, "campaign_id": k[0], "hour": k[1], "dim": k[2], "value": k[3],
                 "code": k[4], **dict(zip(cols, v, strict=True))}
                for k, v in sorted(delta.items()) if any(x != 0 for x in v)]
        _upsert(self.conn, ReportHourly.__table__, rows, cols)

    # ---------------------------------------------------------------- distinct contacts per day
    def _members(self, facts: list[Fact]) -> dict[tuple[str, str, str, str, str], bool]:
        """(contact, day, campaign scope, dim, value) -> answered at least once."""
        out: dict[tuple[str, str, str, str, str], bool] = {}
        for f in facts:
            day = self.day(f.dial_at)
            ans = f.outcome in ANSWERED
            keys = [("", "all", ""), (f.campaign_id, "all", ""), ("", "agent", f.agent),
                    ("", "hour", str(self.local_hour(f.dial_at))), ("", "outcome", f.outcome),
                    ("", "disposition", f.code or NONE), ("", "script", f.script), *[("", "tag", t) for t in f.tags]]
            for scope, dim, value in keys:
                k = (f.contact_id, day, scope, dim, value)
                out[k] = out.get(k, False) or ans
        return out

    def _apply_days(self, before: list[Fact], after: list[Fact]) -> None:
        old, new = self._members(before), self._members(after)
        delta: dict[tuple[str, str, str, str], list[int]] = {}
        for k in old.keys() | new.keys():
            a, b = old.get(k), new.get(k)
            if a == b:
                continue
            acc = delta.setdefault(k[1:], [0, 0])
            acc[0] += (b is not None) - (a is not None)
            acc[1] += int(bool(b)) - int(bool(a))
        rows = [{"tenant_id": self.tenant_id, "tz": self.tz, "day": k[0], "campaign_id": k[1], "dim": k[2],
                 "value": k[3], "contacts_dialled": v[0], "contacts_answered": v[1]}
                for k, v in sorted(delta.items()) if v != [0, 0]]
        _upsert(self.conn, ReportDayContacts.__table__, rows, ("contacts_dialled", "contacts_answered"))


def _upsert(conn: Connection, table: Any, rows: list[dict[str, Any]], cols: Sequence[str]) -> None:
    """Insert the rows, or add their columns to the existing row with the same key."""
    if not rows:
        return
    ins: Any = (postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table))
    keys = [c.name for c in table.primary_key.columns]
    stmt = ins.on_conflict_do_update(index_elements=keys,
                                     set_={c: table.c[c] + ins.excluded[c] for c in cols})
    conn.execute(stmt, rows)
