"""The console's pages through the real app: sessions, CSRF, CSP, escaping, roles and tenants,
and an agent's call from screen-pop to disposition with the live runtime driven explicitly."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient

from tests.apitools import World
from waihu.service.auth import create_user
from waihu.service.directory import create_agent

PW = "secret-pass-1"


def user(world: World, tenant_id: str, name: str, role: str, agent_code: str | None = None) -> str | None:
    with world.platform.uow(tenant_id, actor="test") as uow:
        aid = create_agent(uow, agent_code, f"Agent {agent_code}", [], world.clock.now()).id if agent_code else None
        create_user(uow, name, PW, role, world.clock.now(), agent_id=aid)
        uow.commit()
    return aid


def browser(world: World, username: str | None = None, lang: str = "en-US") -> TestClient:
    c = TestClient(world.app, headers={"Accept-Language": lang}, follow_redirects=True)
    if username is not None:
        page = c.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        r = c.post("/login", data={"username": username, "password": PW, "csrf": csrf.group(1)})
        assert r.status_code == 200, r.text
    return c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" content="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def test_login_page_language_and_headers(world: World) -> None:
    zh = browser(world, lang="zh-CN,zh;q=0.9").get("/")
    assert "登录" in zh.text and 'lang="zh-CN"' in zh.text
    c = browser(world, lang="en-US,en;q=0.9")
    en = c.get("/")
    assert "Log in" in en.text and "登录" not in en.text.split("<p class=\"langs\">")[0]
    assert "default-src 'self'" in en.headers["content-security-policy"]
    assert not re.search(r"""(?:src|href)=["']https?://""", en.text)
    c.get("/lang/zh")  # the user's choice wins over Accept-Language
    assert "用户名" in c.get("/").text
    # a login post without the form's token is refused
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    bare = TestClient(world.app)
    r = bare.post("/login", data={"username": "admin1", "password": PW, "csrf": "x"}, follow_redirects=False)
    assert r.status_code == 403
    bad = c.post("/login", data={"username": "admin1", "password": "wrong-pass", "csrf": c.cookies["waihu_login_csrf"]})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text


