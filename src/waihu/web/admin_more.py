"""More administration: campaign dialing settings and archive, rejected import rows, webhooks,
trunks and caller IDs, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from waihu.domain.campaigns import DialMode, RetryKind
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.pacers import PACER_NAMES
from waihu.service import campaign_admin as ca
from waihu.service import customers as cu
from waihu.service import lines as ln
from waihu.service import webhook_admin as wa
from waihu.service.analytics.report_files import FORMATS, produce
from waihu.service.campaigns import OPTION_DEFAULTS
from waihu.service.live import with_trunk_health
from waihu.service.tenants import audit
from waihu.service.webhooks import EVENTS, get_subscription, subscribe
from waihu.web.session import Page, page_of

router = APIRouter()


# ---------------------------------------------------------------- campaign settings and archive
def campaign_form(c: Any) -> dict[str, Any]:
    """What the campaign page's settings form shows (the same view as the API's settings)."""
    s = ca.dialing_settings(c)
    return {"modes": [m.value for m in DialMode], "pacers": list(PACER_NAMES),
            "o": {**OPTION_DEFAULTS, **(c.options or {})}, "retry": [{"kind": k, **v} for k, v in s["retry"].items()],
            "windows": ", ".join(s["windows"]),
            "weekdays": set(s["weekdays"]), "locked": s["locked"]}


def _number(form: dict[str, str], key: str, problems: list[ErrorDetail], *, whole: bool = False,
            optional: bool = False) -> float | int | None:
    text = form.get(key, "").strip()
    if not text:
        if not optional:
            problems.append(ErrorDetail("campaign.missing_value", "a number is needed", field=key))
        return None
    try:
        v = float(text)
        if whole:
            if v != int(v):
                raise ValueError
            return int(v)
        return v
    except ValueError:
        problems.append(ErrorDetail("campaign.not_a_number", f"{text[:20]!r} is not a number", field=key))
        return None


def parse_settings(form: dict[str, str], weekdays: list[str]) -> dict[str, Any]:
    """The settings form -> ``campaign_admin.update_dialing`` arguments (every problem at once)."""
    problems: list[ErrorDetail] = []
    options: dict[str, Any] = {"pacing": form.get("pacing", "predictive")}
    at = _number(form, "abandon_target", problems)
    if at is not None:
        options["abandon_target"] = at / 100
    for key in ("ring_timeout", "power_ratio"):
        v = _number(form, key, problems)
        if v is not None:
            options[key] = v
    options["wrap_limit"] = _number(form, "wrap_limit", problems, optional=True)
    options["max_lines"] = _number(form, "max_lines", problems, whole=True, optional=True)
    retry: dict[str, dict[str, float]] = {}
    for k in RetryKind:
        delay = _number(form, f"retry_{k.value}_delay", problems)
        attempts = _number(form, f"retry_{k.value}_max", problems, whole=True)
        if delay is not None and attempts is not None:
            retry[k.value] = {"delay_seconds": delay * 60, "max_attempts": attempts}
    windows = [w.strip() for w in form.get("windows", "").replace("，", ",").split(",") if w.strip()]
    days = []
    for d in weekdays:
        if not d.isdigit():
            problems.append(ErrorDetail("compliance.invalid_weekdays", "weekdays are 1..7", field="weekdays"))
        else:
            days.append(int(d))
    if problems:
        raise ValidationError("campaign.invalid", "the campaign was not changed", problems)
    return {"mode": form.get("mode") or None, "options": options, "retry": retry, "windows": windows,
            "weekdays": sorted(set(days))}


def _save_settings(request: Request, campaign_id: str, form: dict[str, str], weekdays: list[str]) -> Response:
    pg = page_of(request)
    pg.check_csrf(form.get("csrf"))
    pg.need("campaigns.manage")
    args = parse_settings(form, weekdays)
    script = form.get("script", "").strip()
    if len(script) > 100:
        raise ValidationError("campaign.invalid", "the campaign was not changed",
                              [ErrorDetail("campaign.script_too_long", "at most 100 characters", field="script")])
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        c = ca.by_id(uow, campaign_id)
        ca.update_dialing(uow, c, pg.now(), **args)
        if (script or None) != c.script_ref:
            ca.update(uow, c, {"script_ref": script or None}, pg.now())
        uow.commit()
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.post("/campaigns/{campaign_id}/settings")
async def campaign_settings(campaign_id: str, request: Request) -> Response:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "weekdays"}
    weekdays = [v for v in raw.getlist("weekdays") if isinstance(v, str)]
    return await run_in_threadpool(_save_settings, request, campaign_id, form, weekdays)


@router.post("/campaigns/{campaign_id}/archive")
def campaign_archive(campaign_id: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("campaigns.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ca.control(uow, pg.live, ca.by_id(uow, campaign_id), "archive", pg.now())
    return RedirectResponse("/campaigns", status_code=303)


# ---------------------------------------------------------------- rejected import rows
@router.get("/imports/{import_id}/rejected.csv")
def rejected_rows(import_id: str, request: Request) -> Response:
    """The rejected rows of an import as CSV; numbers masked unless the role may see them."""
    pg = page_of(request)
    pg.need("contacts.import")
    pii = pg.can("contacts.read_pii")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        r = cu.get_import(uow, import_id)
        body = cu.rejected_rows_csv(uow, r, pii)
        audit(uow, "import.rejected_download", "import", r.id, pg.now(), masked=not pii)
        uow.commit()
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rejected-{import_id}.csv"', "Cache-Control": "no-store"})


# ---------------------------------------------------------------- webhooks
def _webhooks(pg: Page, secret: str | None = None) -> Response:
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = wa.list_subs(uow, sort=None, cursor=None, limit=200)
        items = [wa.sub_dict(s) for s in rows]
    resp = pg.render("webhooks.html", items=items, events=EVENTS, secret=secret)
    if secret is not None:
        resp.headers["Cache-Control"] = "no-store"  # the secret is shown once
    return resp


@router.get("/webhooks")
def webhooks(request: Request) -> Response:
    pg = page_of(request)
    pg.need("webhooks.manage")
    return _webhooks(pg)


async def _form_lists(request: Request, key: str) -> tuple[dict[str, str], list[str]]:
    raw = await request.form()
    return ({k: v for k, v in raw.items() if isinstance(v, str) and k != key},
            [v for v in raw.getlist(key) if isinstance(v, str)])


def _webhook_create(request: Request, form: dict[str, str], events: list[str]) -> Response:
    pg = page_of(request)
    pg.check_csrf(form.get("csrf"))
    pg.need("webhooks.manage")
    url = form.get("url", "").strip()[:500]
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        s = subscribe(uow, url, events or ["*"], pg.now())
        secret = s.secret
        uow.commit()
    return _webhooks(pg, secret)


@router.post("/webhooks")
async def webhook_create(request: Request) -> Response:
    form, events = await _form_lists(request, "events")
    return await run_in_threadpool(_webhook_create, request, form, events)


@router.post("/webhooks/{webhook_id}/{action}")
def webhook_change(webhook_id: str, action: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("webhooks.manage")
    if action not in ("delete", "enable", "disable"):
        raise ValidationError("webhook.invalid_action", "action must be delete, enable or disable")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        s = get_subscription(uow, webhook_id)
        if action == "delete":
            wa.delete_sub(uow, s, pg.now())
        else:
            wa.update_sub(uow, s, {"active": action == "enable"}, pg.now())
        uow.commit()
    return RedirectResponse("/webhooks", status_code=303)


# ---------------------------------------------------------------- trunks and caller IDs
def lines_changed(pg: Page) -> None:
    """The live dialers route the next calls over the tenant's trunks and caller IDs as they are now."""
    if pg.live is not None:
        pg.live.lines_changed(pg.tenant_id)


