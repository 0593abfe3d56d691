"""``ComplianceScreen``: the engine's ``screen`` hook, backed by the database.

The engine is pure, so the screen keeps what the decision needs in memory: per callee (blind
index) the recent attempts from CDRs, DNC entries and consent. It is primed from the database
when contacts are loaded (``ScreenedStore``) or, for a contact it has not seen, on first use;
it then follows the CDRs the runtime writes (``observe``), so the caps hold across campaigns and
after a restart (a new screen reads the CDRs again). A ``do_not_call`` / complaint disposition
adds a DNC entry at once, in memory and in the database (with a change signal for the tenant's
other dialers, ``LiveHost.check_dnc``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from waihu.adapters.storage import compliance_repo as repo
from waihu.adapters.storage.models import AuditEntry, Campaign, Tenant
from waihu.adapters.storage.models_compliance import GLOBAL
from waihu.domain.compliance import Attempt, Candidate, Decision, decide
from waihu.domain.compliance_rules import DAY, Rules, build_rules
from waihu.domain.messages import Command, Dial, DialTarget, RecordHold, WriteCdr, WriteDisposition
from waihu.domain.timeutil import to_dt
from waihu.engine.config import CampaignSpec, Screening
from waihu.ports import DialerStore

# dispositions that put the callee on the tenant's DNC list, with the entry's source
DNC_DISPOSITIONS = {"do_not_call": "customer_request", "opt_out": "ivr_opt_out", "complaint": "complaint"}
INF = float("inf")


@dataclass
class Callee:
    attempts: dict[str, Attempt] = field(default_factory=dict)  # call id -> attempt
    dnc: dict[str, float] = field(default_factory=dict)  # campaign id ('' = all) -> until (inf: permanent)
    erased: bool = False  # no contact of the tenant holds the number any more


class ComplianceScreen:
    def __init__(self, engine: Engine, tenant_id: str, hasher: Callable[[str], str],
                 tenant_rules: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.hasher = hasher
        self.tenant_rules = tenant_rules or {}
        self.rules: dict[str, Rules] = {}
        self.job_types: dict[str, str] = {}
        self.callees: dict[str, Callee] = {}
        self.consent: dict[str, set[str]] = {}
        self.hash_of: dict[str, str] = {}  # phone ref and contact id -> blind index
        self.decisions: list[tuple[str, float, Decision]] = []  # (contact id, at, decision) when held
        self.keep_decisions = False

    # ------------------------------------------------------------------ configuration
    def add_campaign(self, campaign_id: str, job_type: str, cfg: dict[str, Any] | None) -> Rules:
        rules = build_rules(self.tenant_rules, cfg, job_type)
        self.rules[campaign_id] = rules
        self.job_types[campaign_id] = job_type
        return rules

    def rules_for(self, spec: CampaignSpec) -> Rules:
        if spec.campaign_id not in self.rules:  # a campaign not named at construction: read its options
            with self.engine.connect() as conn:
                options = conn.execute(select(Campaign.options).where(
                    Campaign.tenant_id == self.tenant_id, Campaign.id == spec.campaign_id)).scalar()
            self.add_campaign(spec.campaign_id, spec.job_type, (options or {}).get("compliance"))
        return self.rules[spec.campaign_id]

    def reload(self) -> None:
        """Read the tenant's rules again; every campaign's are merged again at its next dial."""
        with self.engine.connect() as conn:
            self.tenant_rules = _tenant_rules(conn, self.tenant_id)
        self.rules.clear()

    def refresh_dnc(self, hashes: Sequence[str]) -> None:
        """Read these numbers' DNC entries again (an entry was added or removed elsewhere), and
        whether a contact still holds them (an erasure signals its numbers the same way)."""
        known = [h for h in hashes if h in self.callees]
        for h in known:
            self.callees[h].dnc = {}
        self._add_dnc(known)
        held = repo.numbers_held(self.engine, self.tenant_id, known)
        for h in known:
            self.callees[h].erased = h not in held

    def refresh_changed(self, hashes: Collection[str] | None) -> None:
        """Read again the numbers a DNC change signal names (``DncFollower.poll``); None: many
        changed, every callee known is read again."""
        self.refresh_dnc(list(self.callees) if hashes is None else sorted(hashes))

    def _add_dnc(self, hashes: Sequence[str]) -> None:
        """Read the DNC entries of these (known) callees: per list, the latest expiry (inf: permanent)."""
        for d in repo.dnc_facts(self.engine, self.tenant_id, hashes):
            until = INF if d.expires_at is None else d.expires_at
            c = self.callees[d.phone_hash].dnc
            c[d.campaign_id] = max(c.get(d.campaign_id, 0.0), until)

    def lookback(self) -> float:
        days = max([r.marketed_days or 0 for r in self.rules.values()] + [2])
        return days * DAY

    # ------------------------------------------------------------------ loading
    def prime(self, targets: Sequence[DialTarget], now: float) -> None:
        hashes = []
        for t in targets:
            h = self.hasher(t.phone.e164)
            self.hash_of[t.phone_ref] = h
            self.hash_of[t.contact_id] = h
            hashes.append(h)
        fresh = sorted({h for h in hashes})
        for h in fresh:
            self.callees[h] = Callee(attempts=dict(self.callees[h].attempts) if h in self.callees else {})
        for f in repo.callee_history(self.engine, self.tenant_id, fresh, now - self.lookback()):
            self.callees[f.phone_hash].attempts[f.call_id] = Attempt(
                f.dial_at, f.chain_id, f.campaign_id, f.job_type == "marketing", f.call_id)
        self._add_dnc(fresh)
        self.consent.update(repo.consented(self.engine, self.tenant_id, [t.contact_id for t in targets], now))

    # ------------------------------------------------------------------ the hook
    def candidate(self, target: DialTarget, spec: CampaignSpec, now: float) -> Candidate:
        h = self.hash_of.get(target.phone_ref) or self.hasher(target.phone.e164)
        if h not in self.callees or target.contact_id not in self.hash_of:
            self.prime([target], now)
        callee = self.callees[h]
        dnc = [u for cid, u in callee.dnc.items() if cid in (GLOBAL, spec.campaign_id) and u > now]
        scopes = self.consent.get(target.contact_id, set())
        return Candidate(phone_hash=h, campaign_id=spec.campaign_id, timezone=target.timezone,
                         region=target.region, caller_id=spec.default_caller_id, attempts=target.attempts,
                         chain_id=target.chain_id, history=tuple(callee.attempts.values()),
                         dnc_until=max(dnc) if dnc else None, erased=callee.erased,
                         consent="all" in scopes or spec.job_type in scopes)

    def decide(self, target: DialTarget, spec: CampaignSpec, now: float) -> Decision:
        return decide(self.candidate(target, spec, now), self.rules_for(spec), now)

    def __call__(self, target: DialTarget, spec: CampaignSpec, now: float) -> Screening:
        d = self.decide(target, spec, now)
        if not d.allow and self.keep_decisions:
            self.decisions.append((target.contact_id, now, d))
        return Screening(d.allow, d.reasons, d.until)

    # ------------------------------------------------------------------ following the runtime
    def observe(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, Dial):  # the call counts from the moment it is placed, before its CDR
            h = self.hash_of.get(cmd.contact_id)
            if h is not None:
                marketing = self.job_types.get(cmd.campaign_id) == "marketing"
                self.callees.setdefault(h, Callee()).attempts[cmd.call_id] = Attempt(
                    now, cmd.chain_id, cmd.campaign_id, marketing, cmd.call_id)
        elif isinstance(cmd, RecordHold) and "override" in cmd.detail:
            with self.engine.begin() as conn:
                conn.execute(insert(AuditEntry), [{
                    "id": uuid.uuid4().hex, "tenant_id": self.tenant_id, "actor": "supervisor",
                    "action": "compliance.override", "object_type": "contact", "object_id": cmd.contact_id,
                    "at": to_dt(now), "detail": {"reasons": list(cmd.reasons[1:]), "campaign_id": cmd.campaign_id,
                                                 "override": str(cmd.detail["override"])}}])
        elif isinstance(cmd, WriteCdr):
            r = cmd.record
            h = self.hash_of.get(r.phone_ref)
            if h is not None:
                marketing = self.job_types.get(r.campaign_id) == "marketing"
                self.callees.setdefault(h, Callee()).attempts[r.call_id] = Attempt(
                    r.dial_at, r.chain_id, r.campaign_id, marketing, r.call_id)
        elif isinstance(cmd, WriteDisposition) and cmd.code in DNC_DISPOSITIONS:
            h = self.hash_of.get(cmd.contact_id)
            if h is not None:
                self.callees.setdefault(h, Callee()).dnc[GLOBAL] = INF
                with self.engine.begin() as conn:
                    repo.upsert_dnc(conn, [repo.dnc_row(h, self.tenant_id, GLOBAL, DNC_DISPOSITIONS[cmd.code],
                                                        None, now)])
                    repo.note_dnc_change(conn, self.tenant_id, [h], now)  # the tenant's other dialers


class ScreenedStore:
    """A ``DialerStore`` that primes the screen with every batch of contacts it loads."""

    def __init__(self, inner: DialerStore, screen: ComplianceScreen) -> None:
        self.inner = inner
        self.screen = screen

    def load_contacts(self, campaign_id: str, limit: int, now: float) -> tuple[list[DialTarget], float | None]:
        targets, nxt = self.inner.load_contacts(campaign_id, limit, now)
        if targets:
            self.screen.prime(targets, now)
        return targets, nxt

    def apply(self, commands: Sequence[Command]) -> None:
        self.inner.apply(commands)

    def flush(self) -> None:
        self.inner.flush()


def _tenant_rules(conn: Connection, tenant_id: str) -> dict[str, Any]:
    settings = conn.execute(select(Tenant.settings).where(Tenant.id == tenant_id)).scalar() or {}
    return dict(dict(settings).get("compliance") or {})


def load_screen(engine: Engine, hasher: Callable[[str], str], tenant_id: str,
                campaign_ids: Sequence[str] = ()) -> ComplianceScreen:
    """A screen for one tenant with the rules of the given campaigns (validated: bad rules raise)."""
    with engine.connect() as conn:
        screen = ComplianceScreen(engine, tenant_id, hasher, _tenant_rules(conn, tenant_id))
        if campaign_ids:
            rows = conn.execute(select(Campaign.id, Campaign.job_type, Campaign.options).where(
                Campaign.tenant_id == tenant_id, Campaign.id.in_(list(campaign_ids))))
            for cid, job_type, options in rows:
                screen.add_campaign(cid, job_type, (options or {}).get("compliance"))
    return screen
