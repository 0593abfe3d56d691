"""The live runtime routes through the tenant's trunks and caller IDs: calls placed through the
API go out on a trunk with the reason in the CDR, signaling logs are stored, a failing trunk is
ejected and its lost calls go out again at once on the other one, a call the router cannot
place ends held with the reason, and trunk changes reach the running dialers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from tests.apitools import Tenant, World

from waihu.adapters.simnet.trunks import SimTrunk, TrunkEvent
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.domain.trunks import Trunk
from waihu.service.lines import add_caller_ids, add_trunk, set_trunk_enabled
from waihu.service.lines_runtime import call_trace

PHONES = ["13800138000", "13800138001", "13800138002", "13800138003", "13800138004", "13800138005"]


def clean_line(t: Trunk) -> SimTrunk:
    """No random line losses: what happens on the line is what the test says."""
    return SimTrunk(t.trunk_id, t.capacity, t.cps, {"*": 1.0}, {})


def broken_bad(t: Trunk) -> SimTrunk:
    events = [TrunkEvent(t.trunk_id, "failure", 0.0, None)] if t.trunk_id == "BAD" else []
    return SimTrunk(t.trunk_id, t.capacity, t.cps, {"*": 1.0}, {}, events=events)


def trunk(world: World, t: Tenant, name: str, **kw: Any) -> None:
    with world.platform.uow(t.id, actor="test") as uow:
        add_trunk(uow, world.clock.now(), name=name, capacity=10, cps=5, **kw)
        uow.commit()


def caller_ids(world: World, t: Tenant, *entries: dict[str, Any]) -> None:
    with world.platform.uow(t.id, actor="test") as uow:
        add_caller_ids(uow, world.clock.now(), list(entries))
        uow.commit()


def call(world: World, t: Tenant, phone: str) -> str:
    r = world.post("/v1/outbound", t, json={"phone": phone})
    assert r.status_code == 202, r.text
    return str(r.json()["call_id"])


def cdrs(world: World, t: Tenant) -> list[dict[str, Any]]:
    r = world.get("/v1/cdrs", t, params={"limit": 100})
    assert r.status_code == 200
    return list(r.json()["items"])


def traces(world: World, t: Tenant) -> int:
    with world.platform.uow(t.id) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(CallSignaling)
                                      .where(CallSignaling.tenant_id == t.id)) or 0)


def test_api_calls_go_out_on_the_tenants_trunks_with_caller_ids_and_signaling_logs(world: World) -> None:
    world.live.line_model = clean_line
    t = world.tenant("acme")
    trunk(world, t, "A")
    trunk(world, t, "B")
    caller_ids(world, t, {"number": "01088886666", "province": "北京", "type": "landline", "max_concurrent": 10},
               {"number": "02188886666", "province": "上海", "type": "landline", "max_concurrent": 10})
    ids = [call(world, t, p) for p in PHONES[:4]]
    world.advance(5)
    assert {d["health"] for d in world.live.trunks(t.id).values()} == {"enabled"}
    world.advance(90)
    rows = cdrs(world, t)
    assert sorted(r["call_id"] for r in rows) == sorted(ids)
    assert {r["trunk_id"] for r in rows} <= {"A", "B"}
    for r in rows:
        assert r["outcome"] == "connected" and r["route_reason"], r
        # a Beijing callee is shown the Beijing number, a local landline
        assert r["caller_id"] == "+861088886666" and r["route_reason"].endswith("caller_id:local_landline")
    for cid in ids:
        assert world.get(f"/v1/calls/{cid}", t).json()["status"] == "ended"
    lane = world.live.tenants[t.id].lanes["robot"]
    assert lane.trunked is not None and lane.trunked.traces == {} and lane.trunked.trunk_of == {}, \
        "stored logs leave memory"
    assert traces(world, t) == len(ids)
    with world.platform.uow(t.id) as uow:
        trace = call_trace(uow, ids[0])
    messages = [m["message"] for m in trace["messages"]]
    assert messages[:2] == ["INVITE", "100 Trying"] and "200 OK" in messages and "ACK" in messages
    assert "BYE" in messages and trace["trunk_id"] in ("A", "B")
    over_api = world.get(f"/v1/cdrs/{ids[0]}/signaling", t).json()  # the same log over the API
    assert over_api == {**trace, "recorded": True}
    # the wallboard's trunk panel reads the CDRs: the trunks now show their attempts
    with world.platform.uow(t.id) as uow:
        from waihu.service.lines import trunk_status

        attempts = {s["name"]: s["windows"]["1h"]["attempts"] for s in trunk_status(uow, world.live.now)}
    assert sum(attempts.values()) == len(ids)


def test_a_failing_trunk_is_ejected_and_lost_calls_go_out_again_on_the_other(world: World) -> None:
    world.live.line_model = broken_bad
    t = world.tenant("acme")
    # BAD comes first (higher priority) and stays out once ejected (long cool-down)
    trunk(world, t, "BAD", priority=10, thresholds={"cooldown_seconds": 3600.0, "max_cooldown_seconds": 3600.0})
    trunk(world, t, "GOOD")
    first = [call(world, t, p) for p in PHONES[:3]]
    world.advance(5)
    doc = world.get(f"/v1/calls/{first[0]}", t).json()  # lost on BAD, going out again on GOOD
    assert doc["status"] in ("dialing", "ringing", "answered", "bridged") and doc["cdr"] is None, doc
    world.advance(55)
    health = world.live.trunks(t.id)
    assert health["BAD"]["health"] == "ejected" and health["BAD"]["ejections"] == 1
    assert health["GOOD"]["health"] == "enabled"
    # the API shows the router's view next to the statistics
    listed = {x["name"]: x["live"] for x in world.get("/v1/trunks", t).json()["items"]}
    assert listed["BAD"]["health"] == "ejected" and listed["BAD"]["reason"] and listed["GOOD"]["health"] == "enabled"
    bad_id = next(x["id"] for x in world.get("/v1/trunks", t).json()["items"] if x["name"] == "BAD")
    assert world.get(f"/v1/trunks/{bad_id}", t).json()["live"]["ejections"] == 1
    later = [call(world, t, p) for p in PHONES[3:5]]
    world.advance(90)
    rows = {r["call_id"]: r for r in cdrs(world, t)}
    lost = [r for r in rows.values() if r["trunk_id"] == "BAD"]
    assert sorted(r["call_id"] for r in lost) == sorted(first), "each of the first calls met BAD first"
    for r in lost:
        assert r["loss_cause"] == "technical" and r["sip_code"] == 500
        assert r["chain_id"] == r["call_id"], "a chain is named after its first attempt"
        retry = [x for x in rows.values() if x["chain_id"] == r["call_id"] and x["call_id"] != r["call_id"]]
        assert len(retry) == 1 and retry[0]["trunk_id"] == "GOOD" and retry[0]["outcome"] == "connected"
        assert retry[0]["attempt"] == r["attempt"], "a retry on another line is not a new attempt"
    for cid in later:  # BAD is out: straight to GOOD
        assert rows[cid]["trunk_id"] == "GOOD" and rows[cid]["chain_id"] is None
    # the request follows its chain: it ended when its retry ended, and shows the retry's CDR
    doc = world.get(f"/v1/calls/{first[0]}", t).json()
    assert doc["status"] == "ended" and doc["outcome"] == "connected" and doc["cdr"]["trunk_id"] == "GOOD"
    assert traces(world, t) == len(rows)
    with world.platform.uow(t.id) as uow:
        bad = call_trace(uow, first[0])
    assert [m["message"] for m in bad["messages"]] == ["INVITE", "100 Trying", "500 (Reason: Q.850;cause=41)",
                                                       "ACK"]


def test_a_call_the_router_cannot_place_ends_held_with_the_reason(world: World) -> None:
    t = world.tenant("acme")
    trunk(world, t, "A")
    caller_ids(world, t, {"number": "02188886666", "province": "上海", "type": "landline"})  # none for Beijing
    held = call(world, t, PHONES[0])
    world.advance(2)
    doc = world.get(f"/v1/calls/{held}", t).json()
    assert (doc["status"], doc["error_code"]) == ("held", "no_caller_id.none_for_region")
    shanghai = call(world, t, "13900139000")
    world.advance(60)
    assert [(r["call_id"], r["trunk_id"]) for r in cdrs(world, t)] == [(shanghai, "A")]


def test_trunk_changes_reach_the_running_dialer(world: World) -> None:
    world.live.line_model = clean_line
    t = world.tenant("acme")
    before = call(world, t, PHONES[0])
    world.advance(60)
    trunk(world, t, "A")
    world.live.lines_changed(t.id)  # as the console does
    on_a = call(world, t, PHONES[1])
    world.advance(60)
    trunk(world, t, "B")  # elsewhere (another process): found by the periodic look
    with world.platform.uow(t.id, actor="test") as uow:
        set_trunk_enabled(uow, world.clock.now(), "A", False)
        uow.commit()
    assert world.live.check_lines() == 1 and world.live.check_lines() == 1  # not taken until the runtime runs
    world.advance(1)
    assert world.live.check_lines() == 0
    on_b = call(world, t, PHONES[2])
    world.advance(60)
    with world.platform.uow(t.id, actor="test") as uow:
        set_trunk_enabled(uow, world.clock.now(), "B", False)
        uow.commit()
    world.live.lines_changed(t.id)
    after = call(world, t, PHONES[3])
    world.advance(60)
    rows = {r["call_id"]: r for r in cdrs(world, t)}
    assert [rows[c]["trunk_id"] for c in (before, on_a, on_b, after)] == ["sim", "A", "B", "sim"]
    assert rows[before]["route_reason"] is None and rows[after]["route_reason"] is None
    assert traces(world, t) == 2, "calls on the default route have no signaling log, as before"
    assert world.get(f"/v1/cdrs/{before}/signaling", t).json() == {
        "call_id": before, "trunk_id": "sim", "recorded": False, "messages": []}
    assert world.get(f"/v1/cdrs/{on_a}/signaling", t).json()["recorded"] is True


def test_a_tenant_without_trunks_dials_as_before(world: World) -> None:
    t = world.tenant("acme")
    other = world.tenant("beta")
    trunk(world, other, "X")  # another tenant's trunk is not this tenant's
    ids = [call(world, t, p) for p in PHONES[:2]]
    world.advance(90)
    rows = cdrs(world, t)
    assert sorted(r["call_id"] for r in rows) == sorted(ids)
    assert all((r["trunk_id"], r["route_reason"], r["outcome"]) == ("sim", None, "connected") for r in rows)
    lane = world.live.tenants[t.id].lanes["robot"]
    assert lane.trunked is None and world.live.trunks(t.id) == {}
    assert traces(world, t) == 0


def test_a_trunk_added_and_disabled_in_the_console_applies_to_the_next_calls(world: World) -> None:
    from tests.integration.console.test_pages import browser, csrf_of, user

    world.live.line_model = clean_line
    t = world.tenant("acme")
    user(world, t.id, "admin1", "tenant_admin")
    before = call(world, t, PHONES[0])
    world.advance(60)
    c = browser(world, "admin1")
    csrf = csrf_of(c.get("/lines").text)
    added = c.post("/lines/trunks", data={"csrf": csrf, "name": "电信-1", "capacity": "30", "cps": "5"})
    assert added.status_code == 200
    world.advance(1)  # the runtime takes the change
    on_trunk = call(world, t, PHONES[1])
    world.advance(60)
    assert c.post("/lines/trunks/%E7%94%B5%E4%BF%A1-1/disable", data={"csrf": csrf}).status_code == 200
    world.advance(1)
    after = call(world, t, PHONES[2])
    world.advance(60)
    rows = {r["call_id"]: r["trunk_id"] for r in cdrs(world, t)}
    assert [rows[c] for c in (before, on_trunk, after)] == ["sim", "电信-1", "sim"]


def test_calls_no_line_can_take_raise_one_alert_webhook(world: World) -> None:
    t = world.tenant("acme")
    hook = world.post("/v1/webhooks", t, json={"url": "http://127.0.0.1:9/hook", "events": ["alert"]})
    assert hook.status_code == 201, hook.text
    trunk(world, t, "A", business="insurance")  # the API's calls are another business: no line registered
    held = [call(world, t, p) for p in PHONES[:3]]
    world.advance(5)
    assert {world.get(f"/v1/calls/{c}", t).json()["status"] for c in held} == {"held"}
    deliveries = world.get(f"/v1/webhooks/{hook.json()['id']}/deliveries", t).json()["items"]
    alerts = [d for d in deliveries if d["event"] == "alert"]
    assert len(alerts) == 1, "one alert for the business and region, not one per call"
    data = alerts[0]["payload"]["data"]
    assert data["code"] == "line.none_available" and data["reason"] == "no_line.not_registered"
