"""A small hand-built campaign with known answers, written straight into the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from waihu.adapters.storage.models import AgentSession, Campaign, CampaignContact, Cdr, Contact, DispositionRecord
from waihu.bootstrap import Platform
from waihu.domain.campaigns import DEFAULT_DISPOSITIONS, Disposition
from waihu.service.campaigns import create_campaign
from waihu.service.tenants import ensure_tenant

NOW = datetime.fromisoformat("2026-01-05T08:00:00+08:00").timestamp()
DISPS = [*DEFAULT_DISPOSITIONS,
         Disposition("needs_ok", "需求确认", "Needs confirmed", final=False, callback=True, stage="needs"),
         Disposition("complaint", "投诉", "Complaint")]


def t(local: str) -> datetime:
    """Shanghai wall time as a UTC datetime (the tables store UTC)."""
    return datetime.fromisoformat(local + "+08:00").astimezone(UTC)


# contact, attempt, local dial time, outcome, agent, talk seconds, disposition, wrap seconds, trunk
CALLS: list[tuple[str, int, str, str, str | None, float, str | None, float, str]] = [
    ("c1", 1, "2026-01-05T09:10:00", "no_answer", None, 0, None, 0, "T1"),
    ("c1", 2, "2026-01-05T10:05:00", "connected", "A", 100, "success", 20, "T1"),
    ("c2", 1, "2026-01-05T09:20:00", "abandoned", None, 0, None, 0, "T1"),
    ("c2", 2, "2026-01-05T09:40:00", "connected", "B", 60, "not_interested", 10, "T2"),
    ("c3", 1, "2026-01-05T10:30:00", "busy", None, 0, None, 0, "T2"),
    ("c3", 2, "2026-01-06T07:30:00", "busy", None, 0, None, 0, "T2"),
    ("c4", 1, "2026-01-05T11:15:00", "connected", "A", 200, "complaint", 30, "T1"),
    ("c5", 1, "2026-01-05T11:20:00", "connected", "B", 50, "needs_ok", 40, "T2"),
]
FIELDS: dict[str, dict[str, Any]] = {"c1": {"age": 30}, "c2": {"age": 41}, "c3": {"age": 70}, "c4": {"age": "52"},
                                      "c5": {}}
TAGS: dict[str, list[str]] = {"c1": ["vip", "new"], "c2": ["new"], "c3": [], "c4": ["vip"], "c5": []}


def build(p: Platform, tenant: str = "hb") -> tuple[str, Campaign]:
    with p.uow("") as uow:
        tid = ensure_tenant(uow, tenant, NOW)
        camp = create_campaign(uow, "hand-built", NOW, job_type="marketing", dispositions=DISPS,
                               script_ref="script-v1")
        s = uow.session
        for cid in FIELDS:
            s.add(Contact(id=f"{tid[:8]}{cid}", tenant_id=tid, name=cid, fields=FIELDS[cid], attributes={},
                          tags=TAGS[cid], source="web" if cid in ("c1", "c2") else "fair",
                          created_at=t("2026-01-01T00:00:00"), updated_at=t("2026-01-01T00:00:00")))
        s.flush()
        for cid in FIELDS:
            s.add(CampaignContact(id=f"cc{cid}{tid[:8]}", tenant_id=tid, campaign_id=camp.id,
                                  contact_id=f"{tid[:8]}{cid}", state="finished", attempts=2,
                                  next_attempt_at=t("2026-01-05T09:00:00"),
                                  last_outcome="busy" if cid == "c3" else "connected",
                                  added_at=t("2026-01-05T08:00:00"), updated_at=t("2026-01-05T08:00:00")))
        for i, (cid, att, at, outcome, agent, talk, disp, wrap, trunk) in enumerate(CALLS):
            dial = t(at)
            end = datetime.fromtimestamp(dial.timestamp() + 20 + talk, dial.tzinfo)
            call_id = f"call{i}{tid[:8]}"
            s.add(Cdr(id=call_id, tenant_id=tid, campaign_id=camp.id, contact_id=f"{tid[:8]}{cid}",
                      phone_id=f"ph{cid}", phone_hash="h", attempt=att, chain_id=f"ch{cid}", mode="progressive",
                      dial_at=dial, end_at=end, answer_at=dial if outcome in ("connected", "abandoned") else None,
                      outcome=outcome, agent_id=agent and f"{tid[:8]}{agent}", trunk_id=trunk,
                      loss_cause=outcome if outcome in ("busy", "no_answer") else None,
                      talk_seconds=Decimal(str(talk))))
            if disp:
                s.add(DispositionRecord(id=f"d{i}{tid[:8]}", tenant_id=tid, call_id=call_id, campaign_id=camp.id,
                                        contact_id=f"{tid[:8]}{cid}", agent_id=f"{tid[:8]}{agent}", code=disp,
                                        set_at=datetime.fromtimestamp(end.timestamp() + wrap, end.tzinfo)))
        for agent, hours in (("A", 3), ("B", 2)):
            s.add(AgentSession(id=f"s{agent}{tid[:8]}", tenant_id=tid, agent_id=f"{tid[:8]}{agent}",
                               campaign_id=camp.id, login_at=t("2026-01-05T09:00:00"),
                               logout_at=t(f"2026-01-05T{9 + hours:02d}:00:00"), talk_seconds=0))
        uow.commit()
    return tid, camp
