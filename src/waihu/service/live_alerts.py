"""Alerts for the floor: evaluate the alert rules (``analytics.alerts``) for every tenant the
live runtime dials for, and tell the runtime's listeners (the wallboard's event feed) of each
alert fired."""

from __future__ import annotations

import logging

from waihu.bootstrap import Platform
from waihu.service.analytics import alerts
from waihu.service.live import LiveHost

log = logging.getLogger("waihu.live")
EVERY = 30.0  # seconds between two evaluations in ``waihu serve``


def alert_round(platform: Platform, live: LiveHost) -> int:
    """One evaluation at the runtime's (virtual) time; returns how many alerts fired."""
    now = live.virtual_now()
    fired = 0
    for tid in list(live.tenants):
        with platform.uow(tid, actor="system:alerts") as uow:
            docs = alerts.evaluate(uow, now)
            uow.commit()
        for doc in docs:
            live.notify(tid, "alert", doc)
        fired += len(docs)
    return fired
