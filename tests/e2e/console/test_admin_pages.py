"""The administration pages added to the console, in a real browser: campaign dialing settings
and archive, rejected import rows downloaded, webhooks, trunks and caller IDs, reports, the
wallboard's trunk health and alerts, and /docs loading with no outside host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from tests.e2e.console.conftest import Served, login, shot


def test_campaign_settings_and_archive(served: Served, browser: Any) -> None:
    w = served.world
    t = w.tenant("acme")
    served.user(t.id, "admin1", "tenant_admin")
    camp = w.post("/v1/campaigns", t, json={"name": "秋季回访", "mode": "progressive"}).json()["id"]
    page = login(browser, served, "admin1", "zh-CN")
    page.goto(f"{served.base}/campaigns/{camp}")
    page.select_option("select[name=mode]", "predictive")
    page.fill("input[name=abandon_target]", "2.5")
    page.fill("input[name=retry_busy_delay]", "15")
    page.fill("input[name=windows]", "09:00-12:00, 14:00-20:00")
    for d in ("1", "2", "3", "4", "5"):
        page.check(f"input[name=weekdays][value='{d}']")
    shot(page, "campaign-settings")
    page.click("#btn-save")
    expect(page.locator("#c-mode")).to_have_text("predictive")
    expect(page.locator("input[name=windows]")).to_have_value("09:00-12:00, 14:00-20:00")
    doc = w.get(f"/v1/campaigns/{camp}", t).json()
    assert doc["retry_policy"]["busy"]["delay_seconds"] == 900 and doc["options"]["abandon_target"] == 0.025
    page.click("#btn-archive")
    expect(page.locator(f"tr[data-id='{camp}'] td.state")).to_have_attribute("data-state", "archived")


def test_rejected_rows_are_downloaded(served: Served, browser: Any, tmp_path: Path) -> None:
    t = served.world.tenant("acme")
    served.user(t.id, "admin1", "tenant_admin")
    f = tmp_path / "名单.csv"
    f.write_text("手机,姓名\n13800138001,甲\n12345,乙\n", encoding="utf-8")
    page = login(browser, served, "admin1", "en-US")
    page.goto(served.base + "/imports")
    page.set_input_files("input[type=file]", str(f))
    page.click("form.card button[type=submit]")
    expect(page.locator("#rejected")).to_have_text("1")
    with page.expect_download() as info:
        page.click("#download-rejected")
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    lines = body.splitlines()
    assert lines[0].startswith("row / 行号,field / 列,code / 错误码") and lines[1].startswith("3,手机,phone.")
    assert lines[1].endswith(",12345,乙")  # a tenant admin may see the number as typed


def test_webhooks_lines_and_reports(served: Served, browser: Any) -> None:
    w = served.world
    t = w.tenant("acme")
    served.user(t.id, "admin1", "tenant_admin")
    camp = w.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive"}).json()["id"]
    page = login(browser, served, "admin1", "zh-CN")
    page.click("nav a[href='/webhooks']")
    page.fill("input[name=url]", "https://crm.example.com/hooks/waihu")
    page.uncheck("input[name=events][value='call.answered']")
    page.click("form.card button[type=submit]")
    expect(page.locator("#new-secret")).to_contain_text("whsec_")
    expect(page.locator("#webhooks tbody tr")).to_have_count(1)
    shot(page, "webhooks")
    page.locator("#webhooks button.delete").click()
    expect(page.locator("#webhooks tbody tr")).to_have_count(0)

    page.click("nav a[href='/lines']")
    page.fill("#add-trunk input[name=name]", "电信-广州")
    page.fill("#add-trunk input[name=regions]", "广东")
    page.click("#add-trunk button[type=submit]")
    row = page.locator("#trunks tr[data-trunk='电信-广州']")
    expect(row.locator("td.enabled")).to_have_attribute("data-enabled", "yes")
    page.fill("#add-callerid input[name=number]", "02088886666")
    page.click("#add-callerid button[type=submit]")
    expect(page.locator("#callerids tbody tr")).to_have_count(1)
    row.locator("button").click()
    expect(page.locator("#trunks tr[data-trunk='电信-广州'] td.enabled")).to_have_attribute("data-enabled", "no")
    shot(page, "lines")

    page.click("nav a[href='/reports']")
    page.select_option("#report-campaign select[name=campaign_id]", camp)
    page.select_option("#report-campaign select[name=format]", "csv")
    shot(page, "reports")
    with page.expect_download() as info:
        page.click("#report-campaign button[type=submit]")
    assert info.value.suggested_filename == f"campaign-{camp}.csv"
    assert Path(info.value.path()).read_text(encoding="utf-8-sig").startswith("section,key,attempts")


def test_wallboard_trunk_health_and_alert_pushed(served: Served, browser: Any) -> None:
    w = served.world
    t = w.tenant("acme")
    served.user(t.id, "sup", "supervisor")
    served.user(t.id, "admin1", "tenant_admin")
    admin = login(browser, served, "admin1", "en-US")
    admin.goto(served.base + "/lines")
    admin.fill("#add-trunk input[name=name]", "cm-2")
    admin.click("#add-trunk button[type=submit]")
    expect(admin.locator("#trunks tr[data-trunk='cm-2']")).to_have_count(1)
    board = login(browser, served, "sup", "zh-CN")
    board.goto(served.base + "/wallboard")
    board.wait_for_selector("body[data-live='on']")
    expect(board.locator("#wb-trunks tr[data-trunk='cm-2'] td.state")).to_have_attribute("data-state", "ok")
    expect(board.locator("#wb-no-alerts")).to_be_visible()
    board.evaluate("window.__notReloaded = true")
    # an alert found by the evaluation goes to the wallboard over server-sent events
    camp = w.post("/v1/campaigns", t, json={"name": "cold", "mode": "progressive"}).json()["id"]
    from waihu.adapters.storage.models_analytics import AlertEvent
    from waihu.domain.timeutil import to_dt

    with w.platform.uow(t.id, actor="test") as uow:
        now = to_dt(w.clock.now())
        uow.session.add(AlertEvent(id=uow.new_id(), tenant_id=t.id, kind="alert.fired", rule="connect_rate_low",
                                   severity="warning", campaign_id=camp, subject=None, value=0.12, threshold=0.45,
                                   window_start=now, window_end=now, at=now, payload={}))
        uow.commit()
    w.live.notify(t.id, "alert", {"rule": "connect_rate_low", "campaign_id": camp})
    expect(board.locator("#wb-alerts tr[data-rule='connect_rate_low']")).to_contain_text("接通率过低")
    assert board.evaluate("window.__notReloaded") is True
    shot(board, "wallboard-alerts")


def test_api_docs_load_with_no_outside_host(served: Served, browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(served.base) else outside.append(r.url))
    page.goto(served.base + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("waihu API")
    assert outside == []
    ctx.close()
