"""The web console: server-rendered pages on the API's app, with the API's permission table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

API_PATHS = ("/v1", "/docs", "/openapi.json")  # the API's own pages keep FastAPI's defaults


def install(app: FastAPI) -> None:
    from waihu.web import admin_more, admin_pages, desk_tools, live_pages, pages
    from waihu.web.session import set_session

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(admin_more.router, include_in_schema=False)  # before pages' /campaigns/{id}/{action}
    app.include_router(pages.router, include_in_schema=False)
    app.include_router(live_pages.router, include_in_schema=False)
    app.include_router(admin_pages.router, include_in_schema=False)
    app.include_router(desk_tools.router, include_in_schema=False)
    pages.install_errors(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        resp = await call_next(request)
        renewed = getattr(request.state, "renewed", None)
        if renewed is not None:
            set_session(resp, request, renewed, None, request.app.state.platform)
        if not request.url.path.startswith(API_PATHS):
            resp.headers["Content-Security-Policy"] = CSP
            resp.headers["X-Content-Type-Options"] = "nosniff"
            resp.headers["Referrer-Policy"] = "same-origin"
        return resp
