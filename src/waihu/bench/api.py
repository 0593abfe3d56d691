"""``waihu bench api``: the API in process on a real database, the live runtime on virtual time.

Measures POST /v1/outbound (requests per second and latency), how long the runtime needs to
carry the calls to their CDRs, and GET /v1/cdrs page latency.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from waihu.adapters.clock import FixedClock
from waihu.adapters.simnet.model import CalleeModel
from waihu.bootstrap import bootstrap
from waihu.service.accounts import create_tenant
from waihu.service.live import LiveHost

START = 1_780_021_600.0  # a Friday, 10:26 in Shanghai: inside the default calling window


def _ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s) * 1000, 2), "p95_ms": round(s[int(0.95 * (len(s) - 1))] * 1000, 2)}


def run_api_bench(calls: int, database_url: str | None = None) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from waihu.api.app import create_app

    tmp = None
    if database_url is None:
        tmp = tempfile.TemporaryDirectory()
        database_url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    clock = FixedClock(START)
    p = bootstrap(database_url, clock=clock)
    p.settings.rate_limit_per_minute = p.settings.rate_limit_burst = 10**9
    try:
        with p.uow("", actor="bench") as uow:
            _, token = create_tenant(uow, f"bench-{uuid.uuid4().hex[:8]}", clock.now())
            uow.commit()
        live = LiveHost(p, callee=CalleeModel(talk_mean=60.0), seed=5)
        client = TestClient(create_app(p, live))
        h = {"Authorization": f"Bearer {token}"}
        lat: list[float] = []
        t0 = time.perf_counter()
        for i in range(calls):
            s = time.perf_counter()
            r = client.post("/v1/outbound", headers=h, json={"phone": f"+86138{i:08d}"})
            lat.append(time.perf_counter() - s)
            assert r.status_code == 202, r.text
        post_wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        virtual = 0.0
        while virtual < 3600:
            clock.at += 1.0
            virtual += 1.0
            live.advance(live.virtual_now())
            if sum(c["ended"] for c in live.counters(live_tid(live)).values()) >= calls:
                break
        run_wall = time.perf_counter() - t1
        page_lat: list[float] = []
        cursor = None
        pages = 0
        while True:
            s = time.perf_counter()
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            body = client.get("/v1/cdrs", headers=h, params=params).json()
            page_lat.append(time.perf_counter() - s)
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        ended = sum(c["ended"] for c in live.counters(live_tid(live)).values())
        client.close()
        return {"backend": p.engine.dialect.name, "calls": calls, "outbound_per_second": round(calls / post_wall, 1),
                "outbound": _ms(lat), "cdrs": ended, "virtual_seconds": virtual,
                "runtime_wall_seconds": round(run_wall, 3), "cdr_pages": pages, "cdr_page_100": _ms(page_lat)}
    finally:
        p.dispose()
        if tmp is not None:
            tmp.cleanup()


def live_tid(live: LiveHost) -> str:
    return next(iter(live.tenants), "")
