"""Console sessions: the access token in an HttpOnly, SameSite=Lax cookie; a CSRF token derived
from it for every form; the page context (who, language, time zone) for templates."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from waihu.bootstrap import Platform
from waihu.domain.errors import Forbidden, Unauthenticated, WaihuError
from waihu.service.accounts import get_tenant
from waihu.service.auth import Principal, authenticate
from waihu.service.live import LiveHost
from waihu.web import i18n

SESSION_COOKIE = "waihu_session"
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class NeedLogin(Exception):
    """No valid session: the page answers with a redirect to the login page."""


def csrf_for(platform: Platform, token: str) -> str:
    key = platform.settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


@dataclass
class Page:
    request: Request
    platform: Platform
    live: LiveHost | None
    who: Principal
    token: str
    lang: str
    tz: str

    @property
    def tenant_id(self) -> str:
        return self.who.tenant_id or ""

    @property
    def csrf(self) -> str:
        return csrf_for(self.platform, self.token)

    def can(self, permission: str) -> bool:
        return self.who.can(permission)

    def need(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden("auth.forbidden", f"this needs the permission {permission!r}")

    def check_csrf(self, sent: str | None) -> None:
        if not sent or not hmac.compare_digest(sent, self.csrf):
            raise Forbidden("console.csrf", "the form's CSRF token is missing or wrong")

    def now(self) -> float:
        return self.platform.clock.now()

    def render(self, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = self.lang
        base = {"t": lambda k: i18n.t(lang, k), "lang": lang, "who": self.who, "csrf": self.csrf,
                "can": self.can, "fmt_time": lambda ts: i18n.fmt_time(ts, self.tz, lang),
                "pct": lambda x: i18n.fmt_pct(x, lang), "fmt_iso": lambda v: i18n.fmt_iso(v, self.tz, lang)}
        return templates.TemplateResponse(self.request, name, {**base, **ctx}, status_code=status)


def page_of(request: Request) -> Page:
    """The logged-in user of this request (raises NeedLogin without a valid session)."""
    p: Platform = request.app.state.platform
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NeedLogin()
    try:
        with p.uow("") as uow:
            who = authenticate(uow, p.settings, token, p.clock.now())
    except Unauthenticated:
        raise NeedLogin() from None
    tz = "Asia/Shanghai"
    if who.tenant_id:
        try:
            with p.uow(who.tenant_id) as uow:
                tz = get_tenant(uow, who.tenant_id).timezone or tz
        except WaihuError:
            pass
    return Page(request, p, request.app.state.live, who, token, i18n.lang_of(request), tz)