@router.get("/lines")
def lines(request: Request) -> Response:
    pg = page_of(request)
    pg.need("lines.read")
    with pg.platform.uow(pg.tenant_id) as uow:
        # with the running router's view of each: in service, ejected or probing
        trunks = with_trunk_health(pg.live, pg.tenant_id,
                                   ln.trunk_status(uow, pg.live.virtual_now() if pg.live else pg.now()))
        # caller IDs are business numbers, shown in full (service/lines.py)
        cids = [{**ln.caller_id_doc(r), "shown": r.number, "own": r.owner_tenant_id == pg.tenant_id}
                for r in ln.visible_caller_ids(uow)]
    return pg.render("lines.html", trunks=trunks, cids=cids)


@router.post("/lines/trunks")
def trunk_add(request: Request, csrf: str = Form(""), name: str = Form(..., max_length=100),
              capacity: int = Form(..., ge=1, le=100000), cps: float = Form(..., gt=0, le=10000),
              cost_per_minute: float = Form(0.0, ge=0), regions: str = Form("*", max_length=500),
              business: str = Form("*", max_length=200), priority: int = Form(0, ge=-1000, le=1000),
              role: str = Form("primary", max_length=20), sip: str = Form("", max_length=255),
              sip_password: str = Form("", max_length=255)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("lines.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ln.add_trunk(uow, pg.now(), name=name, capacity=capacity, cps=cps, cost_per_minute=cost_per_minute,
                     regions=regions or "*", business=business or "*", priority=priority, role=role,
                     sip=sip.strip() or None, sip_password=sip_password or None)
        uow.commit()
    lines_changed(pg)
    return RedirectResponse("/lines", status_code=303)


@router.post("/lines/trunks/{name}/{action}")
def trunk_enable(name: str, action: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("lines.manage")
    if action not in ("enable", "disable"):
        raise ValidationError("trunk.invalid_action", "action must be enable or disable")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ln.set_trunk_enabled(uow, pg.now(), name, action == "enable")
        uow.commit()
    lines_changed(pg)
    return RedirectResponse("/lines", status_code=303)


@router.post("/lines/caller-ids")
def caller_id_add(request: Request, csrf: str = Form(""), number: str = Form(..., max_length=40),
                  province: str = Form("", max_length=50), city: str = Form("", max_length=50),
                  daily_cap: str = Form("", max_length=10)) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("lines.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ln.add_caller_ids(uow, pg.now(), [{"number": number, "province": province or None, "city": city or None,
                                           "daily_cap": daily_cap or None}])
        uow.commit()
    lines_changed(pg)
    return RedirectResponse("/lines", status_code=303)


