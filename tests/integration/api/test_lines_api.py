"""Trunks and caller IDs through the API: live statistics from the tenant's CDRs, adding (all or
none, every problem listed), enabling and disabling the tenant's own lines, audit, paging, and
tenant isolation (another tenant's line answers exactly like a missing one)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.apitools import Tenant, World, error_code

from waihu.adapters.storage.models import Cdr
from waihu.domain.timeutil import to_dt
from waihu.service.lines import add_caller_ids, add_trunk

MISSING = "f" * 32


def _all(world: World, t: Tenant, path: str, role: str = "tenant_admin") -> list[dict[str, Any]]:
    """Every item of a list, walking the pages two at a time."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        sep = "&" if "?" in path else "?"
        r = world.get(f"{path}{sep}limit=2" + (f"&cursor={cursor}" if cursor else ""), t, role)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


def _cdrs(world: World, t: Tenant, trunk: str, caller_id: str) -> None:
    """Calls of the last minutes on one trunk from one caller ID: 2 answered, 1 lost on the line."""
    now = world.live.virtual_now()
    camp = world.post("/v1/campaigns", t, json={"name": f"lines-{trunk}"}).json()["id"]
    with world.platform.uow(t.id) as uow:
        for i, (outcome, cause, talk) in enumerate((("connected", None, 40.0), ("connected", None, 20.0),
                                                    ("line_failure", "congestion", 0.0))):
            dial = now - 200 + 30 * i
            uow.session.add(Cdr(
                id=f"{t.id[:8]}cdr{i}", tenant_id=t.id, campaign_id=camp, contact_id=f"c{i}", phone_id="p",
                phone_hash="h", attempt=1, mode="progressive", dial_at=to_dt(dial), ring_at=to_dt(dial + 2),
                end_at=to_dt(dial + 10 + talk), outcome=outcome, loss_cause=cause, trunk_id=trunk,
                caller_id=caller_id, talk_seconds=Decimal(str(talk))))
        uow.commit()


def test_trunks_live_statistics_add_enable_disable(world: World) -> None:
    t = world.tenant("acme")
    r = world.post("/v1/trunks", t, json={"name": "电信-1", "capacity": 30, "cps": 5, "regions": ["广东", "广西"],
                                         "priority": 2, "cost_per_minute": 0.1})
    assert r.status_code == 201, r.text
    trunk = r.json()
    assert (trunk["owner"], trunk["enabled"], trunk["regions"], trunk["capacity"]) == (
        "tenant", True, ["广东", "广西"], 30)
    dup = world.post("/v1/trunks", t, json={"name": "电信-1", "capacity": 1, "cps": 1})
    assert dup.status_code == 409 and error_code(dup) == "trunk.duplicate_name"
    _cdrs(world, t, "电信-1", "+862088886666")
    got = world.get(f"/v1/trunks/{trunk['id']}", t, "supervisor").json()
    five = got["windows"]["5m"]
    assert (five["attempts"], five["answered"]) == (3, 2)
    assert five["line_loss_rate"] == pytest.approx(1 / 3) and five["loss_rates"] == {"congestion": pytest.approx(1 / 3)}
    # 40 s and 20 s of talk, billed by the minute: 2 minutes at 0.1
    assert got["usage_today"] == {"attempts": 3, "minutes": 2.0, "cost": pytest.approx(0.2)}
    # paging over several trunks, sorted by name by default and by priority on request
    for name, prio in (("联通-2", 5), ("移动-3", -1), ("备用-4", 0)):
        assert world.post("/v1/trunks", t, json={"name": name, "capacity": 10, "cps": 2, "priority": prio,
                                                "role": "backup"}).status_code == 201
    names = [x["name"] for x in _all(world, t, "/v1/trunks")]
    assert names == sorted(["电信-1", "联通-2", "移动-3", "备用-4"])
    assert [x["name"] for x in _all(world, t, "/v1/trunks?sort=-priority")] == ["联通-2", "电信-1", "备用-4", "移动-3"]
    # disable and enable again, each change audited once
    r = world.post(f"/v1/trunks/{trunk['id']}/disable", t)
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert world.post(f"/v1/trunks/{trunk['id']}/disable", t).json()["enabled"] is False  # no change, no entry
    assert world.get(f"/v1/trunks/{trunk['id']}", t).json()["enabled"] is False
    assert world.post(f"/v1/trunks/{trunk['id']}/enable", t).json()["enabled"] is True
    acts = [a["action"] for a in world.get("/v1/audit", t).json()["items"] if a["object_id"] == trunk["id"]]
    assert sorted(acts) == ["trunk.add", "trunk.disable", "trunk.enable"]
    # a supervisor sees the lines but changes nothing
    assert world.post(f"/v1/trunks/{trunk['id']}/disable", t, "supervisor").status_code == 403
    assert world.get("/v1/trunks", t, "agent").status_code == 403


