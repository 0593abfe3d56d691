"""The dialer's store on SQL: claims due contacts, writes CDRs, contact states and decisions.

Writes are buffered and land in one transaction per ``flush`` (the runtime flushes before any
result is reported; with ``autoflush`` every ``apply`` is durable at once). The same transaction
keeps the report rollup in step (``report_rollup``). On PostgreSQL,
contacts are claimed with ``FOR UPDATE SKIP LOCKED`` so two workers never dial one contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, case, func, insert, select, update

from waihu.adapters.storage import report_rollup
from waihu.adapters.storage.models import (
    CampaignContact,
    Cdr,
    Contact,
    ContactPhone,
    DialDecision,
    DispositionRecord,
    Tenant,
)
from waihu.adapters.storage.models_analytics import AnalyticsConfig
from waihu.adapters.storage.models_pacing import PacingLogEntry
from waihu.adapters.storage.pii import PiiCodec
from waihu.adapters.storage.uow import new_uuid
from waihu.domain.calls import Outcome
from waihu.domain.campaigns import ContactState
from waihu.domain.messages import (
    Command,
    DialTarget,
    LogPacing,
    RecordHold,
    UpdateContact,
    WriteCdr,
    WriteDisposition,
)
from waihu.domain.phone import PhoneNumber
from waihu.domain.timeutil import opt_dt, to_dt, to_ts

# segment dimensions of an adopted slot plan the contact query can order by
SLOT_SEGMENTS: dict[str, Any] = {"region": ContactPhone.region, "source": Contact.source}


class SqlDialerStore:
    def __init__(self, engine: Engine, codec: PiiCodec, tenant_id: str, *, autoflush: bool = False,
                 batch: int = 5000, new_id: Any = new_uuid) -> None:
        self.engine = engine
        self.codec = codec
        self.tenant_id = tenant_id
        self.autoflush = autoflush
        self.batch = batch
        self.new_id = new_id
        self.pg = engine.dialect.name == "postgresql"
        self._hash: dict[str, str] = {}  # phone id -> blind index, for CDRs
        self._cdrs: list[dict[str, Any]] = []
        self._contacts: list[dict[str, Any]] = []
        self._records: dict[str, dict[str, Any]] = {}  # customer-record accumulation per contact
        self._disps: list[dict[str, Any]] = []
        self._holds: list[dict[str, Any]] = []
        self._stages: dict[str, dict[str, Any]] = {}  # contact -> follow-up stage reached
        self._pacing: list[dict[str, Any]] = []
        self.cdr_count = 0
        self._tz: str | None = None  # the tenant's time zone, for the adopted slot plan

    def remember_phone(self, phone_ref: str, phone_hash: str) -> None:
        """The blind index of a number dialled without ``load_contacts`` (a call asked for directly)."""
        self._hash[phone_ref] = phone_hash

    # ------------------------------------------------------------------ reads
    def load_contacts(self, campaign_id: str, limit: int, now: float) -> tuple[list[DialTarget], float | None]:
        self.flush()
        cc, p = CampaignContact, ContactPhone
        due = to_dt(now)
        with self.engine.begin() as conn:
            q = (select(cc.id, cc.contact_id, cc.attempts, cc.priority, cc.owner_agent_id, cc.next_attempt_at,
                        p.id, p.phone_sealed, p.phone_hash, p.timezone, p.region)
                 .join(p, (p.contact_id == cc.contact_id) & (p.rank == 0))
                 .where(cc.tenant_id == self.tenant_id, cc.campaign_id == campaign_id,
                        cc.state == ContactState.PENDING.value, cc.next_attempt_at <= due))
            order: list[Any] = [cc.priority.desc()]
            prefer = self._slot_preference(conn, campaign_id, now)
            if prefer is not None:
                col, good = prefer
                if col is Contact.source:
                    q = q.join(Contact, Contact.id == cc.contact_id)
                match = col.in_(good) | col.is_(None) if "(none)" in good else col.in_(good)
                order.append(case((match, 0), else_=1))
            q = q.order_by(*order, cc.next_attempt_at, cc.seq).limit(limit)
            if self.pg:
                q = q.with_for_update(skip_locked=True, of=cc)
            rows = conn.execute(q).all()
            targets = []
            for r in rows:
                self._hash[r[6]] = r[8]
                phone = PhoneNumber(self.codec.open(self.tenant_id, r[7]))
                targets.append(DialTarget(contact_id=r[1], campaign_id=campaign_id, phone=phone, phone_ref=r[6],
                                          attempts=r[2], priority=r[3], owner_agent_id=r[4], timezone=r[9],
                                          region=r[10], next_attempt_at=to_ts(r[5])))
            if rows:
                conn.execute(update(cc).where(cc.id.in_([r[0] for r in rows]))
                             .values(state=ContactState.ACTIVE.value, updated_at=due))
            nxt = conn.execute(select(func.min(cc.next_attempt_at)).where(
                cc.tenant_id == self.tenant_id, cc.campaign_id == campaign_id,
                cc.state == ContactState.PENDING.value)).scalar()
        return targets, (to_ts(nxt) if nxt is not None else None)

    def _slot_preference(self, conn: Connection, campaign_id: str, now: float) -> tuple[Any, list[str]] | None:
        """The adopted slot plan's segments whose plan holds the current local weekday and hour
        (tenant time zone), and the column they are values of; None without such a plan."""
        cfg: dict[str, Any] = {}
        for _cid, config in conn.execute(select(AnalyticsConfig.campaign_id, AnalyticsConfig.config).where(
                AnalyticsConfig.tenant_id == self.tenant_id, AnalyticsConfig.campaign_id.in_(["", campaign_id]))
                .order_by(AnalyticsConfig.campaign_id)):  # the tenant's defaults, then the campaign's
            cfg.update({k: (config or {}).get(k) for k in ("slot_plan", "slot_segment") if k in (config or {})})
        plan, segment = cfg.get("slot_plan") or {}, cfg.get("slot_segment")
        col = SLOT_SEGMENTS.get(segment or "")
        if not plan or col is None:
            return None
        if self._tz is None:
            self._tz = conn.execute(select(Tenant.timezone).where(Tenant.id == self.tenant_id)).scalar() \
                or "Asia/Shanghai"
        local = datetime.fromtimestamp(now, ZoneInfo(self._tz))
        slot = [local.isoweekday(), local.hour]
        good = sorted(seg for seg, slots in plan.items() if slot in [list(x) for x in slots or []])
        return (col, good) if good else None

    # ------------------------------------------------------------------ writes
    def apply(self, commands: Sequence[Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, WriteCdr):
                self._cdr(cmd)
            elif isinstance(cmd, UpdateContact):
                self._contacts.append({
                    "b_campaign": cmd.campaign_id, "b_contact": cmd.contact_id, "state": cmd.state.value,
                    "attempts": cmd.attempts, "last_outcome": cmd.last_outcome.value if cmd.last_outcome else None,
                    "owner": cmd.owner_agent_id, "disp": cmd.disposition,
                    "due": opt_dt(cmd.next_attempt_at), "has_due": cmd.next_attempt_at is not None})
            elif isinstance(cmd, WriteDisposition):
                if cmd.stage is not None:
                    self._stages[cmd.contact_id] = {"b_id": cmd.contact_id, "stage": cmd.stage}
                self._disps.append({"id": self.new_id(), "tenant_id": self.tenant_id, "call_id": cmd.call_id,
                                    "campaign_id": cmd.campaign_id, "contact_id": cmd.contact_id,
                                    "agent_id": cmd.agent_id, "code": cmd.code, "note": cmd.note,
                                    "callback_at": opt_dt(cmd.callback_at), "set_at": to_dt(cmd.at)})
            elif isinstance(cmd, LogPacing):
                self._pacing.append({"id": self.new_id(), "tenant_id": self.tenant_id, "campaign_id": cmd.campaign_id,
                                     "at": to_dt(cmd.at), "placed": cmd.placed, "inputs": dict(cmd.inputs)})
            elif isinstance(cmd, RecordHold):
                self._holds.append({"id": self.new_id(), "tenant_id": self.tenant_id,
                                    "campaign_id": cmd.campaign_id, "contact_id": cmd.contact_id,
                                    "at": to_dt(cmd.at), "reasons": list(cmd.reasons), "until": opt_dt(cmd.until)})
        if self.autoflush or len(self._cdrs) + len(self._contacts) >= self.batch:
            self.flush()

    def _cdr(self, cmd: WriteCdr) -> None:
        r = cmd.record
        self._cdrs.append({
            "id": r.call_id, "tenant_id": r.tenant_id, "campaign_id": r.campaign_id, "contact_id": r.contact_id,
            "phone_id": r.phone_ref, "phone_hash": self._hash.get(r.phone_ref, ""), "attempt": r.attempt,
            "chain_id": r.chain_id, "mode": r.mode, "dial_at": to_dt(r.dial_at), "ring_at": opt_dt(r.ring_at),
            "answer_at": opt_dt(r.answer_at), "bridge_at": opt_dt(r.bridge_at), "end_at": to_dt(r.end_at),
            "outcome": r.outcome.value, "loss_cause": r.loss_cause.value if r.loss_cause else None,
            "sip_code": r.sip_code, "agent_id": r.agent_id, "trunk_id": r.trunk_id, "caller_id": r.caller_id,
            "hangup_by": r.hangup_by, "talk_seconds": Decimal(f"{r.talk_seconds:.3f}"),
            "route_reason": (r.extra.get("route") or None) and r.extra["route"][:300]})
        acc = self._records.get(r.contact_id)
        if acc is None:
            acc = self._records[r.contact_id] = {"b_id": r.contact_id, "n": 0, "conn": 0}
        acc["n"] += 1
        acc["conn"] += 1 if r.outcome is Outcome.CONNECTED else 0
        acc.update(at=to_dt(r.end_at), outcome=r.outcome.value, campaign=r.campaign_id)

    def flush(self) -> None:
        if not (self._cdrs or self._contacts or self._disps or self._holds or self._stages
                or self._pacing):
            return
        cc, ct = CampaignContact, Contact
        with self.engine.begin() as conn:
            rollup = (report_rollup.Tracker.begin(conn, self.tenant_id, cdrs=self._cdrs, disps=self._disps)
                      if self._cdrs or self._disps else None)
            if self._cdrs:
                conn.execute(insert(Cdr), self._cdrs)
                self.cdr_count += len(self._cdrs)
                conn.execute(update(ct).where(ct.id == bindparam("b_id")).values(
                    total_attempts=ct.total_attempts + bindparam("n"),
                    total_connects=ct.total_connects + bindparam("conn"),
                    last_contact_at=bindparam("at"), last_outcome=bindparam("outcome"),
                    last_campaign_id=bindparam("campaign"), updated_at=bindparam("at")), list(self._records.values()))
            if self._contacts:
                with_due = [c for c in self._contacts if c["has_due"]]
                without = [c for c in self._contacts if not c["has_due"]]
                base: dict[str, Any] = dict(state=bindparam("state"), attempts=bindparam("attempts"),
                            owner_agent_id=bindparam("owner"),
                            last_outcome=func.coalesce(bindparam("last_outcome"), cc.last_outcome),
                            last_disposition=func.coalesce(bindparam("disp"), cc.last_disposition))
                where = (cc.campaign_id == bindparam("b_campaign")) & (cc.contact_id == bindparam("b_contact"))
                if with_due:
                    conn.execute(update(cc).where(where).values(**base, next_attempt_at=bindparam("due")), with_due)
                if without:
                    conn.execute(update(cc).where(where).values(**base), without)
            if self._disps:
                conn.execute(insert(DispositionRecord), self._disps)
            if self._stages:
                conn.execute(update(ct).where(ct.id == bindparam("b_id")).values(follow_up_stage=bindparam("stage")),
                             list(self._stages.values()))
            if self._holds:
                conn.execute(insert(DialDecision), self._holds)
            if self._pacing:
                conn.execute(insert(PacingLogEntry), self._pacing)
            if rollup is not None:
                rollup.finish()
        self._cdrs, self._contacts, self._disps, self._holds = [], [], [], []
        self._records, self._stages, self._pacing = {}, {}, []
