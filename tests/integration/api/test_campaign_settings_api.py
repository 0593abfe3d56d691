"""Campaign dialing settings and archive through the API: the same service as the console's
settings form, every problem listed at once with nothing changed, locked while running,
audited, tenant-scoped."""

from __future__ import annotations

from typing import Any

from tests.apitools import Tenant, World, error_code

MISSING = "f" * 32


def _settings(world: World, t: Tenant, camp: str) -> dict[str, Any]:
    r = world.get(f"/v1/campaigns/{camp}/settings", t)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _patch(world: World, t: Tenant, camp: str, body: Any, role: str = "tenant_admin") -> Any:
    return world.client.patch(f"/v1/campaigns/{camp}/settings", headers=t.h(role), json=body)


def test_settings_read_change_partially_and_audit(world: World) -> None:
    t = world.tenant("acme")
    camp = world.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive"}).json()["id"]
    s = _settings(world, t, camp)
    assert (s["mode"], s["abandon_target"], s["ring_timeout"], s["wrap_limit"], s["locked"]) == (
        "progressive", 0.03, 40.0, None, False)
    assert s["retry"]["busy"] == {"delay_seconds": 600.0, "max_attempts": 3}
    assert set(s["retry"]) == {"busy", "no_answer", "rejected", "abandoned", "line_failure", "unreachable"}
    assert (s["windows"], s["weekdays"]) == ([], [])
    # a supervisor may read but not change
    assert world.get(f"/v1/campaigns/{camp}/settings", t, "supervisor").status_code == 200
    assert _patch(world, t, camp, {"ring_timeout": 30}, "supervisor").status_code == 403

    r = _patch(world, t, camp, {"mode": "predictive", "pacing": "predictive", "abandon_target": 0.02,
                                "ring_timeout": 35, "wrap_limit": 30, "max_lines": 12,
                                "retry": {"busy": {"max_attempts": 4}, "no_answer": {"delay_seconds": 900}},
                                "windows": ["09:00-12:00", "13:30-20:00"], "weekdays": [1, 2, 3, 4, 5]})
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["mode"], s["abandon_target"], s["ring_timeout"], s["wrap_limit"], s["max_lines"]) == (
        "predictive", 0.02, 35.0, 30.0, 12)
    # only the named retry fields changed; the rest kept their values
    assert s["retry"]["busy"] == {"delay_seconds": 600.0, "max_attempts": 4}
    assert s["retry"]["no_answer"] == {"delay_seconds": 900.0, "max_attempts": 3}
    assert s["retry"]["rejected"] == {"delay_seconds": 14400.0, "max_attempts": 2}
    assert (s["windows"], s["weekdays"]) == (["09:00-12:00", "13:30-20:00"], [1, 2, 3, 4, 5])
    # the campaign itself carries them (what the dialer reads at start)
    doc = world.get(f"/v1/campaigns/{camp}", t).json()
    assert doc["mode"] == "predictive" and doc["options"]["wrap_limit"] == 30.0
    assert doc["options"]["compliance"] == {"windows": ["09:00-12:00", "13:30-20:00"], "weekdays": [1, 2, 3, 4, 5]}
    assert doc["retry_policy"]["busy"]["max_attempts"] == 4
    # a field not sent keeps its value; null lifts a limit; [] hands the window back to the tenant
    s = _patch(world, t, camp, {"wrap_limit": None, "windows": [], "weekdays": []}).json()
    assert (s["wrap_limit"], s["ring_timeout"], s["max_lines"], s["windows"], s["weekdays"]) == (
        None, 35.0, 12, [], [])
    assert world.get(f"/v1/campaigns/{camp}", t).json()["options"]["compliance"] == {}
    changes = [a for a in world.get("/v1/audit?action=campaign.update", t).json()["items"] if a["object_id"] == camp]
    fields = sorted((sorted(a["detail"]["fields"]) for a in changes), key=len)  # same clock: order by size
    assert fields[0] == ["compliance", "wrap_limit"]
    assert {"mode", "retry_policy", "abandon_target", "compliance", "max_lines"} <= set(fields[1])


