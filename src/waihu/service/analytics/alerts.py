"""Alert rules evaluated on a sliding window, appended to the ``alert_events`` outbox.

Rules (thresholds in analytics settings, ``alerts``): connect rate below a floor, complaint
rate above a ceiling, abandon rate above the campaign's target, a trunk down (every attempt
of the window on it lost on the line side), and a backlog of overdue contacts. A rule fires at
most once per window for the same campaign and subject while it is open; once fired, it is cleared
(``alert.cleared``) by the first evaluation that checks it and finds it within bounds.

Every event is handed to the webhook outbox (events ``alert.fired`` and ``alert.cleared``, the
event id is the alert's id) in the transaction that records it, and marked delivered there."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from waihu.adapters.storage.models import Campaign, CampaignContact, Cdr
from waihu.adapters.storage.models_analytics import AlertEvent, AnalyticsConfig
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.calls import LossCause, Side
from waihu.domain.campaigns import ContactState
from waihu.domain.timeutil import to_dt
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics.kpis import Scope, compute

LINE_SIDE = [c.value for c in LossCause if c.side is Side.LINE]


def evaluate(uow: UnitOfWork, now: float, campaigns: list[Campaign] | None = None) -> list[dict[str, Any]]:
    s = uow.session
    end = to_dt(now)
    if campaigns is None:  # running campaigns, and any campaign that dialled in the longest window
        longest = max([60.0, *[float(c.get("alerts", {}).get("window_minutes", 60)) for c in
                                s.scalars(select(AnalyticsConfig.config).where(
                                    AnalyticsConfig.tenant_id == uow.tenant_id))]])
        active = select(Cdr.campaign_id).where(Cdr.tenant_id == uow.tenant_id,
                                               Cdr.dial_at >= end - timedelta(minutes=longest), Cdr.dial_at < end)
        campaigns = list(s.scalars(select(Campaign).where(
            Campaign.tenant_id == uow.tenant_id,
            Campaign.state.in_(["running", "paused"]) | Campaign.id.in_(active)).order_by(Campaign.name)))
    camps = campaigns
    fired: list[dict[str, Any]] = []
    for c in camps:
        checked: set[tuple[str, str | None]] = set()  # rules evaluated (with enough data) for this campaign
        cfg = cfgs.load(uow, c)
        a = cfg["alerts"]
        start = end - timedelta(minutes=float(a["window_minutes"]))
        k = compute(uow, Scope(campaigns=[c], since=start, until=end))["totals"]
        found: list[tuple[str, str, str | None, float, float]] = []
        if k["attempts"] >= a["min_attempts"]:
            checked.update({("connect_rate_low", None), ("abandon_rate_high", None)})
            if k["connect_rate"] < a["connect_rate_min"]:
                found.append(("connect_rate_low", "warning", None, k["connect_rate"], a["connect_rate_min"]))
            abandon_max = a["abandon_rate_max"] if a["abandon_rate_max"] is not None else cfg["abandon_target"]
            if k["abandon_rate"] > abandon_max:
                found.append(("abandon_rate_high", "critical", None, k["abandon_rate"], abandon_max))
        if k["connected"] > 0:
            checked.add(("complaint_rate_high", None))
        if k["connected"] > 0 and k["complaint_rate"] > a["complaint_rate_max"]:
            found.append(("complaint_rate_high", "critical", None, k["complaint_rate"], a["complaint_rate_max"]))
        for trunk, n, lost in s.execute(
                select(Cdr.trunk_id, func.count(), func.sum(case((Cdr.loss_cause.in_(LINE_SIDE), 1), else_=0)))
                .where(Cdr.tenant_id == uow.tenant_id, Cdr.campaign_id == c.id, Cdr.dial_at >= start,
                       Cdr.dial_at < end, Cdr.trunk_id.is_not(None)).group_by(Cdr.trunk_id)):
            if n >= a["trunk_min_attempts"]:
                checked.add(("trunk_down", trunk))
            if n >= a["trunk_min_attempts"] and int(lost or 0) == n:
                found.append(("trunk_down", "critical", trunk, 1.0, float(a["trunk_min_attempts"])))
        backlog = s.scalar(select(func.count()).select_from(CampaignContact).where(
            CampaignContact.tenant_id == uow.tenant_id, CampaignContact.campaign_id == c.id,
            CampaignContact.state == ContactState.PENDING.value, CampaignContact.next_attempt_at <= start)) or 0
        if c.state == "running":
            checked.add(("backlog", None))
        if c.state == "running" and backlog > a["backlog_max"]:
            found.append(("backlog", "warning", None, float(backlog), float(a["backlog_max"])))
        opened = {(e.rule, e.subject): e for e in _open(uow, c.id)}
        for rule, severity, subject, value, threshold in found:
            prev = opened.get((rule, subject))
            if prev is not None and prev.at.replace(tzinfo=prev.at.tzinfo or end.tzinfo) > start:
                continue  # still open and fired within this window
            ev = AlertEvent(id=uow.new_id(), tenant_id=uow.tenant_id, kind="alert.fired", rule=rule,
                            severity=severity, campaign_id=c.id, subject=subject, value=value, threshold=threshold,
                            window_start=start, window_end=end, at=end,
                            payload={"campaign": c.name, "rule": rule, "value": value, "threshold": threshold,
                                     "subject": subject, "attempts": k["attempts"]})
            s.add(ev)
            fired.append(as_dict(ev))
        still = {(f[0], f[2]) for f in found}
        for last in opened.values():
            if (last.rule, last.subject) in checked and (last.rule, last.subject) not in still:
                ev = AlertEvent(id=uow.new_id(), tenant_id=uow.tenant_id, kind="alert.cleared", rule=last.rule,
                                severity="info", campaign_id=c.id, subject=last.subject, value=None,
                                threshold=last.threshold, window_start=start, window_end=end, at=end,
                                payload={"campaign": c.name, "rule": last.rule, "subject": last.subject,
                                         "fired_id": last.id, "attempts": k["attempts"]})
                s.add(ev)
                fired.append(as_dict(ev))
    s.flush()
    publish(uow, now)
    return fired


def _open(uow: UnitOfWork, campaign_id: str) -> list[AlertEvent]:
    """The campaign's rules whose latest event is ``alert.fired`` (one event per rule and subject)."""
    latest: dict[tuple[str, str | None], AlertEvent] = {}
    for ev in uow.session.scalars(select(AlertEvent).where(
            AlertEvent.tenant_id == uow.tenant_id, AlertEvent.campaign_id == campaign_id)
            .order_by(AlertEvent.at.desc(), AlertEvent.kind)):
        latest.setdefault((ev.rule, ev.subject), ev)
    return [ev for ev in latest.values() if ev.kind == "alert.fired"]


