"""Tenant isolation: tenant B can neither read, list, change nor delete tenant A's objects, and
the answers are exactly those for an id that does not exist."""

from __future__ import annotations

import io
from typing import Any

from tests.apitools import Tenant, World

MISSING = "f" * 32


def _seed(world: World, a: Tenant) -> dict[str, str]:
    c = world.client
    h = a.h()
    ids: dict[str, str] = {}
    ids["agent"] = c.post("/v1/agents", headers=h, json={"code": "A001", "name": "Ann"}).json()["id"]
    assert c.post(f"/v1/agents/{ids['agent']}/sip-account", headers=h).status_code == 201  # B must not reach it
    ids["group"] = c.post("/v1/agent-groups", headers=h, json={"name": "sales"}).json()["id"]
    ids["user"] = c.post("/v1/users", headers=h, json={"username": "a-sup", "password": "secret-pass",
                                                       "role": "supervisor"}).json()["id"]
    ids["token"] = c.post("/v1/tokens", headers=h, json={"name": "crm"}).json()["id"]
    ids["contact"] = c.post("/v1/contacts", headers=h, json={"phones": ["13800138001"], "name": "张三"}).json()["id"]
    ids["campaign"] = c.post("/v1/campaigns", headers=h, json={"name": "spring"}).json()["id"]
    f = io.BytesIO("手机,姓名\n13800138002,李四\n".encode())
    ids["import"] = c.post("/v1/imports", headers=h, files={"file": ("a.csv", f, "text/csv")}).json()["id"]
    ids["dnc"] = c.post("/v1/dnc", headers=h, json={"phone": "13800138003"}).json()["id"]
    ids["webhook"] = c.post("/v1/webhooks", headers=h, json={"url": "http://127.0.0.1:9/h",
                                                            "events": ["call.ended"]}).json()["id"]
    ids["trunk"] = c.post("/v1/trunks", headers=h, json={"name": "ct", "capacity": 5, "cps": 1, "sip": {
        "uri": "sip:gw@198.51.100.7", "password": "pw-a"}}).json()["id"]
    ids["caller_id"] = c.post("/v1/caller-ids", headers=h, json={"caller_ids": [
        {"number": "02088886666"}]}).json()["items"][0]["id"]
    c.post(f"/v1/trunks/{ids['trunk']}/disable", headers=h)  # A's calls below take the simulated default line
    r = c.post("/v1/outbound", headers=h, json={"phone": "+8613800138000"})
    assert r.status_code == 202, r.text
    ids["call"] = r.json()["call_id"]
    world.advance(120)
    assert c.get(f"/v1/cdrs/{ids['call']}", headers=h).status_code == 200
    d = c.get(f"/v1/webhooks/{ids['webhook']}/deliveries", headers=h).json()["items"]
    ids["delivery"] = d[0]["id"]
    return ids


