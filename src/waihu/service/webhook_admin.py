"""Webhook subscriptions and deliveries as the API lists and changes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from waihu.adapters.storage.models_api import WebhookDelivery, WebhookSubscription
from waihu.adapters.storage.uow import UnitOfWork
from waihu.service.accounts import iso
from waihu.service.paging import paginate
from waihu.service.tenants import audit
from waihu.service.webhooks import check_subscription


def sub_dict(s: WebhookSubscription, secret: bool = False) -> dict[str, Any]:
    d = {"id": s.id, "url": s.url, "events": s.events, "active": s.active, "created_at": iso(s.created_at)}
    if secret:
        d["secret"] = s.secret
    return d


def delivery_dict(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.id, "subscription_id": d.subscription_id, "event_id": d.event_id, "event": d.event,
            "status": d.status, "attempts": d.attempts, "next_attempt_at": iso(d.next_attempt_at),
            "last_status_code": d.last_status_code, "last_error": d.last_error, "created_at": iso(d.created_at),
            "delivered_at": iso(d.delivered_at), "payload": d.payload}


def list_subs(uow: UnitOfWork, *, sort: str | None, cursor: str | None,
              limit: int) -> tuple[Sequence[WebhookSubscription], str | None]:
    q = select(WebhookSubscription).where(WebhookSubscription.tenant_id == uow.tenant_id)
    return paginate(uow.session, q, {"created_at": WebhookSubscription.created_at}, WebhookSubscription.id,
                    sort=sort, default="created_at", cursor=cursor, limit=limit)


def update_sub(uow: UnitOfWork, s: WebhookSubscription, changes: dict[str, Any], now: float) -> WebhookSubscription:
    url = changes.get("url") or s.url
    events: list[str] = list(changes.get("events") or s.events)
    check_subscription(url, events)
    s.url, s.events = url, sorted(set(events))
    if changes.get("active") is not None:
        s.active = changes["active"]
    audit(uow, "webhook.update", "webhook", s.id, now, fields=sorted(changes))
    return s


def delete_sub(uow: UnitOfWork, s: WebhookSubscription, now: float) -> None:
    uow.session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == s.id,
                                                      WebhookDelivery.tenant_id == uow.tenant_id))
    uow.session.delete(s)
    audit(uow, "webhook.delete", "webhook", s.id, now)


def list_deliveries(uow: UnitOfWork, sub_id: str, *, status: str | None, sort: str | None, cursor: str | None,
                    limit: int) -> tuple[Sequence[WebhookDelivery], str | None]:
    q = select(WebhookDelivery).where(WebhookDelivery.tenant_id == uow.tenant_id,
                                      WebhookDelivery.subscription_id == sub_id)
    if status is not None:
        q = q.where(WebhookDelivery.status == status)
    return paginate(uow.session, q, {"created_at": WebhookDelivery.created_at}, WebhookDelivery.id, sort=sort,
                    default="-created_at", cursor=cursor, limit=limit)
