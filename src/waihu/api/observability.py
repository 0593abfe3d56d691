"""Health, readiness, Prometheus metrics and structured JSON logs with masked numbers."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text

from waihu.domain.phone import mask_digits

router = APIRouter(tags=["operations"])
_DIGITS = re.compile(r"\+?\d{7,15}")
access_log = logging.getLogger("waihu.access")


def mask_text(s: str) -> str:
    """Mask every run of 7 to 15 digits (a phone number, perhaps) in a log line."""
    return _DIGITS.sub(lambda m: ("+" if m.group().startswith("+") else "") + mask_digits(m.group().lstrip("+")), s)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {"ts": round(record.created, 3), "level": record.levelname.lower(),
                               "logger": record.name, "message": mask_text(record.getMessage())}
        for k in ("method", "path", "status", "duration_ms", "actor"):
            if hasattr(record, k):
                doc[k] = getattr(record, k)
        if record.exc_info:
            doc["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    h = logging.StreamHandler()
    h.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [h]
    root.setLevel(level.upper())


class LiveCollector(Collector):
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        live = self.app.state.live
        agents = GaugeMetricFamily("waihu_live_agents", "Logged-in agents by state", labels=["state"])
        calls = GaugeMetricFamily("waihu_live_calls", "Calls in progress")
        counts: dict[str, int] = {}
        in_progress = 0
        if live is not None:
            for tenant in list(live.observer.agents.values()):
                for a in list(tenant.values()):
                    counts[a["state"]] = counts.get(a["state"], 0) + 1
            for tc in list(live.observer.calls.values()):
                in_progress += sum(1 for c in list(tc.values()) if c["status"] != "ended")
        for st, n in sorted(counts.items()):
            agents.add_metric([st], n)
        calls.add_metric([], in_progress)
        yield agents
        yield calls


def install(app: FastAPI) -> None:
    reg = CollectorRegistry()
    app.state.registry = reg
    reqs = Counter("waihu_http_requests", "HTTP requests", ["method", "route", "status"], registry=reg)
    dur = Histogram("waihu_http_request_seconds", "HTTP request duration", ["method", "route"], registry=reg)
    reg.register(LiveCollector(app))

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        t0 = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        elapsed = time.perf_counter() - t0
        reqs.labels(request.method, route, str(response.status_code)).inc()
        dur.labels(request.method, route).observe(elapsed)
        who = getattr(request.state, "principal", None)
        access_log.info("%s %s %s", request.method, route, response.status_code,
                        extra={"method": request.method, "path": mask_text(request.url.path),
                               "status": response.status_code, "duration_ms": round(elapsed * 1000, 2),
                               "actor": who.actor if who is not None else None})
        return response


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> Any:
    """The database answers (and the dialer runtime runs, when this process hosts it)."""
    p = request.app.state.platform
    checks: dict[str, str] = {}
    try:
        with p.engine.connect() as c:
            c.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    live = request.app.state.live
    if live is not None and request.app.state.background:
        checks["dialer"] = "ok" if live.running else "down"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
