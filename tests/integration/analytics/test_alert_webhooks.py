"""Alert events reach webhook subscribers: ``alert.fired`` when a rule fires, ``alert.cleared``
when a later evaluation finds it within bounds; signed deliveries through the usual outbox."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from tests.integration.analytics.handbuilt import NOW, build
from waihu.adapters.storage.models_analytics import AlertEvent
from waihu.adapters.storage.models_api import WebhookDelivery
from waihu.bootstrap import Platform
from waihu.service import webhooks
from waihu.service.analytics import alerts
from waihu.service.analytics import settings as cfgs


def test_alert_events_are_delivered_to_webhooks(platform: Platform) -> None:
    tid, camp = build(platform)
    now = datetime.fromisoformat("2026-01-05T11:30:00+08:00").timestamp()
    with platform.uow(tid) as uow:
        sub = webhooks.subscribe(uow, "https://hooks.example.com/alerts", ["alert.fired", "alert.cleared"], NOW)
        other = webhooks.subscribe(uow, "https://hooks.example.com/calls", ["call.ended"], NOW)
        secret = sub.secret
        cfgs.save(uow, camp, {"alerts": {"window_minutes": 180, "min_attempts": 5, "complaint_rate_max": 0.5}}, NOW)
        fired = alerts.evaluate(uow, now, [camp])
        uow.commit()
    assert [a["rule"] for a in fired] == ["abandon_rate_high"]  # abandon 1/5 > 3%; complaints 1/4 <= 50%
    with platform.uow(tid) as uow:
        rows = list(uow.session.scalars(select(WebhookDelivery).where(WebhookDelivery.tenant_id == tid)))
        assert [(d.subscription_id, d.event) for d in rows] == [(sub.id, "alert.fired")]
        assert rows[0].event_id == fired[0]["id"]
        assert rows[0].payload["data"]["rule"] == "abandon_rate_high"
        assert rows[0].payload["data"]["campaign_id"] == camp.id and other.id != sub.id
        assert uow.session.scalar(select(AlertEvent.delivered_at).where(AlertEvent.id == fired[0]["id"])) is not None

    got: list[tuple[str, bytes, dict[str, str]]] = []

    def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        got.append((url, body, headers))
        return 204

    assert webhooks.deliver_due(platform, now, post) == 1
    url, body, headers = got[0]
    assert url == "https://hooks.example.com/alerts" and headers["X-Waihu-Event"] == "alert.fired"
    assert webhooks.verify(secret, int(headers["X-Waihu-Timestamp"]), body, headers["X-Waihu-Signature"])
    assert json.loads(body)["data"]["severity"] == "critical"

    # the same rule within the window: no second alert; then the target is raised and it clears
    with platform.uow(tid) as uow:
        assert alerts.evaluate(uow, now + 60, [camp]) == []
        cfgs.save(uow, camp, {"alerts": {"window_minutes": 180, "min_attempts": 5, "complaint_rate_max": 0.5,
                                         "abandon_rate_max": 0.5}}, NOW)
        cleared = alerts.evaluate(uow, now + 120, [camp])
        uow.commit()
    assert [(a["kind"], a["rule"]) for a in cleared] == [("alert.cleared", "abandon_rate_high")]
    assert cleared[0]["payload"]["fired_id"] == fired[0]["id"]
    assert webhooks.deliver_due(platform, now + 120, post) == 1
    assert got[1][2]["X-Waihu-Event"] == "alert.cleared"
    with platform.uow(tid) as uow:  # cleared: nothing more until the rule fires again
        assert alerts.evaluate(uow, now + 180, [camp]) == []
        uow.commit()
    assert webhooks.deliver_due(platform, now + 180, post) == 0