def _requests(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    """(method, path with {id}, body) for every object-addressed endpoint."""
    return [
        ("GET", "/v1/agents/{agent}", None), ("PATCH", "/v1/agents/{agent}", {"name": "x"}),
        ("DELETE", "/v1/agents/{agent}", None), ("POST", "/v1/agents/{agent}/login", None),
        ("POST", "/v1/agents/{agent}/sip-account", None), ("GET", "/v1/agents/{agent}/sip-account", None),
        ("DELETE", "/v1/agents/{agent}/sip-account", None),
        ("GET", "/v1/agent-groups/{group}", None), ("PATCH", "/v1/agent-groups/{group}", {"description": "x"}),
        ("DELETE", "/v1/agent-groups/{group}", None),
        ("GET", "/v1/users/{user}", None), ("PATCH", "/v1/users/{user}", {"display_name": "x"}),
        ("DELETE", "/v1/users/{user}", None), ("DELETE", "/v1/tokens/{token}", None),
        ("GET", "/v1/contacts/{contact}", None), ("PATCH", "/v1/contacts/{contact}", {"name": "x"}),
        ("DELETE", "/v1/contacts/{contact}", None), ("GET", "/v1/contacts/{contact}/history", None),
        ("GET", "/v1/campaigns/{campaign}", None), ("PATCH", "/v1/campaigns/{campaign}", {"priority": 1}),
        ("DELETE", "/v1/campaigns/{campaign}", None), ("POST", "/v1/campaigns/{campaign}/start", None),
        ("POST", "/v1/campaigns/{campaign}/pause", None), ("POST", "/v1/campaigns/{campaign}/stop", None),
        ("GET", "/v1/campaigns/{campaign}/progress", None),
        ("POST", "/v1/campaigns/{campaign}/contacts", {"contact_ids": ["{contact}"]}),
        ("GET", "/v1/imports/{import}", None), ("DELETE", "/v1/dnc/{dnc}", None),
        ("GET", "/v1/webhooks/{webhook}", None), ("PATCH", "/v1/webhooks/{webhook}", {"active": False}),
        ("DELETE", "/v1/webhooks/{webhook}", None), ("GET", "/v1/webhooks/{webhook}/deliveries", None),
        ("POST", "/v1/webhook-deliveries/{delivery}/replay", None),
        ("GET", "/v1/calls/{call}", None), ("GET", "/v1/cdrs/{call}", None),
        ("GET", "/v1/cdrs/{call}/signaling", None),
        ("GET", "/v1/trunks/{trunk}", None), ("POST", "/v1/trunks/{trunk}/enable", None),
        ("POST", "/v1/trunks/{trunk}/disable", None), ("PUT", "/v1/trunks/{trunk}/sip", {"uri": "sip:b@203.0.113.5"}),
        ("DELETE", "/v1/trunks/{trunk}/sip", None),
        ("GET", "/v1/caller-ids/{caller_id}", None), ("POST", "/v1/caller-ids/{caller_id}/take-offline", None),
        ("POST", "/v1/caller-ids/{caller_id}/clear", None),
    ]


def test_tenant_b_cannot_reach_tenant_a(world: World) -> None:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    ids = _seed(world, a)
    c = world.client
    for method, path, body in _requests(ids):
        real = path.format(**ids)
        fake = path.format(**dict.fromkeys(ids, MISSING))
        if body is not None and "contact_ids" in body:
            body = {"contact_ids": [MISSING]}
        rb = c.request(method, real, headers=b.h(), json=body)
        rm = c.request(method, fake, headers=b.h(), json=body)
        assert rb.status_code == 404, (method, path, rb.status_code, rb.text)
        assert rb.json() == rm.json(), (method, path)  # indistinguishable from a missing object
    # A's objects are untouched and still there for A
    for method, path, _ in _requests(ids):
        if method == "GET":
            assert c.get(path.format(**ids), headers=a.h()).status_code == 200, path
    # lists of B never show A's objects; filters with A's ids come back empty
    lists = ["/v1/agents", "/v1/agent-groups", "/v1/users", "/v1/tokens", "/v1/contacts", "/v1/campaigns",
             "/v1/imports", "/v1/dnc", "/v1/webhooks", "/v1/calls", "/v1/cdrs", "/v1/dispositions", "/v1/audit",
             "/v1/trunks", "/v1/caller-ids"]
    mine = set(ids.values())
    for path in lists:
        r = c.get(path, headers=b.h())
        assert r.status_code == 200, path
        assert not mine & {str(i.get("id") or i.get("call_id")) for i in r.json()["items"]}, path
    assert c.get(f"/v1/cdrs?campaign_id={ids['campaign']}", headers=b.h()).json()["items"] == []
    assert c.get("/v1/contacts?phone=13800138001", headers=b.h()).json()["items"] == []
    assert c.get("/v1/dnc?phone=13800138003", headers=b.h()).json()["items"] == []
    trunk_a = c.get(f"/v1/trunks/{ids['trunk']}", headers=a.h()).json()
    assert trunk_a["sip"]["uri"] == "sip:gw@198.51.100.7:5060", "B's attempts changed nothing"
    # B cannot dial into A's campaign, nor for A's agent, nor export A's CDRs
    assert c.post("/v1/outbound", headers=b.h(), json={"phone": "13800138009",
                                                       "campaign_id": ids["campaign"]}).status_code == 404
    assert c.post("/v1/outbound", headers=b.h(), json={"phone": "13800138009",
                                                       "agent_id": ids["agent"]}).status_code == 404
    csv_b = c.get("/v1/cdrs/export", headers=b.h()).text
    assert ids["call"] not in csv_b
    assert ids["call"] in c.get("/v1/cdrs/export", headers=a.h()).text
    # a user of B cannot be bound to A's agent
    r = c.post("/v1/users", headers=b.h(), json={"username": "b-agent", "password": "secret-pass", "role": "agent",
                                                 "agent_id": ids["agent"]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "agent_id"
    # the platform operator manages tenants but reads no tenant data
    assert c.get("/v1/contacts", headers={"Authorization": f"Bearer {world.platform_token}"}).status_code == 403
    names = {t["name"] for t in c.get("/v1/tenants", headers=a.h("platform_admin")).json()["items"]}
    assert {"tenant-a", "tenant-b"} <= names
