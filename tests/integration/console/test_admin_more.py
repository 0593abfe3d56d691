"""More administration pages through the real app: campaign dialing settings and archive, the
download of rejected import rows, webhooks, trunks and caller IDs, reports; the wrap-up
countdown, logout revoking the refresh token, and /docs served without a CDN."""

from __future__ import annotations

import csv
import io
import json
import re

from sqlalchemy import select

from tests.apitools import Tenant, World
from tests.integration.console.test_pages import PW, browser, csrf_of, user
from waihu.adapters.storage.models import ImportRecord

RETRY = {f"retry_{k}_{f}": v for k in ("busy", "no_answer", "rejected", "abandoned", "line_failure", "unreachable")
         for f, v in (("delay", "10"), ("max", "3"))}


def settings_form(csrf: str, **over: str) -> dict[str, str]:
    return {"csrf": csrf, "mode": "predictive", "pacing": "predictive", "abandon_target": "2", "power_ratio": "2",
            "ring_timeout": "35", "wrap_limit": "30", "max_lines": "", "script": "您好 {name}", **RETRY,
            "retry_busy_delay": "5", "retry_busy_max": "4", "windows": "09:00-12:00， 13:30-20:00", **over}


def test_campaign_dialing_settings_and_archive(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    user(world, t.id, "sup", "supervisor")
    camp = world.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive"}).json()["id"]
    c = browser(world, "admin1", "zh-CN")
    page = c.get(f"/campaigns/{camp}").text
    assert 'id="settings"' in page and "重拨策略" in page and "外呼时段" in page
    csrf = csrf_of(page)
    assert c.post(f"/campaigns/{camp}/settings", data=settings_form("")).status_code == 403  # no CSRF token
    r = c.post(f"/campaigns/{camp}/settings", data={**settings_form(csrf), "weekdays": ["1", "2", "3", "4", "5"]})
    assert r.status_code == 200
    doc = world.get(f"/v1/campaigns/{camp}", t).json()
    assert doc["mode"] == "predictive" and doc["script_ref"] == "您好 {name}"
    assert doc["options"]["abandon_target"] == 0.02 and doc["options"]["wrap_limit"] == 30.0
    assert doc["options"]["ring_timeout"] == 35.0 and doc["options"]["max_lines"] is None
    assert doc["retry_policy"]["busy"] == {"delay_seconds": 300.0, "max_attempts": 4}
    assert doc["options"]["compliance"] == {"windows": ["09:00-12:00", "13:30-20:00"], "weekdays": [1, 2, 3, 4, 5]}
    # a bad window and a bad retry count: the page says which fields, nothing changes
    bad = c.post(f"/campaigns/{camp}/settings", data=settings_form(csrf, windows="21:00-09:00", mode="manual",
                                                                     retry_busy_max="0"))
    assert bad.status_code == 422 and "windows" in bad.text and "busy.max_attempts" in bad.text
    assert world.get(f"/v1/campaigns/{camp}", t).json()["mode"] == "predictive"
    # empty window and weekdays: the tenant's calling hours apply again
    c.post(f"/campaigns/{camp}/settings", data=settings_form(csrf, windows=""))
    assert world.get(f"/v1/campaigns/{camp}", t).json()["options"]["compliance"] == {}
    # a running campaign keeps its settings until paused
    world.post(f"/v1/campaigns/{camp}/start", t)
    assert 'id="settings-locked"' in c.get(f"/campaigns/{camp}").text
    assert c.post(f"/campaigns/{camp}/settings", data=settings_form(csrf, mode="power")).status_code == 409
    assert c.post(f"/campaigns/{camp}/archive", data={"csrf": csrf}).status_code == 409  # running
    world.post(f"/v1/campaigns/{camp}/pause", t)
    sup = browser(world, "sup")
    assert 'id="settings"' not in sup.get(f"/campaigns/{camp}").text  # campaigns.manage only
    assert sup.post(f"/campaigns/{camp}/archive", data={"csrf": csrf_of(sup.get("/campaigns").text)}).status_code == 403
    r = c.post(f"/campaigns/{camp}/archive", data={"csrf": csrf})
    assert r.status_code == 200 and 'data-state="archived"' in r.text
    assert world.get(f"/v1/campaigns/{camp}", t).json()["state"] == "archived"
    other = world.tenant("beta")
    user(world, other.id, "admin-b", "tenant_admin")
    b = browser(world, "admin-b")
    assert b.post(f"/campaigns/{camp}/archive", data={"csrf": csrf_of(b.get("/campaigns").text)}).status_code == 404


def test_rejected_rows_download_masks_numbers_and_keeps_them_sealed(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    user(world, t.id, "importer", "api_client")  # may import, may not see numbers in full
    c = browser(world, "admin1")
    data = "手机,姓名,年龄\n13800138001,甲,30\n1380013800,乙,31\n13800138002,=cmd(),abc\n".encode()
    r = c.post("/imports", data={"csrf": csrf_of(c.get("/imports").text)},
               files={"file": ("list.csv", io.BytesIO(data), "text/csv")})
    link = re.search(r'id="download-rejected" href="(/imports/([^/]+)/rejected.csv)"', r.text)
    assert link is not None and 'id="recent-imports"' in r.text
    full = c.get(link.group(1))
    assert full.status_code == 200 and full.headers["content-disposition"].startswith("attachment")
    assert full.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(full.content.decode("utf-8-sig"))))
    assert rows[0] == ["row / 行号", "field / 列", "code / 错误码", "problem / 问题", "手机", "姓名", "年龄"]
    assert [x[0] for x in rows[1:]] == ["3", "4"]  # row numbers as in the file
    assert rows[1][1] == "手机" and rows[1][2].startswith("phone.") and rows[1][4] == "1380013800"
    assert rows[2][1] == "年龄" and rows[2][2] == "contact.invalid_age" and rows[2][5] == "'=cmd()"
    masked = browser(world, "importer").get(link.group(1)).content.decode("utf-8-sig")
    assert "1380013800" not in masked and "138***3800" in masked
    with world.platform.uow(t.id) as uow:  # the rows are kept encrypted with the tenant's key
        rec = uow.session.scalars(select(ImportRecord).where(ImportRecord.id == link.group(2))).one()
        stored = json.dumps(rec.report, ensure_ascii=False)
    assert "1380013800" not in stored and "rejected_rows" in stored
    api = world.get(f"/v1/imports/{link.group(2)}", t).json()
    assert "rejected_rows" not in api["report"] and api["rejected"] == 2
    other = world.tenant("beta")
    user(world, other.id, "admin-b", "tenant_admin")
    assert browser(world, "admin-b").get(link.group(1)).status_code == 404


