"""Retention: records past the tenant's retention are purged; evidence within it and CDRs stay."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from waihu.adapters.storage.models import AuditEntry, Cdr, DialDecision, ImportRecord
from waihu.adapters.storage.models_api import CallRequest, WebhookDelivery, WebhookSubscription
from waihu.adapters.storage.models_compliance import Consent, DncChange, DncEntry
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.bootstrap import Platform
from waihu.domain.compliance_rules import DAY
from waihu.domain.timeutil import to_dt
from waihu.service.campaigns import create_campaign
from waihu.service.compliance_settings import set_tenant_rules
from waihu.service.demo import DEFAULT_START
from waihu.service.retention import purge, purge_all
from waihu.service.tenants import ensure_tenant

NOW = DEFAULT_START + 400 * DAY
OLD, RECENT = NOW - 200 * DAY, NOW - 10 * DAY  # retention set to 180 days below


def rid() -> str:
    return uuid.uuid4().hex


def seed(p: Platform, tid: str) -> None:
    with p.uow(tid) as uow:
        s = uow.session
        camp = create_campaign(uow, "old", OLD).id
        sub = WebhookSubscription(id=rid(), tenant_id=tid, url="https://example.test/h", secret="s",
                                  events=["call.ended"], created_at=to_dt(OLD))
        s.add(sub)
        s.flush()
        for at in (OLD, RECENT):
            cid = rid()
            s.add(Cdr(id=cid, tenant_id=tid, campaign_id=camp, contact_id="k", phone_id="p", phone_hash="h" * 64,
                      attempt=1, mode="progressive", dial_at=to_dt(at), end_at=to_dt(at + 30), outcome="busy"))
            s.add(CallSignaling(call_id=cid, tenant_id=tid, trunk_id="t", log=[[at, "out", "INVITE"]]))
            s.add(CallRequest(id=rid(), tenant_id=tid, campaign_id="c", contact_id="k", status="ended",
                              idempotency_key=f"key-{at}", created_at=to_dt(at), updated_at=to_dt(at)))
            s.add(DialDecision(id=rid(), tenant_id=tid, campaign_id="c", contact_id="k", at=to_dt(at),
                               reasons=["compliance.daily_cap"]))
            s.add(ImportRecord(id=rid(), tenant_id=tid, filename="list.csv", created_at=to_dt(at), imported=1,
                               duplicates=0, rejected=1, report={"rejected": [{"row": 2, "code": "phone.invalid"}]}))
            s.add(Consent(id=rid(), tenant_id=tid, contact_id="k", source="web_form", scope="all",
                          given_at=to_dt(at - DAY), revoked_at=to_dt(at)))
            for status in ("delivered", "pending"):
                s.add(WebhookDelivery(id=rid(), tenant_id=tid, subscription_id=sub.id, event_id=rid(),
                                      event="call.ended", payload={"x": 1}, status=status,
                                      next_attempt_at=to_dt(at), created_at=to_dt(at)))
        s.add(DncEntry(phone_hash="a" * 64, tenant_id=tid, campaign_id="", source="complaint",
                       expires_at=to_dt(NOW - 3600), created_at=to_dt(NOW - 7200)))
        s.add(DncEntry(phone_hash="b" * 64, tenant_id=tid, campaign_id="", source="complaint",
                       expires_at=to_dt(NOW + 3600), created_at=to_dt(NOW - 7200)))
        s.add(DncEntry(phone_hash="c" * 64, tenant_id=tid, campaign_id="", source="regulator",
                       expires_at=None, created_at=to_dt(OLD)))
        for at in (NOW - DAY - 60, NOW - DAY + 60):  # change signals: one just over a day old
            s.add(DncChange(tenant_id=tid, at=to_dt(at), hashes=["a" * 64]))
        uow.commit()
        set_tenant_rules(uow, {"retention_days": 180}, NOW)


def counts(p: Platform, tid: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with p.engine.connect() as conn:
        for name, model in (("cdrs", Cdr), ("signaling", CallSignaling), ("requests", CallRequest),
                            ("decisions", DialDecision), ("consents", Consent), ("deliveries", WebhookDelivery),
                            ("dnc", DncEntry), ("dnc_changes", DncChange)):
            out[name] = conn.execute(select(func.count()).select_from(model).where(model.tenant_id == tid)).scalar()
        out["reports"] = sorted(len(r.get("rejected", [])) for r in conn.execute(
            select(ImportRecord.report).where(ImportRecord.tenant_id == tid)).scalars())
    return out


def test_purge_removes_only_what_is_past_retention(platform: Platform) -> None:
    p = platform
    with p.uow("") as uow:
        tid = ensure_tenant(uow, "keeper", NOW)
        uow.commit()
    with p.uow("") as uow:
        other = ensure_tenant(uow, "other", NOW)
        uow.commit()
    seed(p, tid)
    seed(p, other)
    before = counts(p, tid)
    assert before == {"cdrs": 2, "signaling": 2, "requests": 2, "decisions": 2, "consents": 2, "deliveries": 4,
                      "dnc": 3, "dnc_changes": 2, "reports": [1, 1]}
    with p.uow(tid) as uow:
        dry = purge(uow, NOW, dry_run=True)
    assert dry["purged"]["signaling_logs"] == 1 and counts(p, tid) == before, "a dry run changes nothing"
    with p.uow(tid, actor="test") as uow:
        done = purge(uow, NOW)
    assert done["retention_days"] == 180
    assert done["purged"] == {"signaling_logs": 1, "webhook_deliveries": 1, "call_requests": 1, "dial_decisions": 1,
                              "pacing_log": 0, "alert_events": 0, "consents": 1, "expired_dnc_entries": 1,
                              "dnc_changes": 1, "import_reports": 1}
    assert counts(p, tid) == {"cdrs": 2, "signaling": 1, "requests": 1, "decisions": 1, "consents": 1,
                              "deliveries": 3, "dnc": 2, "dnc_changes": 1, "reports": [0, 1]}
    assert counts(p, other) == before, "another tenant's records are not touched"
    with p.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.tenant_id == tid, AuditEntry.action == "retention.purge")).scalar() == 1
    with p.uow(tid) as uow:
        assert purge(uow, NOW)["purged"]["import_reports"] == 0, "purging twice finds nothing more"
    with p.uow("") as uow:  # the global list's change signals: purge_all drops them past a day too
        uow.session.add_all([DncChange(tenant_id="", at=to_dt(at), hashes=None) for at in (OLD, NOW - 60)])
        uow.commit()
    assert [d["tenant_id"] for d in purge_all(p, NOW, dry_run=True)] == sorted([tid, other])
    assert counts(p, "")["dnc_changes"] == 2, "a dry run changes nothing"
    assert [d["tenant_id"] for d in purge_all(p, NOW)] == sorted([tid, other])
    assert counts(p, other)["signaling"] == 1 and counts(p, other)["dnc_changes"] == 1
    assert counts(p, "")["dnc_changes"] == 1