def publish(uow: UnitOfWork, now: float) -> int:
    """Hand the tenant's undelivered alert events to the webhook outbox (``alert.fired`` /
    ``alert.cleared``) and mark them delivered; returns how many events were handed over."""
    from waihu.service.webhooks import enqueue

    pending = list(uow.session.scalars(select(AlertEvent).where(
        AlertEvent.tenant_id == uow.tenant_id, AlertEvent.delivered_at.is_(None))
        .order_by(AlertEvent.at, AlertEvent.id)))
    for ev in pending:
        enqueue(uow, ev.kind, as_dict(ev), now, event_id=ev.id)
        ev.delivered_at = to_dt(now)
    uow.session.flush()
    return len(pending)


def as_dict(ev: AlertEvent) -> dict[str, Any]:
    return {"id": ev.id, "kind": ev.kind, "rule": ev.rule, "severity": ev.severity, "campaign_id": ev.campaign_id,
            "subject": ev.subject, "value": ev.value, "threshold": ev.threshold,
            "window_start": ev.window_start.isoformat(), "window_end": ev.window_end.isoformat(),
            "at": ev.at.isoformat(), "payload": ev.payload}


def recent(uow: UnitOfWork, campaign_id: str | None = None, limit: int = 50, since: datetime | None = None,
           until: datetime | None = None) -> list[dict[str, Any]]:
    q = select(AlertEvent).where(AlertEvent.tenant_id == uow.tenant_id)
    if since is not None:
        q = q.where(AlertEvent.at >= since)
    if until is not None:
        q = q.where(AlertEvent.at < until)
    if campaign_id is not None:
        q = q.where(AlertEvent.campaign_id == campaign_id)
    return [as_dict(e) for e in uow.session.scalars(q.order_by(AlertEvent.at.desc(), AlertEvent.id).limit(limit))]