def test_webhooks_page(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    user(world, t.id, "sup", "supervisor")
    c = browser(world, "admin1", "zh-CN")
    page = c.get("/webhooks").text
    assert "回调通知" in page and 'value="call.ended"' in page
    csrf = csrf_of(page)
    assert c.post("/webhooks", data={"url": "https://crm.example.com/h", "events": ["call.ended"]}).status_code == 403
    r = c.post("/webhooks", data={"csrf": csrf, "url": "https://crm.example.com/h", "events": ["call.ended", "alert"]})
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', r.text)
    assert secret is not None and r.headers["cache-control"] == "no-store"
    subs = world.get("/v1/webhooks", t).json()["items"]
    assert len(subs) == 1 and subs[0]["events"] == ["alert", "call.ended"] and subs[0]["active"]
    assert secret.group(1) not in c.get("/webhooks").text  # shown once
    bad = c.post("/webhooks", data={"csrf": csrf, "url": "ftp://x", "events": ["nope"]})
    assert bad.status_code == 422 and "webhook.invalid" in bad.text
    c.post(f"/webhooks/{subs[0]['id']}/disable", data={"csrf": csrf})
    assert world.get("/v1/webhooks", t).json()["items"][0]["active"] is False
    c.post(f"/webhooks/{subs[0]['id']}/delete", data={"csrf": csrf})
    assert world.get("/v1/webhooks", t).json()["items"] == []
    sup = browser(world, "sup")
    assert sup.get("/webhooks").status_code == 403 and 'href="/webhooks"' not in sup.get("/wallboard").text


def test_trunks_and_caller_ids(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    user(world, t.id, "sup", "supervisor")
    user(world, t.id, "agent1", "agent", "A1")
    c = browser(world, "admin1")
    csrf = csrf_of(c.get("/lines").text)
    r = c.post("/lines/trunks", data={"csrf": csrf, "name": "电信-1", "capacity": "30", "cps": "5",
                                      "regions": "广东,广西", "priority": "2"})
    assert r.status_code == 200 and 'data-trunk="电信-1"' in r.text and 'data-enabled="yes"' in r.text
    dup = c.post("/lines/trunks", data={"csrf": csrf, "name": "电信-1", "capacity": "30", "cps": "5"})
    assert dup.status_code == 409
    assert '<td class="sip">' in r.text and ("模拟线路" in r.text or "simulated" in r.text)
    # a real carrier line: its SIP address is shown, its password never
    r = c.post("/lines/trunks", data={"csrf": csrf, "name": "联通-SIP", "capacity": "10", "cps": "2",
                                      "sip": "sip:gw9@203.0.113.9:5070", "sip_password": "s3cret-pw"})
    assert r.status_code == 200 and "sip:gw9@203.0.113.9:5070" in r.text and "s3cret-pw" not in r.text
    bad = c.post("/lines/trunks", data={"csrf": csrf, "name": "x", "capacity": "1", "cps": "1", "sip": "sip:"})
    assert bad.status_code == 422 and 'data-trunk="x"' not in c.get("/lines").text
    r = c.post("/lines/trunks/%E7%94%B5%E4%BF%A1-1/disable", data={"csrf": csrf})
    assert 'data-enabled="no"' in r.text
    r = c.post("/lines/caller-ids", data={"csrf": csrf, "number": "02088886666", "province": "广东"})
    assert "+862088886666" in r.text  # a tenant admin sees the number
    assert c.post("/lines/caller-ids", data={"csrf": csrf, "number": "12"}).status_code == 422
    r = c.post("/lines/caller-ids/+862088886666/take_offline", data={"csrf": csrf})
    assert '<td class="status">offline</td>' in r.text
    sup = browser(world, "sup")
    seen = sup.get("/lines").text
    assert "电信-1" in seen and "+862088886666" in seen  # a business number, not personal data: shown in full
    assert 'action="/lines/trunks"' not in seen
    assert sup.post("/lines/trunks", data={"csrf": csrf_of(seen), "name": "x", "capacity": "1",
                                           "cps": "1"}).status_code == 403
    assert browser(world, "agent1").get("/lines").status_code == 403


def test_reports_download(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "qa1", "qa")
    user(world, t.id, "agent1", "agent", "A1")
    camp = world.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive"}).json()["id"]
    q = browser(world, "qa1", "zh-CN")
    page = q.get("/reports").text
    assert "日报" in page and f'value="{camp}"' in page and 'href="/reports"' in page
    r = q.get("/reports/daily", params={"day": "2026-03-02", "format": "csv"})
    assert r.status_code == 200 and 'filename="daily-2026-03-02.csv"' in r.headers["content-disposition"]
    assert r.content.decode("utf-8-sig").splitlines()[0].startswith("section,key,attempts")
    r = q.get("/reports/campaign", params={"campaign_id": camp, "format": "html"})
    assert r.status_code == 200 and "spring" in r.text and r.headers["content-type"].startswith("text/html")
    r = q.get("/reports/campaign", params={"campaign_id": camp, "format": "xlsx"})
    assert r.content[:2] == b"PK"
    assert q.get("/reports/daily", params={"day": "yesterday"}).status_code == 422
    assert browser(world, "agent1").get("/reports").status_code == 403


def _wrap_panel(world: World, t: Tenant, login: str, phone: str, options: dict[str, float]) -> str:
    camp = world.post("/v1/campaigns", t, json={"name": f"c-{login}", "mode": "progressive",
                                                "options": options}).json()["id"]
    cid = world.post("/v1/contacts", t, json={"phones": [phone], "name": "李"}).json()["id"]
    world.post(f"/v1/campaigns/{camp}/contacts", t, json={"contact_ids": [cid]})
    world.post(f"/v1/campaigns/{camp}/start", t)
    ag = browser(world, login)
    ag.post("/desk/state", data={"csrf": csrf_of(ag.get("/desk").text), "to": "login"})
    for _ in range(60):
        world.advance(2)
        panel = ag.get("/desk/panel").text
        if 'data-state="wrap_up"' in panel:
            return panel
    raise AssertionError("no wrap-up")


def test_wrap_up_countdown_only_when_the_campaign_sets_a_limit(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "agent1", "agent", "A1")
    panel = _wrap_panel(world, t, "agent1", "13800138000", {})
    assert 'id="wrap-form"' in panel and 'class="countdown"' not in panel
    other = world.tenant("beta")
    user(world, other.id, "agent2", "agent", "B1")
    panel = _wrap_panel(world, other, "agent2", "13800138009", {"wrap_limit": 40})
    m = re.search(r'class="countdown" data-left="(\d+)"', panel)
    assert m is not None and 0 < int(m.group(1)) <= 40


def test_logout_revokes_the_refresh_token(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    c = browser(world, "admin1")
    page = c.get("/campaigns").text
    old = c.cookies["waihu_refresh"]
    c.post("/logout", data={"csrf": csrf_of(page)})
    assert "waihu_refresh" not in c.cookies
    r = world.client.post("/v1/auth/refresh", json={"refresh_token": old})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.invalid_refresh_token"
    # logging out after the access token expired: the renewed session ends too, no cookie comes back
    c2 = browser(world, "admin1")
    page = c2.get("/campaigns").text
    world.clock.at += world.platform.settings.access_token_seconds + 60
    r = c2.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    assert "waihu_session" not in c2.cookies and 'action="/login"' in c2.get("/campaigns").text
    login = world.client.post("/v1/auth/login", json={"username": "admin1", "password": PW})
    assert login.status_code == 200  # the user can log in again


def test_api_docs_are_served_without_a_cdn(world: World) -> None:
    r = world.client.get("/docs")
    assert r.status_code == 200 and "swagger-ui" in r.text
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text) + re.findall(r"""url: ?["']([^"']+)["']""", r.text)
    assert refs and all(u.startswith("/") for u in refs), refs
    assert "http://" not in r.text and "https://" not in r.text
    for u in refs:
        assert world.client.get(u).status_code == 200, u
    assert world.client.get("/redoc").status_code == 404  # ReDoc needs a CDN: not offered


def test_wallboard_shows_trunk_health_and_pushes_alerts(db_url: str) -> None:
    from waihu.adapters.simnet.model import CalleeModel
    from waihu.service.analytics import settings as cfgs
    from waihu.service.live_alerts import alert_round

    nobody = CalleeModel(answer_rate=0.0, busy_rate=0.0, rejected_rate=0.0, empty_rate=0.0, suspended_rate=0.0,
                         powered_off_rate=0.0, no_answer_timeout=5.0)
    world = World(db_url, callee=nobody)
    try:
        t = world.tenant("acme")
        user(world, t.id, "sup", "supervisor")
        user(world, t.id, "admin1", "tenant_admin")
        user(world, t.id, "agent1", "agent", "A1")
        admin = browser(world, "admin1")
        admin.post("/lines/trunks", data={"csrf": csrf_of(admin.get("/lines").text), "name": "移动-2",
                                          "capacity": "10", "cps": "2"})
        with world.platform.uow(t.id, actor="test") as uow:
            cfgs.save(uow, None, {"alerts": {"min_attempts": 3}}, world.clock.now())
            uow.commit()
        camp = world.post("/v1/campaigns", t, json={"name": "cold", "mode": "progressive",
                                                    "retry": {"no_answer": {"max_attempts": 1}}}).json()["id"]
        ids = [world.post("/v1/contacts", t, json={"phones": [f"1390013900{i}"]}).json()["id"] for i in range(4)]
        world.post(f"/v1/campaigns/{camp}/contacts", t, json={"contact_ids": ids})
        world.post(f"/v1/campaigns/{camp}/start", t)
        ag = browser(world, "agent1")
        ag.post("/desk/state", data={"csrf": csrf_of(ag.get("/desk").text), "to": "login"})
        ag.post("/desk/state", data={"csrf": csrf_of(ag.get("/desk").text), "to": "ready"})
        for _ in range(60):
            world.advance(5)
            if world.get(f"/v1/campaigns/{camp}", t).json()["state"] == "completed":
                break
        sup = browser(world, "sup", "zh-CN")
        panel = sup.get("/wallboard/panel").text
        assert 'data-trunk="移动-2"' in panel and 'data-state="ok"' in panel and 'id="wb-no-alerts"' in panel
        heard: list[tuple[str, str, dict[str, object]]] = []
        stop = world.live.listen(lambda tid, kind, doc: heard.append((tid, kind, doc)))
        assert alert_round(world.platform, world.live) >= 1
        stop()
        pushed = [d for tid, kind, d in heard if kind == "alert" and tid == t.id]
        assert pushed and pushed[0]["rule"] == "connect_rate_low" and pushed[0]["campaign_id"] == camp
        panel = sup.get("/wallboard/panel").text
        assert 'data-rule="connect_rate_low"' in panel and "接通率过低" in panel and "cold" in panel
        assert alert_round(world.platform, world.live) == 0  # once per window
    finally:
        world.close()
