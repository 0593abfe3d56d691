"""The FastAPI application: ``create_app(platform, live)``; one router per resource.

Pages of the web console are added as further routers on the same app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from waihu.api import errors, observability
from waihu.api.deps import permission_of
from waihu.api.ratelimit import RateLimiter
from waihu.api.routers import ROUTERS
from waihu.bootstrap import Platform
from waihu.service.dnc_follow import DNC_EVERY
from waihu.service.live import LiveHost

log = logging.getLogger("waihu.api")


def api_routes() -> list[APIRoute]:
    """Every endpoint under /v1 (the routers' own routes: their paths carry the prefix)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def route_permission(route: APIRoute) -> str | None:
    """The permission an endpoint needs (from its ``Need`` dependency), if any."""
    for dep in route.dependant.dependencies:
        if dep.call is not None and (perm := permission_of(dep.call)) is not None:
            return perm
    return None


async def _periodic(what: str, fn: Callable[[], Any], every: float, *, wait_first: bool = False) -> None:
    """Run ``fn`` in a worker thread every ``every`` seconds; a failed round is logged, not fatal."""
    while True:
        if wait_first:
            await asyncio.sleep(every)
        try:
            await asyncio.to_thread(fn)
        except Exception:
            log.exception("%s failed", what)
        if not wait_first:
            await asyncio.sleep(every)


RETENTION_EVERY = 6 * 3600.0  # purge records past every tenant's retention (docs/compliance.md)
LINES_EVERY = 30.0  # seconds between two looks for trunks and caller IDs changed by another process


DOCS_ASSETS = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its assets served by waihu itself (no CDN: works offline)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from starlette.responses import HTMLResponse
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="waihu API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")


def create_app(platform: Platform, live: LiveHost | None = None, *, background: bool = False) -> FastAPI:
    """The app. With ``background``, the app's lifespan runs the live dialer and the webhook worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from waihu.service.live_alerts import EVERY as ALERTS_EVERY
        from waihu.service.live_alerts import alert_round
        from waihu.service.retention import purge_all
        from waihu.service.webhooks import deliver_due

        p: Platform = app.state.platform
        tasks = []
        if background:
            if live is not None:
                live.load_running()
                tasks.append(asyncio.create_task(live.run(), name="waihu-live"))
                tasks.append(asyncio.create_task(_periodic(
                    "alert round", lambda: alert_round(p, live), ALERTS_EVERY, wait_first=True), name="waihu-alerts"))
                # trunks and caller IDs changed elsewhere (e.g. ``waihu trunks`` in another process)
                # reach the live dialers within LINES_EVERY; the console and the API tell them at once
                tasks.append(asyncio.create_task(_periodic(
                    "lines check", live.check_lines, LINES_EVERY, wait_first=True), name="waihu-lines"))
                # DNC entries added or removed elsewhere (``waihu dnc``, a complaint, another worker)
                # reach the live dialers within DNC_EVERY; the console and the API tell them at once
                tasks.append(asyncio.create_task(_periodic(
                    "dnc check", live.check_dnc, DNC_EVERY, wait_first=True), name="waihu-dnc"))
            tasks.append(asyncio.create_task(_periodic(
                "webhook delivery round", lambda: deliver_due(p, p.clock.now()), 1.0), name="waihu-webhooks"))
            tasks.append(asyncio.create_task(_periodic(
                "retention purge", lambda: purge_all(p, p.clock.now()), RETENTION_EVERY), name="waihu-retention"))
        try:
            yield
        finally:
            if live is not None:
                live.stop()
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    app = FastAPI(title="waihu API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Outbound contact-center platform API. / 外呼平台接口。See docs/api.md.")
    app.state.platform = platform
    app.state.live = live
    app.state.background = background
    st = platform.settings
    app.state.limiter = RateLimiter(platform.clock, st.rate_limit_per_minute, st.rate_limit_burst)
    errors.install(app)
    observability.install(app)
    app.include_router(observability.router)
    for r in ROUTERS:
        app.include_router(r, responses=errors.ERROR_RESPONSES)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            for route in api_routes():
                if (perm := route_permission(route)) is not None:
                    for m in route.methods or ():
                        op = schema["paths"][route.path_format].get(m.lower())
                        if op is not None:
                            op["x-permission"] = perm
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_docs(app)
    from waihu.web import install as install_console

    install_console(app)
    return app
