"""The live runtime host: time mapping, the change feed for wallboards, one owner of the engines."""

from __future__ import annotations

from typing import Any

from tests.apitools import T0, World


def test_virtual_time_follows_speed_times_wall_clock(db_url: str) -> None:
    from waihu.service.live import LiveHost

    w = World(db_url)
    try:
        fast = LiveHost(w.platform, speed=10.0)
        w.clock.at += 3
        assert fast.virtual_now() == T0 + 30
        fast.advance(fast.virtual_now())
        assert fast.now == T0 + 30
        fast.advance(T0)  # time never runs backwards
        assert fast.now == T0 + 30
    finally:
        w.close()


def test_listeners_see_agents_calls_and_counters(world: World) -> None:
    t = world.tenant("acme")
    seen: list[tuple[str, str, dict[str, Any]]] = []
    stop = world.live.listen(lambda tid, kind, doc: seen.append((tid, kind, doc)))
    agent = world.post("/v1/agents", t, json={"code": "A1", "name": "Ann"}).json()["id"]
    world.post(f"/v1/agents/{agent}/login", t)
    assert seen == []  # nothing happens until the runtime task runs
    world.advance(1)
    assert ("agent", "ready") in {(k, d.get("state")) for _, k, d in seen}
    r = world.post("/v1/outbound", t, json={"phone": "13800138000", "agent_id": agent})
    world.advance(120)
    statuses = [d["status"] for _, k, d in seen if k == "call" and d["call_id"] == r.json()["call_id"]]
    assert statuses == ["dialing", "ringing", "answered", "bridged", "ended"]
    assert {tid for tid, _, _ in seen} == {t.id}
    ended = [d for _, k, d in seen if k == "campaign" and d["ended"] == 1]
    assert ended and ended[-1]["connected"] == 1
    stop()
    n = len(seen)
    world.post(f"/v1/agents/{agent}/pause", t, json={"reason": "lunch"})
    world.advance(1)
    assert len(seen) == n
    assert world.get(f"/v1/live/agents/{agent}", t).json()["state"] in ("wrap_up", "break")
