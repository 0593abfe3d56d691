"""Login, language, campaigns and contact imports."""

from __future__ import annotations

import hmac
import inspect
import secrets
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from starlette.responses import RedirectResponse, Response

from waihu.api.errors import status_of
from waihu.bootstrap import Platform
from waihu.domain.errors import Forbidden, Unauthenticated, ValidationError, WaihuError
from waihu.service import campaign_admin as ca
from waihu.service import customers as cu
from waihu.service.auth import login, revoke_refresh
from waihu.service.campaigns import create_campaign
from waihu.service.import_contacts import import_file
from waihu.web import i18n
from waihu.web.admin_more import campaign_form
from waihu.web.session import REFRESH_COOKIE, NeedLogin, clear_session, page_of, set_session, templates

router = APIRouter()
SUFFIXES = {".csv", ".txt", ".xlsx"}
MAX_UPLOAD = 50 * 1024 * 1024
LOGIN_CSRF_COOKIE = "waihu_login_csrf"


def home_of(role: str) -> str:
    return {"agent": "/desk", "supervisor": "/wallboard", "qa": "/campaigns"}.get(role, "/campaigns")


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    """The login form; its CSRF token is a random value also set as a cookie (double submit)."""
    lang = i18n.lang_of(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    resp = templates.TemplateResponse(request, "login.html", {"t": lambda k: i18n.t(lang, k), "lang": lang,
                                                               "error": error, "csrf": token}, status_code=status)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/")
    return resp


@router.get("/")
def index(request: Request) -> Response:
    try:
        pg = page_of(request)
    except NeedLogin:
        return _login_page(request)
    return RedirectResponse(home_of(pg.who.role.value), status_code=303)


@router.post("/login")
def do_login(request: Request, username: str = Form(..., max_length=100),
             password: str = Form(..., max_length=200), csrf: str = Form("", max_length=100),
             tenant: str = Form("", max_length=100)) -> Response:
    p: Platform = request.app.state.platform
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(csrf, expected):
        raise Forbidden("console.csrf", "the form's CSRF token is missing or wrong")
    try:
        with p.uow("", actor="console") as uow:
            tokens = login(uow, p.settings, username, password, p.clock.now(), tenant=tenant or None)
    except Unauthenticated as e:
        return _login_page(request, "login.tenant_required" if e.code == "auth.tenant_required" else "login.failed",
                           401)
    resp = RedirectResponse("/", status_code=303)
    set_session(resp, request, tokens, secrets.token_urlsafe(24), p)
    return resp


@router.post("/logout")
def do_logout(request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    # the refresh token is revoked on the server: a copied cookie cannot renew the session
    renewed = getattr(request.state, "renewed", None)
    tokens = [request.cookies.get(REFRESH_COOKIE) or "", str(renewed["refresh_token"]) if renewed else ""]
    request.state.renewed = None
    with pg.platform.uow("", actor=pg.who.actor) as uow:
        for rt in tokens:
            if rt:
                revoke_refresh(uow, rt, pg.now())
    resp = RedirectResponse("/", status_code=303)
    clear_session(resp)
    return resp


@router.get("/lang/{lang}")
def choose_lang(lang: str, request: Request) -> Response:
    back = request.headers.get("referer") or "/"
    resp = RedirectResponse(back if back.startswith(str(request.base_url)) else "/", status_code=303)
    if lang in i18n.LANGS:
        resp.set_cookie(i18n.LANG_COOKIE, lang, httponly=True, samesite="lax", path="/", max_age=365 * 86400)
    return resp


# ---------------------------------------------------------------- campaigns
@router.get("/campaigns")
def campaigns(request: Request) -> Response:
    pg = page_of(request)
    pg.need("campaigns.read")
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = ca.list_page(uow, state=None, sort=None, cursor=None, limit=200)
        items = [{**ca.campaign_dict(c), "contacts": ca.contact_count(uow, c),
                  "created_ts": c.created_at.timestamp() if c.created_at else None} for c in rows]
    return pg.render("campaigns.html", items=items)


@router.post("/campaigns")
def campaign_create(request: Request, csrf: str = Form(""), name: str = Form(..., max_length=100),
                    mode: str = Form("progressive", max_length=20), script: str = Form("", max_length=100),
                    abandon_target: float = Form(3.0, ge=0, le=20), wrap_limit: str = Form("", max_length=10),
                    ring_timeout: float = Form(40.0, ge=5, le=120)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("campaigns.manage")
    options: dict[str, Any] = {"abandon_target": abandon_target / 100, "ring_timeout": ring_timeout}
    if wrap_limit.strip():
        try:
            options["wrap_limit"] = float(wrap_limit)
        except ValueError:
            raise ValidationError("campaign.invalid_wrap_limit", "wrap-up limit must be > 0 s") from None
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        create_campaign(uow, name, pg.now(), mode=mode, script_ref=script.strip() or None, options=options)
        uow.commit()
    return RedirectResponse("/campaigns", status_code=303)


@router.post("/campaigns/{campaign_id}/{action}")
def campaign_control(campaign_id: str, action: str, request: Request, csrf: str = Form(""),
                     back: str = Form("/campaigns", max_length=20)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("campaigns.control")
    if action not in ("start", "pause", "stop"):
        raise NotFoundPage()
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ca.control(uow, pg.live, ca.by_id(uow, campaign_id), action, pg.now())
    return RedirectResponse(back if back in ("/campaigns", "/wallboard") else "/campaigns", status_code=303)


@router.get("/campaigns/{campaign_id}")
def campaign_page(campaign_id: str, request: Request) -> Response:
    pg = page_of(request)
    pg.need("campaigns.read")
    with pg.platform.uow(pg.tenant_id) as uow:
        c = ca.by_id(uow, campaign_id)
        item = {**ca.campaign_dict(c), "contacts": ca.contact_count(uow, c)}
        form = campaign_form(c)
    live = pg.live.counters(pg.tenant_id).get(campaign_id) if pg.live else None
    return pg.render("campaign.html", c=item, live=live or {}, form=form)


# ---------------------------------------------------------------- imports
@router.get("/imports")
def imports(request: Request) -> Response:
    pg = page_of(request)
    pg.need("contacts.import")
    return pg.render("imports.html", campaigns=_campaign_choices(pg), report=None, recent=_recent_imports(pg))


def _recent_imports(pg: Any) -> list[dict[str, Any]]:
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = cu.list_imports(uow, sort=None, cursor=None, limit=20)
        return [{**cu.import_dict(r), "created_ts": r.created_at.timestamp() if r.created_at else None} for r in rows]


def _campaign_choices(pg: Any) -> list[dict[str, Any]]:
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = ca.list_page(uow, state=None, sort=None, cursor=None, limit=200)
        return [{"id": c.id, "name": c.name} for c in rows]


@router.post("/imports")
def import_upload(request: Request, csrf: str = Form(""), file: UploadFile = File(...),
                  campaign_id: str = Form("", max_length=32)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("contacts.import")
    name = Path(file.filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError("import.unsupported_format", "upload a .csv, .txt or .xlsx file")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        data = file.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise ValidationError("import.too_large", "the file is larger than 50 MB")
        path.write_bytes(data)
        with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
            if campaign_id:
                ca.by_id(uow, campaign_id)
            out = import_file(uow, path, pg.now(), campaign=campaign_id or None, strict=False)
            assert out.import_id is not None
            report = cu.import_dict(cu.get_import(uow, out.import_id))
    return pg.render("imports.html", campaigns=_campaign_choices(pg), report=report, recent=_recent_imports(pg))


# ---------------------------------------------------------------- errors as pages
class NotFoundPage(Exception):
    pass


def install_errors(app: FastAPI) -> None:
    api_handler = app.exception_handlers.get(WaihuError)

    async def need_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/", status_code=303)

    async def waihu_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/v1") and api_handler is not None:
            out = api_handler(request, exc)
            return await out if inspect.isawaitable(out) else out
        assert isinstance(exc, WaihuError)
        details = [(f"{d.field}: " if d.field else "") + (f"row {d.row}: " if d.row else "") + d.message
                   for d in exc.details]
        return _error_page(request, exc.code, status_of(exc), exc.message, details)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error_page(request, "not_found", 404)

    api_invalid = app.exception_handlers.get(RequestValidationError)

    async def invalid_form(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/v1") and api_invalid is not None:
            out = api_invalid(request, exc)
            return await out if inspect.isawaitable(out) else out
        assert isinstance(exc, RequestValidationError)
        fields = [".".join(str(x) for x in e.get("loc", ())[1:]) + ": " + str(e.get("msg", "")) for e in exc.errors()]
        return _error_page(request, "request.invalid", 422, "", fields)

    app.add_exception_handler(RequestValidationError, invalid_form)
    app.add_exception_handler(NeedLogin, need_login)
    app.add_exception_handler(WaihuError, waihu_error)
    app.add_exception_handler(NotFoundPage, not_found)


def _error_page(request: Request, code: str, status: int, message: str = "",
                details: list[str] | None = None) -> Response:
    lang = i18n.lang_of(request)
    key = {404: "err.not_found", 403: "err.forbidden"}.get(status, "err.title")
    if code == "console.csrf":
        key = "err.csrf"
    return templates.TemplateResponse(request, "error.html", {"t": lambda k: i18n.t(lang, k), "lang": lang,
                                                               "code": code, "key": key, "message": message,
                                                               "details": details or []}, status_code=status)
