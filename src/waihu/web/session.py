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
from starlette.responses import HTMLResponse, Response

from waihu.bootstrap import Platform
from waihu.domain.errors import Forbidden, Unauthenticated, WaihuError
from waihu.service.accounts import get_tenant
from waihu.service.auth import Principal, authenticate, refresh
from waihu.service.live import LiveHost
from waihu.web import i18n

SESSION_COOKIE = "waihu_session"  # the access token (short-lived)
REFRESH_COOKIE = "waihu_refresh"  # the refresh token: renews the access token while the user works
SID_COOKIE = "waihu_sid"  # a random value per login: the CSRF token is bound to it
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class NeedLogin(Exception):
    """No valid session: the page answers with a redirect to the login page."""


def csrf_for(platform: Platform, sid: str, user_id: str) -> str:
    key = platform.settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, f"csrf:{sid}:{user_id}".encode(), hashlib.sha256).hexdigest()[:40]


def set_session(response: Response, request: Request, tokens: dict[str, object], sid: str | None,
                platform: Platform) -> None:
    """The session cookies: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
    secure = request.url.scheme == "https"
    kw: dict[str, Any] = {"httponly": True, "samesite": "lax", "path": "/", "secure": secure}
    response.set_cookie(SESSION_COOKIE, str(tokens["access_token"]), **kw)
    response.set_cookie(REFRESH_COOKIE, str(tokens["refresh_token"]), **kw,
                        max_age=int(platform.settings.refresh_token_seconds))
    if sid is not None:
        response.set_cookie(SID_COOKIE, sid, **kw)


def clear_session(response: Response) -> None:
    for name in (SESSION_COOKIE, REFRESH_COOKIE, SID_COOKIE):
        response.delete_cookie(name, path="/")


@dataclass
class Page:
    request: Request
    platform: Platform
    live: LiveHost | None
    who: Principal
    sid: str
    lang: str
    tz: str

    @property
    def tenant_id(self) -> str:
        return self.who.tenant_id or ""

    @property
    def csrf(self) -> str:
        return csrf_for(self.platform, self.sid, self.who.id)

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
    token, sid = request.cookies.get(SESSION_COOKIE), request.cookies.get(SID_COOKIE)
    if not token or not sid:
        raise NeedLogin()
    try:
        with p.uow("") as uow:
            who = authenticate(uow, p.settings, token, p.clock.now())
    except Unauthenticated:
        who = _renewed(request, p)
    tz = "Asia/Shanghai"
    if who.tenant_id:
        try:
            with p.uow(who.tenant_id) as uow:
                tz = get_tenant(uow, who.tenant_id).timezone or tz
        except WaihuError:
            pass
    return Page(request, p, request.app.state.live, who, sid, i18n.lang_of(request), tz)


def _renewed(request: Request, p: Platform) -> Principal:
    """An expired access token is renewed with the refresh token (used once, rotated); the new
    cookies go out with this response (see ``install``)."""
    rt = request.cookies.get(REFRESH_COOKIE)
    if not rt:
        raise NeedLogin()
    try:
        with p.uow("") as uow:
            tokens = refresh(uow, p.settings, rt, p.clock.now())
        with p.uow("") as uow:
            who = authenticate(uow, p.settings, str(tokens["access_token"]), p.clock.now())
    except Unauthenticated:
        raise NeedLogin() from None
    request.state.renewed = tokens
    return who
