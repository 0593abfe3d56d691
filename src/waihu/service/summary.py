"""Campaign summary, computed in the database from CDRs, contact states and agent sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select

from waihu.adapters.storage.models import AgentSession, Campaign, CampaignContact, Cdr, DialDecision
from waihu.adapters.storage.models_pacing import PacingLogEntry
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.calls import ANSWERED_OUTCOMES, Outcome
from waihu.domain.campaigns import ContactState
from waihu.domain.metrics import abandon_rate, connect_rate, talk_occupancy
from waihu.domain.timeutil import to_dt, to_ts
from waihu.service.lines import to_domain, visible_trunks

ANSWERED = [o.value for o in ANSWERED_OUTCOMES]


def campaign_summary(uow: UnitOfWork, c: Campaign) -> dict[str, Any]:
    s, tid = uow.session, uow.tenant_id
    by_outcome = {o: int(n) for o, n in s.execute(
        select(Cdr.outcome, func.count()).where(Cdr.tenant_id == tid, Cdr.campaign_id == c.id)
        .group_by(Cdr.outcome))}
    attempts = sum(by_outcome.values())
    connected = by_outcome.get(Outcome.CONNECTED.value, 0)
    abandoned = by_outcome.get(Outcome.ABANDONED.value, 0)
    answered = connected + abandoned
    dialled = s.scalar(select(func.count(distinct(Cdr.contact_id))).where(
        Cdr.tenant_id == tid, Cdr.campaign_id == c.id)) or 0
    reached = s.scalar(select(func.count(distinct(Cdr.contact_id))).where(
        Cdr.tenant_id == tid, Cdr.campaign_id == c.id, Cdr.outcome.in_(ANSWERED))) or 0
    talk = float(s.scalar(select(func.coalesce(func.sum(Cdr.talk_seconds), 0)).where(
        Cdr.tenant_id == tid, Cdr.campaign_id == c.id)) or 0)
    logged = 0.0
    for login, logout in s.execute(select(AgentSession.login_at, AgentSession.logout_at).where(
            AgentSession.tenant_id == tid, AgentSession.campaign_id == c.id, AgentSession.logout_at.is_not(None))):
        if logout is not None:
            logged += to_ts(logout) - to_ts(login)
    states = {st: int(n) for st, n in s.execute(
        select(CampaignContact.state, func.count()).where(
            CampaignContact.tenant_id == tid, CampaignContact.campaign_id == c.id).group_by(CampaignContact.state))}
    holds: dict[str, int] = {}
    split: dict[str, dict[str, int]] = {"blocked": {}, "deferred": {}, "overridden": {}}
    for reasons, until in s.execute(select(DialDecision.reasons, DialDecision.until).where(
            DialDecision.tenant_id == tid, DialDecision.campaign_id == c.id)):
        # compliance: a hold without ``until`` is final (blocked); an override is recorded, not held
        kind = "overridden" if reasons[:1] == ["compliance.override"] else "blocked" if until is None else "deferred"
        for r in reasons:
            holds[r] = holds.get(r, 0) + 1
            split[kind][r] = split[kind].get(r, 0) + 1
    contacts = sum(states.values())
    # numbers the pre-check found empty, suspended or powered off: attempts never paid for
    skipped = sum(n for r, n in holds.items() if r.startswith("number_status."))
    prices = [t.cost_per_attempt for t in map(to_domain, visible_trunks(uow)) if t.allows(c.job_type)]
    return {
        "campaign": c.name,
        "campaign_id": c.id,
        "state": c.state,
        "mode": c.dial_mode,
        "job_type": c.job_type,
        "contacts": contacts,
        "attempts": attempts,
        "answered": answered,
        "connected": connected,
        "abandoned": abandoned,
        "cdrs": attempts,
        "contacts_finished": states.get(ContactState.FINISHED.value, 0),
        "contacts_exhausted": states.get(ContactState.EXHAUSTED.value, 0),
        "contacts_pending": states.get(ContactState.PENDING.value, 0) + states.get(ContactState.ACTIVE.value, 0),
        "connect_rate": round(connect_rate(reached, dialled), 6),
        "abandon_rate": round(abandon_rate(abandoned, answered), 6),
        "occupancy": round(talk_occupancy(talk, logged), 6),
        "talk_seconds": round(talk, 3),
        "agent_logged_seconds": round(logged, 3),
        "outcomes": dict(sorted(by_outcome.items())),
        "held_by_reason": dict(sorted(holds.items())),
        "blocked_by_reason": dict(sorted(split["blocked"].items())),
        "deferred_by_reason": dict(sorted(split["deferred"].items())),
        "overridden_by_reason": dict(sorted(split["overridden"].items())),
        "number_status": {"skipped": skipped,  # saved at the cheapest eligible trunk's price per attempt
                          "saved_cost": round(skipped * (min(prices) if prices else 0.0), 4)},
    }


def pacing_log(uow: UnitOfWork, c: Campaign, *, limit: int = 50, since: datetime | None = None) -> list[dict[str, Any]]:
    """The campaign's most recent pacing decisions (oldest first), each with the inputs it used."""
    q = select(PacingLogEntry).where(PacingLogEntry.tenant_id == uow.tenant_id, PacingLogEntry.campaign_id == c.id)
    if since is not None:
        q = q.where(PacingLogEntry.at >= since)
    rows = list(uow.session.scalars(q.order_by(PacingLogEntry.at.desc(), PacingLogEntry.id).limit(limit)))
    return [{"at": to_dt(to_ts(r.at)).isoformat(), "placed": r.placed, "inputs": r.inputs} for r in reversed(rows)]
