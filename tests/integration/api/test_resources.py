"""Resources end to end through the API: CRUD, pagination, masking, exports, errors."""

from __future__ import annotations

import io

from sqlalchemy import select
from tests.apitools import World, error_code

from waihu.adapters.storage.models import DispositionRecord
from waihu.adapters.storage.models_compliance import Consent
from waihu.domain.timeutil import to_dt
from waihu.service.privacy import record_consent


def test_pagination_filter_sort_convention(world: World) -> None:
    t = world.tenant("acme")
    for i in range(7):
        world.clock.at += 1
        assert world.post("/v1/agents", t, json={"code": f"A{i:03d}", "name": f"n{i}",
                                                 "groups": ["g1"] if i % 2 else []}).status_code == 201
    seen, cursor = [], None
    while True:
        q = "/v1/agents?limit=3&sort=-code" + (f"&cursor={cursor}" if cursor else "")
        body = world.get(q, t).json()
        seen += [a["code"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"A{i:03d}" for i in reversed(range(7))]
    assert [a["code"] for a in world.get("/v1/agents?group=g1", t).json()["items"]] == ["A001", "A003", "A005"]
    bad = world.get("/v1/agents?sort=password", t)
    assert bad.status_code == 422 and error_code(bad) == "pagination.invalid_sort"
    bad = world.get("/v1/agents?cursor=%%%", t)
    assert bad.status_code == 422 and error_code(bad) == "pagination.invalid_cursor"
    other = world.get("/v1/agents?limit=1&sort=code", t).json()["next_cursor"]
    assert error_code(world.get(f"/v1/agents?sort=-code&cursor={other}", t)) == "pagination.invalid_cursor"


def test_contacts_masking_search_history_and_erase(world: World) -> None:
    t = world.tenant("acme")
    r = world.post("/v1/contacts", t, json={"phones": ["138 0013 8000"], "name": "王五", "tags": ["vip"],
                                            "attributes": {"level": 3}})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert r.json()["phones"][0]["phone"] == "+8613800138000"  # tenant admin holds contacts.read_pii
    sup = world.get(f"/v1/contacts/{cid}", t, "supervisor").json()
    assert sup["phones"][0]["phone"] == "138****8000"
    assert world.get("/v1/contacts?phone=13800138000", t, "supervisor").json()["items"][0]["id"] == cid
    assert world.get("/v1/contacts?tag=vip&q=王", t).json()["items"][0]["id"] == cid
    dup = world.post("/v1/contacts", t, json={"phones": ["+8613800138000"]})
    assert dup.status_code == 409 and error_code(dup) == "contact.phone_exists"
    bad = world.post("/v1/contacts", t, json={"phones": ["12345"]})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "phones[0]"
    assert "12345" not in bad.text
    p = world.client.patch(f"/v1/contacts/{cid}", headers=t.h(), json={"attributes": {"city": "杭州"}})
    assert p.json()["attributes"] == {"level": 3, "city": "杭州"}
    h = world.get(f"/v1/contacts/{cid}/history", t).json()
    assert h["contact_id"] == cid and h["calls"] == []
    # an agent sees only assigned contacts
    assert world.get(f"/v1/contacts/{cid}", t, "agent").status_code == 404
    with world.platform.uow(t.id) as uow:  # consent evidence and an agent's note about the person
        record_consent(uow, "+8613800138000", world.clock.now(), source="web_form", evidence="王五 signed form 17")
        uow.session.add(DispositionRecord(id="d-erase", tenant_id=t.id, call_id="x-erase", campaign_id="k",
                                          contact_id=cid, agent_id="a1", code="callback", note="王五: call his wife",
                                          set_at=to_dt(world.clock.now())))
        uow.commit()
    assert world.client.delete(f"/v1/contacts/{cid}", headers=t.h()).status_code == 204
    assert world.get(f"/v1/contacts/{cid}", t).status_code == 404
    with world.platform.uow(t.id) as uow:  # the API erases as `waihu contact erase` does
        assert uow.session.scalars(select(Consent).where(Consent.contact_id == cid)).all() == []
        assert uow.session.get(DispositionRecord, "d-erase").note is None


def test_import_upload_reports_rows(world: World) -> None:
    t = world.tenant("acme")
    camp = world.post("/v1/campaigns", t, json={"name": "q1", "mode": "progressive"}).json()["id"]
    data = "手机,姓名\n13800138001,甲\n12345,乙\n13800138001,丙\n".encode()
    r = world.post("/v1/imports", t, "api_client", files={"file": ("list.csv", io.BytesIO(data), "text/csv")},
                   data={"campaign_id": camp})
    assert r.status_code == 201, r.text
    rep = r.json()
    assert (rep["imported"], rep["duplicates"], rep["rejected"]) == (1, 1, 1)
    assert rep["report"]["rejected"][0]["row"] == 3
    assert world.get(f"/v1/imports/{rep['id']}", t).json()["id"] == rep["id"]
    bad = world.post("/v1/imports", t, files={"file": ("x.exe", io.BytesIO(b"MZ"), "application/octet-stream")})
    assert bad.status_code == 422 and error_code(bad) == "import.unsupported_format"
    strict = world.post("/v1/imports", t, files={"file": ("l.csv", io.BytesIO(data), "text/csv")},
                        data={"strict": "true"})
    assert strict.status_code == 422 and error_code(strict) == "import.strict_rejected"
    prog = world.get(f"/v1/campaigns/{camp}/progress", t).json()
    assert prog["summary"]["contacts"] == 1


def test_campaign_lifecycle_and_live_progress(world: World) -> None:
    t = world.tenant("acme")
    c = world.client
    camp = world.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive"}).json()
    hook = world.post("/v1/webhooks", t, json={"url": "http://127.0.0.1:9/h", "events": ["campaign.finished"]}).json()
    bad = world.post("/v1/campaigns", t, json={"name": "x", "mode": "warp", "options": {"ring_timeout": 1}})
    assert bad.status_code == 422 and {d["field"] for d in bad.json()["error"]["details"]} >= {"mode", "ring_timeout"}
    ids = [world.post("/v1/contacts", t, json={"phones": [f"1380013810{i}"]}).json()["id"] for i in range(3)]
    assert world.post(f"/v1/campaigns/{camp['id']}/contacts", t, json={"contact_ids": ids}).json() == {"added": 3}
    agent = world.post("/v1/agents", t, json={"code": "A1", "name": "Ann"}).json()["id"]
    assert world.post(f"/v1/campaigns/{camp['id']}/start", t, "supervisor").json()["state"] == "running"
    again = world.post(f"/v1/campaigns/{camp['id']}/start", t)
    assert again.status_code == 409 and error_code(again) == "campaign.illegal_transition"
    assert world.post(f"/v1/agents/{agent}/login", t, "supervisor").status_code == 202
    world.advance(5)
    live = world.get("/v1/live/agents", t).json()
    assert live and live[0]["agent_id"] == agent and live[0]["state"] in ("reserved", "ready", "talking")
    # finish every call: the agent wraps up each answered call
    for _ in range(40):
        world.advance(10)
        a = world.get(f"/v1/live/agents/{agent}", t).json()
        if a["state"] == "wrap_up":
            r = world.post(f"/v1/agents/{agent}/wrap-up", t, json={"call_id": a["call_id"],
                                                                  "disposition": "success", "note": "ok"})
            assert r.status_code == 202
        if world.get(f"/v1/campaigns/{camp['id']}", t).json()["state"] == "completed":
            break
    prog = world.get(f"/v1/campaigns/{camp['id']}/progress", t).json()
    assert prog["campaign"]["state"] == "completed"
    assert prog["summary"]["connected"] == 3 and prog["live"]["connected"] == 3
    disp = world.get(f"/v1/dispositions?campaign_id={camp['id']}", t, "qa").json()["items"]
    assert {d["code"] for d in disp} == {"success"} and len(disp) == 3
    assert world.get(f"/v1/cdrs?campaign_id={camp['id']}&outcome=connected", t).json()["items"][0]["agent_id"] == agent
    assert c.delete(f"/v1/campaigns/{camp['id']}", headers=t.h()).status_code == 409
    finished = world.get(f"/v1/webhooks/{hook['id']}/deliveries", t).json()["items"]
    assert [d["payload"]["data"]["campaign_id"] for d in finished] == [camp["id"]]


def test_outbound_contract_idempotency_dnc_and_agent_scope(world: World) -> None:
    t = world.tenant("acme")
    c = world.client
    r = c.post("/v1/outbound", headers={**t.h(), "Idempotency-Key": "k1"}, json={"phone": "+8613800138000"})
    assert r.status_code == 202
    again = c.post("/v1/outbound", headers={**t.h(), "Idempotency-Key": "k1"}, json={"phone": "+8613800138000"})
    assert again.json()["call_id"] == r.json()["call_id"] and again.headers["Idempotent-Replayed"] == "true"
    other = c.post("/v1/outbound", headers={**t.h(), "Idempotency-Key": "k1"}, json={"phone": "+8613800138001"})
    assert other.status_code == 409 and error_code(other) == "idempotency.key_reused"
    assert world.get(f"/v1/calls/{r.json()['call_id']}", t).json()["status"] in ("queued", "dialing")
    adhoc = world.get(f"/v1/calls/{r.json()['call_id']}", t).json()["campaign_id"]
    assert world.get(f"/v1/campaigns/{adhoc}", t).json()["name"] == "_adhoc"
    reserved = world.post(f"/v1/campaigns/{adhoc}/pause", t)
    assert reserved.status_code == 409 and error_code(reserved) == "campaign.reserved"
    assert world.post("/v1/campaigns", t, json={"name": "_mine"}).json()["error"]["details"][0]["code"] == \
        "campaign.reserved_name"
    world.post("/v1/dnc", t, json={"phone": "13900139000", "reason": "asked"})
    blocked = world.post("/v1/outbound", t, json={"phone": "139-0013-9000"})
    assert blocked.status_code == 409 and error_code(blocked) == "compliance.dnc"
    assert world.get("/v1/dnc?phone=13900139000", t).json()["items"][0]["phone"] == "139****9000"
    bad = world.post("/v1/outbound", t, json={"phone": "abc"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "phone"
    sched = world.post("/v1/outbound", t, json={"phone": "13800138002", "auto_dial": False})
    assert sched.status_code == 422 and error_code(sched) == "outbound.campaign_required"
    # an agent token without a bound agent cannot dial; an agent user dials only for itself
    assert world.post("/v1/outbound", t, "agent", json={"phone": "13800138003"}).status_code == 403
    agent = world.post("/v1/agents", t, json={"code": "A7", "name": "Bo"}).json()["id"]
    world.post("/v1/users", t, json={"username": "bobby", "password": "bo-password", "role": "agent",
                                     "agent_id": agent})
    jwt = c.post("/v1/auth/login", json={"username": "bobby", "password": "bo-password"}).json()["access_token"]
    ah = {"Authorization": f"Bearer {jwt}"}
    busy = c.post("/v1/outbound", headers=ah, json={"phone": "13800138004"})
    assert busy.status_code == 409 and error_code(busy) == "agent.not_available"
    assert c.post(f"/v1/agents/{agent}/login", headers=ah).status_code == 202
    world.advance(1)
    call = c.post("/v1/outbound", headers=ah, json={"phone": "13800138004"})
    assert call.status_code == 202
    world.advance(40)
    mine = c.get("/v1/calls", headers=ah).json()["items"]
    assert [x["call_id"] for x in mine] == [call.json()["call_id"]]
    assert c.get(f"/v1/calls/{r.json()['call_id']}", headers=ah).status_code == 404  # not the agent's call
    assert c.get("/v1/contacts", headers=ah).json()["items"][0]["phones"][0]["phone"] == "138****8004"


def test_cdr_export_needs_permission_and_is_audited(world: World) -> None:
    t = world.tenant("acme")
    world.post("/v1/outbound", t, json={"phone": "13800138000"})
    world.advance(120)
    assert world.get("/v1/cdrs/export", t, "supervisor").status_code == 403
    r = world.get("/v1/cdrs/export", t)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("call_id,campaign") and len(lines) == 2 and "+8613800138000" in lines[1]
    entries = world.get("/v1/audit?action=cdr.export", t).json()["items"]
    assert len(entries) == 1 and entries[0]["actor"].startswith("token:")
    since = world.get("/v1/cdrs?since=2099-01-01T00:00:00Z", t).json()["items"]
    assert since == []
    outcome = lines[1].split(",")[lines[0].split(",").index("outcome")]
    assert len(world.get(f"/v1/cdrs/export?outcome={outcome}", t).text.lstrip("\ufeff").splitlines()) == 2
    assert len(world.get("/v1/cdrs/export?outcome=nothing", t).text.lstrip("\ufeff").splitlines()) == 1
    # the calls asked for, by when they were asked
    assert len(world.get("/v1/calls?until=2099-01-01T00:00:00Z", t).json()["items"]) == 1
    assert world.get("/v1/calls?since=2099-01-01T00:00:00Z", t).json()["items"] == []


def test_bad_input_never_500(world: World) -> None:
    t = world.tenant("acme")
    c = world.client
    cases = [
        ("POST", "/v1/outbound", "not json"), ("POST", "/v1/campaigns", {"name": 5}),
        ("POST", "/v1/users", {"username": "a", "password": "b", "role": "wizard"}),
        ("GET", "/v1/cdrs?since=yesterday", None), ("GET", "/v1/campaigns?limit=100000", None),
        ("POST", "/v1/webhooks", {"url": "ftp://x", "events": ["nope"]}),
        ("PATCH", "/v1/tenants/x", {"timezone": "Mars/Base"}), ("POST", "/v1/agents", {"code": "x"}),
        ("POST", "/v1/outbound", {"phone": "+8613800138000", "extra": 1}),
    ]
    for method, path, body in cases:
        kw = {"content": body} if isinstance(body, str) else {"json": body}
        r = c.request(method, path, headers=t.h(), **kw)
        assert 400 <= r.status_code < 500, (method, path, r.status_code)
        error_code(r)
