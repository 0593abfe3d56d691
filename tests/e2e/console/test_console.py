"""The console in a real browser: languages, import errors, a simulated campaign from start to
disposition with the wallboard following without a reload, and tenants kept apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PageTimeout
from playwright.sync_api import expect
from tests.e2e.console.conftest import VIEW, Served, login, shot


def test_login_page_in_chinese_and_english(served: Served, browser: Any) -> None:
    for lang, word, name in (("zh-CN", "登录", "login-zh"), ("en-US", "Log in", "login-en")):
        ctx = browser.new_context(viewport=VIEW, locale=lang, extra_http_headers={"Accept-Language": lang})
        page = ctx.new_page()
        page.goto(served.base + "/")
        expect(page.locator("h2")).to_have_text(word)
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh-CN" else "en")
        shot(page, name)
        ctx.close()
    t = served.world.tenant("acme")
    served.user(t.id, "admin1", "tenant_admin")
    page = login(browser, served, "admin1", "en-US")
    expect(page.locator("nav")).to_contain_text("Campaigns")
    page.click("a[href='/lang/zh']")
    expect(page.locator("nav")).to_contain_text("外呼任务")


def test_import_with_bad_rows_shows_the_errors(served: Served, browser: Any, tmp_path: Path) -> None:
    t = served.world.tenant("acme")
    served.user(t.id, "admin1", "tenant_admin")
    f = tmp_path / "名单.csv"
    f.write_text("手机,姓名\n13800138001,甲\n12345,乙\n13800138002,<script>丙</script>\n", encoding="utf-8")
    page = login(browser, served, "admin1", "zh-CN")
    page.goto(served.base + "/imports")
    page.set_input_files("input[type=file]", str(f))
    page.click("form.card button[type=submit]")
    expect(page.locator("#imported")).to_have_text("2")
    expect(page.locator("#rejected")).to_have_text("1")
    expect(page.locator("#rejected-rows tbody tr")).to_have_count(1)
    expect(page.locator("#rejected-rows tbody td").first).to_have_text("3")
    shot(page, "imports")


def _advance_until(served: Served, page: Any, selector: str, limit: int = 90) -> None:
    """Run the simulated network forward, two virtual seconds at a time, until the page shows ``selector``."""
    for _ in range(limit):
        served.world.advance(2)
        try:
            page.wait_for_selector(selector, timeout=300)
            return
        except PageTimeout:  # not there yet: move time on
            continue
    raise AssertionError(f"{selector} never appeared")


def test_agent_takes_a_call_and_the_wallboard_follows(served: Served, browser: Any) -> None:
    w = served.world
    t = w.tenant("acme")
    served.user(t.id, "admin1", "tenant_admin")
    served.user(t.id, "sup", "supervisor")
    aid = served.user(t.id, "agent1", "agent", "A1")
    camp = w.post("/v1/campaigns", t, json={"name": "春季回访", "mode": "progressive",
                                            "script_ref": "您好，{name}，这里是客服回访。"}).json()["id"]
    ids = [w.post("/v1/contacts", t, json={"phones": [f"1380013800{i}"], "name": name, "tags": ["vip"]}).json()["id"]
           for i, name in enumerate(["<script>x</script>", "李四", "王五"])]
    w.post(f"/v1/campaigns/{camp}/contacts", t, json={"contact_ids": ids})

    admin = login(browser, served, "admin1", "en-US")
    admin.goto(served.base + "/campaigns")
    admin.click(f"tr[data-id='{camp}'] button.start")
    expect(admin.locator(f"tr[data-id='{camp}'] td.state")).to_have_attribute("data-state", "running")
    expect(admin.locator(f"tr[data-id='{camp}'] td.state")).to_have_text("Running")
    shot(admin, "campaigns")

    board = login(browser, served, "sup", "zh-CN")
    board.goto(served.base + "/wallboard")
    board.wait_for_selector("body[data-live='on']")
    board.evaluate("window.__notReloaded = true")

    desk = login(browser, served, "agent1", "zh-CN")
    desk.goto(served.base + "/desk")
    desk.wait_for_selector("body[data-live='on']")
    desk.click("#btn-login")
    _advance_until(served, desk, "#agent-state[data-state='wrap_up']")
    expect(desk.locator("#screen-pop")).to_be_visible()
    name = desk.locator("#pop-name").inner_text()
    assert name in ("<script>x</script>", "李四", "王五")  # a customer named <script> shows as text
    phone = desk.locator("#pop-phone").inner_text()
    assert re.search(r"138\*{4}800\d", phone) and "1380013800" not in phone  # masked for an agent
    expect(desk.locator(".script")).to_contain_text(f"您好，{name}")
    shot(desk, "desk")

    row = board.locator(f"tr[data-agent='{aid}'] td.state")
    expect(row).to_have_attribute("data-state", "wrap_up")
    expect(board.locator(f"#wb-campaigns tr[data-id='{camp}'] td.connected")).not_to_have_text("0")
    shot(board, "wallboard")

    desk.select_option("#disposition", index=0)
    desk.fill("textarea[name=note]", "客户满意")
    desk.click("#btn-wrap")
    _advance_until(served, board, f"tr[data-agent='{aid}'] td.state:not([data-state='wrap_up'])")
    assert board.evaluate("window.__notReloaded") is True  # pushed over server-sent events, not reloaded
    assert board.locator(f"tr[data-agent='{aid}'] td.state").get_attribute("data-state") != "wrap_up"


def test_a_user_of_another_tenant_cannot_open_the_pages(served: Served, browser: Any) -> None:
    w = served.world
    a, b = w.tenant("acme"), w.tenant("beta")
    served.user(a.id, "admin-a", "tenant_admin")
    served.user(b.id, "admin-b", "tenant_admin")
    camp = w.post("/v1/campaigns", a, json={"name": "acme-secret", "mode": "progressive"}).json()["id"]
    page = login(browser, served, "admin-b", "en-US")
    resp = page.goto(f"{served.base}/campaigns/{camp}")
    assert resp is not None and resp.status == 404
    expect(page.locator(".error")).to_have_text("Not found.")
    page.goto(served.base + "/campaigns")
    expect(page.locator("#campaigns")).not_to_contain_text("acme-secret")
