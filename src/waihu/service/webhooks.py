"""Webhooks: subscriptions, an outbox of deliveries, signing and at-least-once delivery.

Each event is written to the outbox (``webhook_deliveries``) once per matching subscription in
the same process that produced it; a worker posts due deliveries, signs them with
HMAC-SHA256 over ``"{timestamp}.{body}"``, and retries failures with exponential backoff.
Every attempt is logged on the row; a delivery can be replayed (a new row, same event id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select

from waihu.adapters.storage.models_api import WebhookDelivery, WebhookSubscription
from waihu.adapters.storage.uow import UnitOfWork
from waihu.bootstrap import Platform
from waihu.domain.calls import CallRecord
from waihu.domain.errors import ErrorDetail, NotFound, ValidationError
from waihu.domain.timeutil import opt_dt, to_dt
from waihu.service.tenants import audit

EVENTS = ("call.answered", "call.ended", "disposition.set", "campaign.finished", "alert", "alert.fired",
          "alert.cleared")
BACKOFF_BASE = 5.0
BACKOFF_CAP = 3600.0
# post(url, body, headers, timeout) -> HTTP status code; raises OSError-like errors on failure
Poster = Callable[[str, bytes, dict[str, str], float], int]


def cdr_payload(r: CallRecord) -> dict[str, Any]:
    """A CDR for a webhook or the API: no phone number, only references."""
    def iso(ts: float | None) -> str | None:
        dt = opt_dt(ts)
        return dt.isoformat() if dt is not None else None

    return {"call_id": r.call_id, "campaign_id": r.campaign_id, "contact_id": r.contact_id, "attempt": r.attempt,
            "mode": r.mode, "dial_at": iso(r.dial_at), "ring_at": iso(r.ring_at), "answer_at": iso(r.answer_at),
            "bridge_at": iso(r.bridge_at), "end_at": iso(r.end_at), "outcome": r.outcome.value,
            "loss_cause": r.loss_cause.value if r.loss_cause else None, "sip_code": r.sip_code,
            "agent_id": r.agent_id, "trunk_id": r.trunk_id, "hangup_by": r.hangup_by,
            "talk_seconds": round(r.talk_seconds, 3)}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def check_subscription(url: str, events: list[str]) -> None:
    problems = []
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.netloc or len(url) > 500:
        problems.append(ErrorDetail("webhook.invalid_url", "an http(s) URL of at most 500 characters", field="url"))
    if not events:
        problems.append(ErrorDetail("webhook.no_events", "subscribe to at least one event", field="events"))
    for e in events:
        if e not in EVENTS and e != "*":
            problems.append(ErrorDetail("webhook.unknown_event", f"one of {', '.join(EVENTS)} or *", field="events"))
    if problems:
        raise ValidationError("webhook.invalid", "the subscription is not valid", problems)


def subscribe(uow: UnitOfWork, url: str, events: list[str], now: float) -> WebhookSubscription:
    check_subscription(url, events)
    s = WebhookSubscription(id=uow.new_id(), tenant_id=uow.tenant_id, url=url, events=sorted(set(events)),
                            secret="whsec_" + secrets.token_urlsafe(24), active=True, created_at=to_dt(now))
    uow.session.add(s)
    uow.session.flush()
    audit(uow, "webhook.create", "webhook", s.id, now, url=url, events=s.events)
    return s


def get_subscription(uow: UnitOfWork, sub_id: str) -> WebhookSubscription:
    s = uow.session.get(WebhookSubscription, sub_id)
    if s is None or s.tenant_id != uow.tenant_id:
        raise NotFound("webhook.not_found", "no such webhook subscription")
    return s


def emit(platform: Platform, tenant_id: str, event: str, data: dict[str, Any], now: float) -> int:
    """Queue ``event`` for every matching subscription of the tenant (own transaction)."""
    with platform.uow(tenant_id, actor="system") as uow:
        n = enqueue(uow, event, data, now)
        if n:
            uow.commit()
    return n


def enqueue(uow: UnitOfWork, event: str, data: dict[str, Any], now: float, event_id: str | None = None) -> int:
    """Queue ``event`` for every matching subscription of the tenant, in the caller's
    transaction (an outbox: the event and its deliveries commit together)."""
    tenant_id = uow.tenant_id
    subs = [s for s in uow.session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.active.is_(True)))
        if event in s.events or "*" in s.events]
    if not subs:
        return 0
    eid = event_id or uuid.uuid4().hex
    payload = {"id": eid, "event": event, "created_at": to_dt(now).isoformat(), "tenant_id": tenant_id,
               "data": data}
    for s in subs:
        uow.session.add(WebhookDelivery(id=uuid.uuid4().hex, tenant_id=tenant_id, subscription_id=s.id,
                                        event_id=eid, event=event, payload=payload, status="pending",
                                        attempts=0, next_attempt_at=to_dt(now), created_at=to_dt(now)))
    return len(subs)


def replay(uow: UnitOfWork, delivery_id: str, now: float) -> WebhookDelivery:
    d = uow.session.get(WebhookDelivery, delivery_id)
    if d is None or d.tenant_id != uow.tenant_id:
        raise NotFound("webhook.delivery_not_found", "no such webhook delivery")
    copy = WebhookDelivery(id=uow.new_id(), tenant_id=d.tenant_id, subscription_id=d.subscription_id,
                           event_id=d.event_id, event=d.event, payload=d.payload, status="pending", attempts=0,
                           next_attempt_at=to_dt(now), created_at=to_dt(now))
    uow.session.add(copy)
    audit(uow, "webhook.replay", "webhook_delivery", d.id, now, replay_id=copy.id)
    return copy


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    import httpx

    return httpx.post(url, content=body, headers=headers, timeout=timeout).status_code


def deliver_due(platform: Platform, now: float, post: Poster = http_post, *, limit: int = 50) -> int:
    """Post the deliveries that are due; returns how many were attempted."""
    st = platform.settings
    with platform.uow("", actor="system:webhooks") as uow:
        q = (select(WebhookDelivery).where(WebhookDelivery.status == "pending",
                                           WebhookDelivery.next_attempt_at <= to_dt(now))
             .order_by(WebhookDelivery.next_attempt_at).limit(limit))
        if platform.engine.dialect.name == "postgresql":  # several workers never post one delivery at once
            q = q.with_for_update(skip_locked=True)
        rows = list(uow.session.scalars(q))
        for d in rows:
            sub = uow.session.get(WebhookSubscription, d.subscription_id)
            if sub is None or not sub.active:
                d.status, d.last_error = "failed", "subscription inactive"
                continue
            body = json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")).encode()
            ts = int(now)
            headers = {"Content-Type": "application/json", "X-Waihu-Event": d.event,
                       "X-Waihu-Delivery": d.id, "X-Waihu-Event-Id": d.event_id,
                       "X-Waihu-Timestamp": str(ts), "X-Waihu-Signature": sign(sub.secret, ts, body)}
            d.attempts += 1
            try:
                code = post(sub.url, body, headers, st.webhook_timeout_seconds)
                d.last_status_code, d.last_error = code, None
                ok = 200 <= code < 300
            except Exception as e:
                d.last_error, ok = type(e).__name__, False
            if ok:
                d.status, d.delivered_at = "delivered", to_dt(now)
            elif d.attempts >= st.webhook_max_attempts:
                d.status = "failed"
            else:
                d.next_attempt_at = to_dt(now + min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (d.attempts - 1)))
        uow.commit()
    return len(rows)
