"""One do-not-call list for every path, the live dialer's compliance screen, rules and explain over the API."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.apitools import T0, World, error_code

from waihu.service.dnc import DncItem, add_entries

A, B, C, D, E = "13900139001", "13900139002", "13900139003", "13900139004", "13900139005"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def outbound(world: World, t: object, phone: str, **kw: object) -> int:
    return int(world.post("/v1/outbound", t, json={"phone": phone, **kw}).status_code)  # type: ignore[arg-type]


def test_one_dnc_list_blocks_every_path(world: World) -> None:
    t = world.tenant("acme")
    camp = world.post("/v1/campaigns", t, json={"name": "care", "job_type": "care"}).json()["id"]
    assert world.post(f"/v1/campaigns/{camp}/start", t).status_code == 200
    # the CLI and the bulk import write the same list the API reads and the request check uses
    with world.platform.uow(t.id, actor="cli") as uow:
        add_entries(uow, [DncItem(A)], world.clock.now(), source="regulator")
    with world.platform.uow(t.id, actor="cli") as uow:
        add_entries(uow, [DncItem(E)], world.clock.now(), source="carrier", is_global=True)
    listed = world.get(f"/v1/dnc?phone={A}", t).json()["items"]
    assert [(x["phone"], x["source"], x["scope"]) for x in listed] == [("139****9001", "regulator", "tenant")]
    assert outbound(world, t, A) == 409
    assert outbound(world, t, E) == 409, "the deployment's global list blocks every tenant"
    # a campaign's own list blocks that campaign only
    r = world.post("/v1/dnc", t, json={"phone": B, "campaign_id": camp, "source": "complaint"})
    assert r.status_code == 201 and r.json()["scope"] == f"campaign:{camp}"
    assert outbound(world, t, B, campaign_id=camp) == 409
    assert outbound(world, t, B) == 202
    assert world.get(f"/v1/dnc?phone={B}", t).json()["items"] == []
    assert len(world.get(f"/v1/dnc?campaign_id={camp}", t).json()["items"]) == 1
    # a temporary block ends by itself; an expiry in the past or an unknown source changes nothing
    past = world.post("/v1/dnc", t, json={"phone": C, "expires_at": iso(T0 - 60)})
    assert past.status_code == 422 and past.json()["error"]["details"][0]["code"] == "dnc.expiry_in_past"
    wrong = world.post("/v1/dnc", t, json={"phone": C, "source": "gossip"})
    assert wrong.status_code == 422 and error_code(wrong) == "dnc.invalid"
    assert world.get(f"/v1/dnc?phone={C}", t).json()["items"] == []
    assert world.post("/v1/dnc", t, json={"phone": C, "expires_at": iso(T0 + 2 * 3600)}).status_code == 201
    assert outbound(world, t, C) == 409
    world.clock.at += 3 * 3600
    assert outbound(world, t, C) == 202
    # removing an entry through the API frees the number the CLI listed
    entry = world.get(f"/v1/dnc?phone={A}", t).json()["items"][0]["id"]
    assert world.client.delete(f"/v1/dnc/{entry}", headers=t.h()).status_code == 204
    assert outbound(world, t, A) == 202
    # another tenant's list is not ours, and the id of an entry is no key into it
    other = world.tenant("other")
    assert outbound(world, other, B, campaign_id=None) == 202
    assert world.client.delete(f"/v1/dnc/{entry}", headers=other.h()).status_code == 404


def test_live_dialer_screens_requested_calls_with_the_tenants_rules(world: World) -> None:
    t = world.tenant("acme")
    assert world.get("/v1/compliance/rules", t).json() == {"rules": {}}
    # T0 is 10:26 in Shanghai: a morning-only window holds a requested call, and says why
    r = world.client.put("/v1/compliance/rules", headers=t.h(), json={"windows": ["09:00-10:00"]})
    assert r.status_code == 200
    held = world.post("/v1/outbound", t, json={"phone": D}).json()["call_id"]
    world.advance(2)
    call = world.get(f"/v1/calls/{held}", t).json()
    assert (call["status"], call["error_code"]) == ("held", "compliance.outside_calling_window")
    assert world.get(f"/v1/cdrs?contact_id={call['contact_id']}", t).json()["items"] == []
    why = world.get(f"/v1/contacts/{call['contact_id']}/explain", t, "supervisor").json()
    assert why["campaigns"][0]["reasons"] == ["compliance.outside_calling_window"]
    assert why["campaigns"][0]["allowed_from"].startswith("2026-05-30T09:00")
    # bad rules: every problem reported, nothing changed
    bad = world.client.put("/v1/compliance/rules", headers=t.h(),
                           json={"windows": ["25:00-26:00"], "max_per_day": -1, "timezone": "Mars/Base"})
    assert bad.status_code == 422
    assert {d["code"] for d in bad.json()["error"]["details"]} >= {"compliance.invalid_time"}
    assert len(bad.json()["error"]["details"]) >= 3
    assert world.get("/v1/compliance/rules", t).json()["rules"] == {"windows": ["09:00-10:00"]}
    assert world.client.put("/v1/compliance/rules", headers=t.h("supervisor"), json={}).status_code == 403
    # widening the window applies to the running dialer at once
    assert world.client.put("/v1/compliance/rules", headers=t.h(), json={"windows": ["09:00-21:00"]}).status_code == 200
    placed = world.post("/v1/outbound", t, json={"phone": D}).json()["call_id"]
    world.advance(60)
    assert world.get(f"/v1/calls/{placed}", t).json()["status"] != "held"
    assert len(world.get(f"/v1/cdrs?contact_id={call['contact_id']}", t).json()["items"]) == 1


def test_dnc_changes_reach_the_running_dialer(world: World) -> None:
    t = world.tenant("acme")
    first = world.post("/v1/outbound", t, json={"phone": A}).json()["call_id"]
    world.advance(60)
    assert world.get(f"/v1/calls/{first}", t).json()["status"] != "held"
    h = world.platform.codec.phone_hash("+86" + A)
    screens = [lane.screen for lane in world.live.tenants[t.id].lanes.values() if h in lane.screen.callees]
    assert screens and all(s.callees[h].dnc == {} for s in screens)
    entry = world.post("/v1/dnc", t, json={"phone": A, "reason": "asked"}).json()["id"]
    world.advance(1)
    assert all(s.callees[h].dnc == {"": float("inf")} for s in screens)
    assert world.client.delete(f"/v1/dnc/{entry}", headers=t.h()).status_code == 204
    world.advance(1)
    assert all(s.callees[h].dnc == {} for s in screens)


def test_idempotency_fingerprint_is_keyed(world: World) -> None:
    import hashlib
    import json

    from sqlalchemy import select

    from waihu.adapters.storage.models_api import CallRequest

    t = world.tenant("acme")
    r = world.client.post("/v1/outbound", headers={**t.h(), "Idempotency-Key": "k"}, json={"phone": "+86" + A})
    assert r.status_code == 202
    with world.platform.engine.connect() as conn:
        stored = conn.execute(select(CallRequest.request_hash).where(CallRequest.idempotency_key == "k")).scalar()
    plain = json.dumps(["+86" + A, None, None, None, True])
    assert stored and stored != hashlib.sha256(plain.encode()).hexdigest(), "an unkeyed digest can be brute-forced"
    again = world.client.post("/v1/outbound", headers={**t.h(), "Idempotency-Key": "k"}, json={"phone": "+86" + A})
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_supervisor_overrides_a_calling_window_hold_with_a_recorded_reason(world: World) -> None:
    t = world.tenant("acme")
    assert world.client.put("/v1/compliance/rules", headers=t.h(), json={"windows": ["09:00-10:00"]}).status_code \
        == 200
    # an API client may not override; a supervisor may, and the reason is audited
    denied = world.post("/v1/outbound", t, "api_client", json={"phone": D, "override_reason": "customer asked"})
    assert denied.status_code == 403 and error_code(denied) == "auth.forbidden"
    r = world.post("/v1/outbound", t, "supervisor", json={"phone": D, "override_reason": "customer asked"})
    assert r.status_code == 202
    world.advance(60)
    call = world.get(f"/v1/calls/{r.json()['call_id']}", t).json()
    assert call["status"] != "held"
    assert len(world.get(f"/v1/cdrs?contact_id={call['contact_id']}", t).json()["items"]) == 1
    audit = world.get("/v1/audit?action=call.override_requested", t).json()["items"]
    assert [a["detail"]["reason"] for a in audit] == ["customer asked"]
    # a DNC entry is never overridden
    world.post("/v1/dnc", t, json={"phone": E})
    blocked = world.post("/v1/outbound", t, "supervisor", json={"phone": E, "override_reason": "customer asked"})
    assert blocked.status_code == 409 and error_code(blocked) == "compliance.dnc"
    too_short = world.post("/v1/outbound", t, "supervisor", json={"phone": A, "override_reason": "x"})
    assert too_short.status_code == 422