def test_bad_settings_list_every_problem_and_change_nothing(world: World) -> None:
    t = world.tenant("acme")
    camp = world.post("/v1/campaigns", t, json={"name": "spring"}).json()["id"]
    before = _settings(world, t, camp)
    audit_before = len(world.get("/v1/audit", t).json()["items"])
    # values of the right type but wrong: the service lists every one
    r = _patch(world, t, camp, {"mode": "warp", "abandon_target": 0.5, "ring_timeout": 1, "power_ratio": 50,
                                "pacing": "guess", "max_lines": 0, "wrap_limit": -1,
                                "retry": {"busy": {"max_attempts": 0}, "no_answer": {"delay_seconds": -5},
                                          "bogus": {"max_attempts": 2}},
                                "windows": ["21:00-09:00"], "weekdays": [9]})
    assert r.status_code == 422 and error_code(r) == "campaign.invalid"
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"mode", "abandon_target", "ring_timeout", "power_ratio", "pacing", "max_lines", "wrap_limit",
            "busy.max_attempts", "no_answer.delay_seconds", "bogus"} <= fields
    assert any("windows" in f for f in fields) and any("weekdays" in f for f in fields), fields
    # values of the wrong type, unknown fields, non-finite numbers: the schema lists every one
    r = _patch(world, t, camp, {"ring_timeout": "soon", "abandon_target": "nan", "colour": "red",
                                "retry": {"busy": {"max_attempts": 1.5, "tries": 2}}, "windows": "09:00-12:00"})
    assert r.status_code == 422 and error_code(r) == "request.invalid"
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"ring_timeout", "abandon_target", "colour", "retry.busy.max_attempts", "retry.busy.tries",
            "windows"} <= fields, fields
    assert _settings(world, t, camp) == before
    assert len(world.get("/v1/audit", t).json()["items"]) == audit_before


def test_running_campaign_is_locked_and_archive_follows_the_lifecycle(world: World) -> None:
    t = world.tenant("acme")
    camp = world.post("/v1/campaigns", t, json={"name": "spring"}).json()["id"]
    assert world.post(f"/v1/campaigns/{camp}/start", t).status_code == 200
    assert _settings(world, t, camp)["locked"] is True
    r = _patch(world, t, camp, {"ring_timeout": 30})
    assert r.status_code == 409 and error_code(r) == "campaign.settings_locked"
    r = world.post(f"/v1/campaigns/{camp}/archive", t)
    assert r.status_code == 409 and error_code(r) == "campaign.illegal_transition"
    assert world.post(f"/v1/campaigns/{camp}/archive", t, "supervisor").status_code == 403
    world.post(f"/v1/campaigns/{camp}/pause", t)
    assert _patch(world, t, camp, {"ring_timeout": 30}).json()["ring_timeout"] == 30.0  # paused: changeable
    r = world.post(f"/v1/campaigns/{camp}/archive", t)
    assert r.status_code == 200 and r.json()["state"] == "archived"
    assert _settings(world, t, camp)["locked"] is True
    assert error_code(_patch(world, t, camp, {"ring_timeout": 50})) == "campaign.settings_locked"
    assert error_code(world.post(f"/v1/campaigns/{camp}/start", t)) == "campaign.illegal_transition"
    archived = world.get("/v1/audit?action=campaign.archive", t).json()["items"]
    assert [a["object_id"] for a in archived] == [camp]
    # the ad-hoc campaign of POST /v1/outbound is the platform's
    world.post("/v1/outbound", t, json={"phone": "+8613800138000"})
    adhoc = next(c for c in world.get("/v1/campaigns", t).json()["items"] if c["name"] == "_adhoc")["id"]
    assert error_code(_patch(world, t, adhoc, {"ring_timeout": 30})) == "campaign.reserved"


def test_settings_and_archive_of_another_tenant_answer_404(world: World) -> None:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    camp = world.post("/v1/campaigns", a, json={"name": "spring"}).json()["id"]
    before = _settings(world, a, camp)
    for method, path, body in (("GET", "/v1/campaigns/{}/settings", None),
                               ("PATCH", "/v1/campaigns/{}/settings", {"ring_timeout": 30}),
                               ("POST", "/v1/campaigns/{}/archive", None)):
        rb = world.client.request(method, path.format(camp), headers=b.h(), json=body)
        rm = world.client.request(method, path.format(MISSING), headers=b.h(), json=body)
        assert rb.status_code == 404 and error_code(rb) == "campaign.not_found", (method, path)
        assert rb.json() == rm.json()
    assert _settings(world, a, camp) == before
    assert world.get(f"/v1/campaigns/{camp}", a).json()["state"] == "draft"