def test_bad_trunks_are_refused_with_every_problem(world: World) -> None:
    t = world.tenant("acme")
    r = world.post("/v1/trunks", t, json={"name": "", "capacity": 0, "cps": -1, "regions": ["广东,广西"],
                                         "thresholds": {"line_loss": "high"}, "colour": "red"})
    assert r.status_code == 422 and error_code(r) == "request.invalid"
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"name", "capacity", "cps", "regions.0", "thresholds.line_loss", "colour"} <= fields, fields
    r = world.post("/v1/trunks", t, json={"name": "x", "capacity": 1, "cps": 1, "role": "boss"})
    assert r.status_code == 422 and error_code(r) == "trunk.invalid_role"
    r = world.post("/v1/trunks", t, json={"name": "x", "capacity": 1, "cps": 1, "thresholds": {"colour": 1}})
    assert r.status_code == 422 and error_code(r) == "trunk.unknown_threshold"
    assert world.get("/v1/trunks", t).json()["items"] == []
    assert [a for a in world.get("/v1/audit", t).json()["items"] if a["action"].startswith("trunk.")] == []
    bad = world.get("/v1/trunks?sort=cps", t)
    assert bad.status_code == 422 and error_code(bad) == "pagination.invalid_sort"


def test_caller_ids_add_list_take_offline_clear(world: World) -> None:
    t = world.tenant("acme")
    r = world.post("/v1/caller-ids", t, json={"caller_ids": [{"number": "020-8888-6666", "province": "广东"},
                                                             {"number": "13912345678", "daily_cap": 50}]})
    assert r.status_code == 201, r.text
    made = {c["number"]: c for c in r.json()["items"]}
    assert set(made) == {"+862088886666", "+8613912345678"}
    assert made["+8613912345678"]["daily_cap"] == 50 and made["+8613912345678"]["type"] == "mobile"
    # all or none: three bad entries, each listed with its position; nothing is added
    r = world.post("/v1/caller-ids", t, json={"caller_ids": [{"number": "12"}, {"number": "02088886666"},
                                                             {"number": "075588887777", "weight": 0},
                                                             {"number": "075588889999"}]})
    assert r.status_code == 422 and error_code(r) == "caller_id.invalid"
    details = [(d["row"], d["field"], d["code"]) for d in r.json()["error"]["details"]]
    assert [row for row, _, _ in details] == [1, 2, 3]
    assert details[1][2] == "caller_id.duplicate" and details[2][1] == "weight"
    r = world.post("/v1/caller-ids", t, json={"caller_ids": [{"number": "075588889999", "colour": "red"},
                                                             {"number": 75588889999}]})
    assert r.status_code == 422 and {d["field"] for d in r.json()["error"]["details"]} == {
        "caller_ids.0.colour", "caller_ids.1.number"}
    assert error_code(world.post("/v1/caller-ids", t, json={"caller_ids": []})) == "request.invalid"
    listed = _all(world, t, "/v1/caller-ids", "supervisor")
    # business numbers: a supervisor (no contacts.read_pii) sees them in full
    assert sorted(c["number"] for c in listed) == ["+8613912345678", "+862088886666"]
    _cdrs(world, t, "sim", "+862088886666")
    cid = made["+862088886666"]["id"]
    one = world.get("/v1/caller-ids?number=02088886666", t).json()["items"]
    assert [(c["id"], c["used_today"]) for c in one] == [(cid, 3)]
    assert world.get(f"/v1/caller-ids/{made['+8613912345678']['id']}", t).json()["used_today"] == 0
    assert world.get("/v1/caller-ids?province=广东", t).json()["items"][0]["id"] == cid
    bad = world.get("/v1/caller-ids?status=sleepy", t)
    assert bad.status_code == 422 and error_code(bad) == "caller_id.invalid_status"
    # offline and back
    r = world.post(f"/v1/caller-ids/{cid}/take-offline", t)
    assert r.status_code == 200 and r.json()["status"] == "offline"
    assert [c["id"] for c in world.get("/v1/caller-ids?status=offline", t).json()["items"]] == [cid]
    again = world.post(f"/v1/caller-ids/{cid}/take-offline", t)
    assert again.status_code == 409 and error_code(again) == "caller_id.illegal_transition"
    assert world.post(f"/v1/caller-ids/{cid}/clear", t).json()["status"] == "active"
    acts = sorted(a["action"] for a in world.get("/v1/audit", t).json()["items"] if a["action"].startswith("caller"))
    assert acts == ["caller_id.add", "caller_id.clear", "caller_id.take_offline"]
    assert world.post(f"/v1/caller-ids/{cid}/clear", t, "supervisor").status_code == 403