@router.post("/lines/caller-ids/{number}/{action}")
def caller_id_status(number: str, action: str, request: Request, csrf: str = Form("")) -> Response:
    pg = page_of(request)
    pg.check_csrf(csrf)
    pg.need("lines.manage")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        ln.set_caller_id_status(uow, pg.now(), number, action)
        uow.commit()
    lines_changed(pg)
    return RedirectResponse("/lines", status_code=303)


# ---------------------------------------------------------------- reports
@router.get("/reports")
def reports(request: Request) -> Response:
    pg = page_of(request)
    pg.need("reports.read")
    with pg.platform.uow(pg.tenant_id) as uow:
        rows, _ = ca.list_page(uow, state=None, sort=None, cursor=None, limit=500)
        camps = [{"id": c.id, "name": c.name} for c in rows if not c.name.startswith("_")]
    today = datetime.fromtimestamp(pg.now(), ZoneInfo(pg.tz)).date().isoformat()
    return pg.render("reports.html", campaigns=camps, today=today, formats=list(FORMATS))


@router.get("/reports/{kind}")
def report_download(kind: str, request: Request, day: str = "", campaign_id: str = "",
                    format: str = "html") -> Response:
    """Build the daily (``day``) or campaign report now and send it as a file (audited)."""
    pg = page_of(request)
    pg.need("reports.read")
    if kind not in ("daily", "campaign"):
        raise ValidationError("report.invalid_kind", "a report is daily or campaign")
    with pg.platform.uow(pg.tenant_id, actor=pg.who.actor) as uow:
        if kind == "daily":
            f = produce(uow, pg.now(), format, day=day, tz=pg.tz)
        else:
            f = produce(uow, pg.now(), format, campaign=ca.by_id(uow, campaign_id), tz=pg.tz)
        uow.commit()
    return Response(f.data, media_type=f.media_type, headers={
        "Content-Disposition": f'attachment; filename="{f.filename}"', "Cache-Control": "no-store"})