def test_session_cookie_csrf_and_escaping(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    c = browser(world, "admin1")
    assert c.get("/campaigns").status_code == 200
    cookie = next(x for x in c.cookies.jar if x.name == "waihu_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    page = c.get("/campaigns").text
    r = c.post("/campaigns", data={"name": "<script>alert(1)</script>", "mode": "progressive"})
    assert r.status_code == 403  # no CSRF token
    r = c.post("/campaigns", data={"name": "<script>alert(1)</script>", "mode": "progressive",
                                   "csrf": csrf_of(page)})
    assert r.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)" not in r.text


def test_import_report_roles_and_tenants(world: World) -> None:
    a, b = world.tenant("acme"), world.tenant("beta")
    user(world, a.id, "admin-a", "tenant_admin")
    user(world, b.id, "admin-b", "tenant_admin")
    user(world, a.id, "agent-a", "agent", "A1")
    camp = world.post("/v1/campaigns", a, json={"name": "spring", "mode": "progressive"}).json()["id"]
    c = browser(world, "admin-a")
    csrf = csrf_of(c.get("/imports").text)
    data = "手机,姓名\n13800138001,甲\n12345,乙\n".encode()
    r = c.post("/imports", data={"csrf": csrf, "campaign_id": camp},
               files={"file": ("list.csv", io.BytesIO(data), "text/csv")})
    assert r.status_code == 200
    assert re.search(r'id="imported">1<', r.text) and re.search(r'id="rejected">1<', r.text)
    assert re.search(r"<td>3</td>", r.text)  # the bad row, numbered as in the file
    assert "12345" in r.text or "phone" in r.text
    assert c.get(f"/campaigns/{camp}").status_code == 200
    other = browser(world, "admin-b")
    assert other.get(f"/campaigns/{camp}").status_code == 404
    assert "spring" not in other.get("/campaigns").text
    agent = browser(world, "agent-a")
    assert agent.get("/wallboard").status_code == 403
    assert agent.get("/imports").status_code == 403
    assert "/wallboard" not in agent.get("/desk").text


def test_agent_takes_a_call_and_sets_a_disposition(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "sup", "supervisor")
    aid = user(world, t.id, "agent1", "agent", "A1")
    camp = world.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive",
                                                "script_ref": "您好 {name}"}).json()["id"]
    cid = world.post("/v1/contacts", t, json={"phones": ["13800138000"], "name": "<b>王</b>",
                                             "tags": ["vip"]}).json()["id"]
    world.post(f"/v1/campaigns/{camp}/contacts", t, json={"contact_ids": [cid]})
    sup = browser(world, "sup")
    wb = sup.get("/wallboard").text
    sup.post(f"/campaigns/{camp}/start", data={"csrf": csrf_of(wb)})
    ag = browser(world, "agent1", "zh-CN")
    desk = ag.get("/desk").text
    ag.post("/desk/state", data={"csrf": csrf_of(desk), "to": "login"})
    panel = ""
    for _ in range(60):
        world.advance(2)
        panel = ag.get("/desk/panel").text
        if 'data-state="wrap_up"' in panel:
            break
    assert 'id="screen-pop"' in panel and "&lt;b&gt;王&lt;/b&gt;" in panel
    assert "138****8000" in panel and "13800138000" not in panel  # an agent sees the number masked
    assert "您好 &lt;b&gt;王&lt;/b&gt;" in panel  # the script with the customer's name filled in
    call_id = re.search(r'name="call_id" value="([^"]+)"', panel)
    assert call_id is not None
    grid = sup.get("/wallboard/panel").text
    assert f'data-agent="{aid}"' in grid
    code = re.search(r'id="disposition">\s*<option value="([^"]+)"', panel)
    assert code is not None
    r = ag.post("/desk/wrap-up", data={"csrf": csrf_of(desk), "call_id": call_id.group(1), "disposition": code.group(1),
                                   "note": "回访"})
    assert r.status_code == 200
    for _ in range(60):
        world.advance(2)
        if world.get(f"/v1/campaigns/{camp}", t).json()["state"] == "completed":
            break
    assert 'data-state="wrap_up"' not in ag.get("/desk/panel").text
    d = world.get("/v1/dispositions", t).json()["items"]
    assert d and d[0]["code"] == code.group(1) and d[0]["call_id"] == call_id.group(1)


