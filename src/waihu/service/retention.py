"""Retention: what the platform keeps, and for how long.

The tenant's ``retention_days`` (at least 180, default 365; docs/compliance.md) is both the
minimum time call evidence is kept and the time after which working records that carry
personal data are purged. ``purge`` removes, for one tenant, records older than that:
signaling logs, webhook deliveries (their payloads), API call requests (and with them their
idempotency records), held-dial decisions, pacing and alert logs, the rejected rows kept in
import reports (the counts stay), consent evidence that was revoked or expired that long ago,
and temporary DNC entries that have expired; and DNC change signals older than a day (they
only tell running dialers what changed; ``purge_all`` also drops the global list's). CDRs and
dispositions stay: they are the statistics of record and hold no plaintext personal data
(``erase_contact`` breaks a person's link to them); the audit log is append-only and stays.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Update, delete, or_, select, update

from waihu.adapters.storage.models import Cdr, DialDecision, ImportRecord, Tenant
from waihu.adapters.storage.models_analytics import AlertEvent
from waihu.adapters.storage.models_api import CallRequest, WebhookDelivery
from waihu.adapters.storage.models_compliance import GLOBAL, Consent, DncChange, DncEntry
from waihu.adapters.storage.models_pacing import PacingLogEntry
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.adapters.storage.uow import UnitOfWork
from waihu.bootstrap import Platform
from waihu.domain.compliance_rules import DAY, build_rules
from waihu.domain.timeutil import to_dt
from waihu.service.compliance_settings import tenant_rules
from waihu.service.tenants import audit


def purge(uow: UnitOfWork, now: float, *, dry_run: bool = False) -> dict[str, Any]:
    """Delete the tenant's records past retention, in one transaction. Returns counts per kind."""
    tid = uow.tenant_id
    days = build_rules(tenant_rules(uow), None, "other").retention_days
    cutoff = to_dt(now - days * DAY)
    old_calls = select(Cdr.id).where(Cdr.tenant_id == tid, Cdr.dial_at < cutoff)
    steps: dict[str, Delete | Update] = {
        "signaling_logs": delete(CallSignaling).where(CallSignaling.tenant_id == tid,
                                                      CallSignaling.call_id.in_(old_calls)),
        "webhook_deliveries": delete(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tid, WebhookDelivery.created_at < cutoff,
            WebhookDelivery.status != "pending"),
        "call_requests": delete(CallRequest).where(CallRequest.tenant_id == tid, CallRequest.created_at < cutoff),
        "dial_decisions": delete(DialDecision).where(DialDecision.tenant_id == tid, DialDecision.at < cutoff),
        "pacing_log": delete(PacingLogEntry).where(PacingLogEntry.tenant_id == tid, PacingLogEntry.at < cutoff),
        "alert_events": delete(AlertEvent).where(AlertEvent.tenant_id == tid, AlertEvent.at < cutoff),
        "consents": delete(Consent).where(Consent.tenant_id == tid, or_(
            Consent.revoked_at < cutoff, Consent.expires_at < cutoff)),
        "expired_dnc_entries": delete(DncEntry).where(DncEntry.tenant_id == tid, DncEntry.expires_at.is_not(None),
                                                      DncEntry.expires_at < to_dt(now)),
        "dnc_changes": _old_dnc_changes(tid, now),
    }
    reports = [i for i, r in uow.session.execute(select(ImportRecord.id, ImportRecord.report).where(
        ImportRecord.tenant_id == tid, ImportRecord.created_at < cutoff, ImportRecord.rejected > 0))
        if not (r or {}).get("purged")]
    steps["import_reports"] = update(ImportRecord).where(ImportRecord.tenant_id == tid, ImportRecord.id.in_(reports)) \
        .values(report={"purged": True, "rejected": []})
    counts: dict[str, int] = {}
    for name, stmt in steps.items():
        res = uow.session.execute(stmt)
        counts[name] = int(res.rowcount or 0)  # type: ignore[attr-defined]
    doc: dict[str, Any] = {"tenant_id": tid, "retention_days": days, "cutoff": cutoff.isoformat(),
                           "dry_run": dry_run, "purged": counts}
    if dry_run:
        uow.rollback()
        return doc
    audit(uow, "retention.purge", "tenant", tid, now, **counts)
    uow.commit()
    return doc


def _old_dnc_changes(tenant_id: str, now: float) -> Delete:
    """DNC change signals older than a day: every running dialer has read them long since."""
    return delete(DncChange).where(DncChange.tenant_id == tenant_id, DncChange.at < to_dt(now - DAY))


def purge_all(platform: Platform, now: float, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """``purge`` for every tenant, each in its own transaction (one failing tenant stops none other);
    then the global list's old DNC change signals."""
    with platform.uow("") as uow:
        tids = list(uow.session.scalars(select(Tenant.id).order_by(Tenant.id)))
    done = []
    for tid in tids:
        with platform.uow(tid, actor="system:retention") as uow:
            done.append(purge(uow, now, dry_run=dry_run))
    if not dry_run:
        with platform.uow(GLOBAL, actor="system:retention") as uow:
            uow.session.execute(_old_dnc_changes(GLOBAL, now))
            uow.commit()
    return done