def test_platform_lines_are_seen_but_not_changed_by_the_tenant(world: World) -> None:
    t = world.tenant("acme")
    with world.platform.uow(t.id, actor="test") as uow:
        add_trunk(uow, world.clock.now(), name="平台-1", capacity=100, cps=10, platform=True)
        add_caller_ids(uow, world.clock.now(), [{"number": "01088887777", "province": "北京"}], platform=True)
        uow.commit()
    (trunk,) = world.get("/v1/trunks", t).json()["items"]
    (cid,) = world.get("/v1/caller-ids", t).json()["items"]
    assert trunk["owner"] == cid["owner"] == "platform"
    r = world.post(f"/v1/trunks/{trunk['id']}/disable", t)
    assert r.status_code == 409 and error_code(r) == "trunk.platform_owned"
    r = world.post(f"/v1/caller-ids/{cid['id']}/take-offline", t)
    assert r.status_code == 409 and error_code(r) == "caller_id.platform_owned"
    assert world.get(f"/v1/trunks/{trunk['id']}", t).json()["enabled"] is True


def test_lines_of_another_tenant_answer_404(world: World) -> None:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    trunk = world.post("/v1/trunks", a, json={"name": "电信-1", "capacity": 30, "cps": 5}).json()["id"]
    cid = world.post("/v1/caller-ids", a, json={"caller_ids": [{"number": "02088886666"}]}).json()["items"][0]["id"]
    _cdrs(world, a, "电信-1", "+862088886666")
    for method, path, oid in (("GET", "/v1/trunks/{}", trunk), ("POST", "/v1/trunks/{}/disable", trunk),
                              ("POST", "/v1/trunks/{}/enable", trunk), ("GET", "/v1/caller-ids/{}", cid),
                              ("POST", "/v1/caller-ids/{}/take-offline", cid),
                              ("POST", "/v1/caller-ids/{}/clear", cid)):
        rb = world.client.request(method, path.format(oid), headers=b.h())
        rm = world.client.request(method, path.format(MISSING), headers=b.h())
        assert rb.status_code == 404, (method, path, rb.text)
        assert rb.json() == rm.json()
    assert world.get("/v1/trunks", b).json()["items"] == []
    assert world.get("/v1/caller-ids", b).json()["items"] == []
    assert world.get("/v1/caller-ids?number=02088886666", b).json()["items"] == []
    # B's own line of the same name and number is B's alone, and A's calls do not count on it
    mine = world.post("/v1/trunks", b, json={"name": "电信-1", "capacity": 1, "cps": 1})
    assert mine.status_code == 201 and mine.json()["id"] != trunk
    assert world.get(f"/v1/trunks/{mine.json()['id']}", b).json()["usage_today"]["attempts"] == 0
    theirs = world.post("/v1/caller-ids", b, json={"caller_ids": [{"number": "02088886666"}]})
    assert theirs.status_code == 201
    assert world.get("/v1/caller-ids", b).json()["items"][0]["used_today"] == 0
    # A's lines are untouched
    assert world.get(f"/v1/trunks/{trunk}", a).json()["enabled"] is True
    assert world.get(f"/v1/caller-ids/{cid}", a).json()["status"] == "active"


def test_a_trunk_added_and_disabled_through_the_api_applies_to_the_next_calls(world: World) -> None:
    from tests.integration.api.test_live_routes import PHONES, call, cdrs, clean_line

    world.live.line_model = clean_line
    t = world.tenant("acme")
    before = call(world, t, PHONES[0])
    world.advance(60)
    trunk = world.post("/v1/trunks", t, json={"name": "电信-1", "capacity": 30, "cps": 5}).json()["id"]
    world.advance(1)  # the runtime takes the change
    on_trunk = call(world, t, PHONES[1])
    world.advance(60)
    assert world.post(f"/v1/trunks/{trunk}/disable", t).status_code == 200
    world.advance(1)
    after = call(world, t, PHONES[2])
    world.advance(60)
    rows = {r["call_id"]: r["trunk_id"] for r in cdrs(world, t)}
    assert [rows[c] for c in (before, on_trunk, after)] == ["sim", "电信-1", "sim"]
    # the statistics of the trunk count the call it carried
    got = world.get(f"/v1/trunks/{trunk}", t).json()
    assert got["windows"]["1h"]["attempts"] == 1 and got["usage_today"]["attempts"] == 1