def test_dnc_users_tokens_search_and_click_to_call(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    aid = user(world, t.id, "agent1", "agent", "A1")
    c = browser(world, "admin1", "zh-CN")
    csrf = csrf_of(c.get("/dnc").text)
    r = c.post("/dnc", data={"csrf": csrf, "phone": "13900139000", "reason": "投诉"})
    assert "139****9000" in r.text and "13900139000" not in r.text
    bad = c.post("/dnc", data={"csrf": csrf, "phone": "12", "reason": ""})
    assert bad.status_code == 422
    r = c.post("/users", data={"csrf": csrf, "username": "sup2", "password": PW, "role": "supervisor"})
    assert "sup2" in r.text
    r = c.post("/tokens", data={"csrf": csrf, "name": "crm", "role": "api_client"})
    token = re.search(r'id="new-token">(wh_[^<]+)<', r.text)
    assert token is not None and r.headers["cache-control"] == "no-store"
    assert world.client.get("/v1/campaigns", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 200
    assert token.group(1) not in c.get("/tokens").text  # shown once
    # an agent may not hand out roles or see the admin pages
    agent = browser(world, "agent1")
    for path in ("/dnc", "/users", "/tokens"):
        assert agent.get(path).status_code == 403
    cid = world.post("/v1/contacts", t, json={"phones": ["13800138000"], "name": "赵六", "tags": ["vip"]}).json()["id"]
    found = c.get("/search", params={"q": "赵六"}).text
    assert "赵六" in found and "13800138000" in found  # a tenant admin may see numbers in full
    assert "<td>赵六</td>" in c.get("/search", params={"tag": "vip"}).text
    theirs = agent.get("/search", params={"q": "赵六"}).text
    assert "<td>赵六</td>" not in theirs and "<td>赵六</td>" in found  # not assigned to this agent
    # click-to-call for the agent: the call goes to the live runtime for the agent's own desk
    desk = agent.get("/desk").text
    agent.post("/desk/state", data={"csrf": csrf_of(desk), "to": "login"})
    world.advance(2)
    assert agent.post("/call", data={"csrf": csrf_of(desk), "contact_id": cid}).status_code == 404  # not theirs
    r = agent.post("/call", data={"csrf": csrf_of(desk), "phone": "13800138000"})
    assert r.status_code == 200
    world.advance(2)
    calls = world.get("/v1/calls", t).json()["items"]
    assert calls and calls[0]["agent_id"] == aid


def test_campaign_create_with_options_and_wrap_up_countdown(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    c = browser(world, "admin1")
    csrf = csrf_of(c.get("/campaigns").text)
    r = c.post("/campaigns", data={"csrf": csrf, "name": "q3", "mode": "preview", "script": "Hi {name}",
                                   "abandon_target": "2.5", "ring_timeout": "30", "wrap_limit": "45"})
    assert r.status_code == 200 and "q3" in r.text
    camp = next(x for x in world.get("/v1/campaigns", t).json()["items"] if x["name"] == "q3")
    assert camp["options"]["abandon_target"] == 0.025 and camp["options"]["wrap_limit"] == 45.0
    assert camp["script_ref"] == "Hi {name}" and camp["mode"] == "preview"
    bad = c.post("/campaigns", data={"csrf": csrf, "name": "q4", "abandon_target": "50"})
    assert bad.status_code == 422 and "abandon_target" in bad.text and "<html" in bad.text
    assert "q4" not in c.get("/campaigns").text


def test_preview_offer_accept(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "sup", "supervisor")
    user(world, t.id, "agent1", "agent", "A1")
    camp = world.post("/v1/campaigns", t, json={"name": "pv", "mode": "preview"}).json()["id"]
    cid = world.post("/v1/contacts", t, json={"phones": ["13800138000"], "name": "钱七"}).json()["id"]
    world.post(f"/v1/campaigns/{camp}/contacts", t, json={"contact_ids": [cid]})
    world.post(f"/v1/campaigns/{camp}/start", t)
    ag = browser(world, "agent1")
    desk = ag.get("/desk").text
    ag.post("/desk/state", data={"csrf": csrf_of(desk), "to": "login"})
    panel = ""
    for _ in range(20):
        world.advance(2)
        panel = ag.get("/desk/panel").text
        if 'id="btn-accept"' in panel:
            break
    assert 'id="btn-accept"' in panel and "钱七" in panel and "138****8000" in panel
    ag.post("/desk/preview", data={"csrf": csrf_of(desk), "contact_id": cid, "accept": "1"})
    world.advance(2)
    assert world.get("/v1/live/campaigns", t).json()["campaigns"][camp]["dialed"] == 1


def test_session_renews_while_the_user_works_and_ends_at_logout(world: World) -> None:
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    c = browser(world, "admin1")
    page = c.get("/campaigns").text
    old = c.cookies["waihu_session"]
    world.clock.at += world.platform.settings.access_token_seconds + 60  # the access token has expired
    r = c.get("/campaigns")
    assert r.status_code == 200 and "<h1>Campaigns</h1>" in r.text
    assert c.cookies["waihu_session"] != old  # renewed with the (rotated) refresh token
    r = c.post("/campaigns", data={"csrf": csrf_of(page), "name": "after-renewal"})
    assert "after-renewal" in r.text  # forms rendered before the renewal still post
    c.post("/logout", data={"csrf": csrf_of(page)})
    assert "waihu_session" not in c.cookies
    assert 'action="/login"' in c.get("/campaigns").text  # back to the login page
