"""Ejection, probing and readmission on scripted sequences (virtual time), and routing rules."""

from __future__ import annotations

from waihu.domain.calls import LossCause
from waihu.domain.routing import Router, RouteRequest, RoutingPolicy
from waihu.domain.trunks import Thresholds, Trunk, TrunkHealth, TrunkRole

BIZ = "insurance"


def trunk(name: str, **kw: object) -> Trunk:
    base: dict[str, object] = {"capacity": 100, "cps": 50.0}
    base.update(kw)
    return Trunk(name, name, **base)  # type: ignore[arg-type]


def router(*trunks: Trunk) -> Router:
    return Router(list(trunks), RoutingPolicy(explore=0.0), seed=1)


def send(r: Router, now: float, region: str | None = "浙江", business: str = BIZ,
         avoid: frozenset[str] = frozenset()) -> tuple[str | None, bool, str]:
    d = r.route(RouteRequest(business, region, avoid), now)
    return d.trunk_id, d.probe, d.reason


def lose(r: Router, trunk_id: str, now: float, cause: LossCause = LossCause.TECHNICAL, probe: bool = False) -> None:
    r.on_line(trunk_id, now, ok=False, cause=cause, probe=probe)
    r.release(trunk_id)


def ring(r: Router, trunk_id: str, now: float, probe: bool = False) -> None:
    r.on_line(trunk_id, now, ok=True, probe=probe)


def test_three_consecutive_line_losses_eject_then_probe_then_readmit() -> None:
    r = router(trunk("A"), trunk("B", role=TrunkRole.BACKUP))
    t = 0.0
    for _ in range(3):
        assert send(r, t)[0] == "A"
        lose(r, "A", t + 0.5)
        t += 1.0
    assert r.health("A") is TrunkHealth.EJECTED
    assert r.transitions[-1][1:3] == ("A", "eject")
    assert send(r, t) == ("B", False, "fallback_standby"), "the standby takes over at once"
    # cool-down of 10 s, then probes go to A first
    got = send(r, t + 10.0)
    assert got == ("A", True, "probe") and r.health("A") is TrunkHealth.PROBING
    for k in range(4):
        assert send(r, t + 10.1 + k / 10)[:2] == ("A", True)
    assert send(r, t + 10.6)[0] == "B", "at most five probes at once"
    for k in range(5):
        ring(r, "A", t + 12.0 + k / 10, probe=True)
    assert r.health("A") is TrunkHealth.ENABLED
    assert send(r, t + 13.0) == ("A", False, "best_value")


def test_a_failed_probe_ejects_again_with_a_longer_cooldown() -> None:
    r = router(trunk("A"))
    for k in range(3):
        send(r, k)
        lose(r, "A", k + 0.2)
    assert send(r, 5.0) == (None, False, "no_line.all_ejected")
    assert send(r, 13.0)[1] is True
    lose(r, "A", 13.5, probe=True)
    assert r.health("A") is TrunkHealth.EJECTED
    assert send(r, 13.5 + 19.0)[0] is None, "cool-down doubled to 20 s (the maximum)"
    assert send(r, 13.5 + 20.0)[1] is True
    lose(r, "A", 34.0, probe=True)
    assert send(r, 34.0 + 19.0)[0] is None
    assert send(r, 34.0 + 20.0)[1] is True


def test_congestion_on_a_probe_neither_fails_nor_passes_it() -> None:
    r = router(trunk("A"))
    for k in range(3):
        send(r, k)
        lose(r, "A", k + 0.2)
    assert send(r, 12.5)[1] is True
    lose(r, "A", 12.6, cause=LossCause.CONGESTION, probe=True)
    assert r.health("A") is TrunkHealth.PROBING
    assert r.live["A"].breaker.probe_ok == 0


def test_line_loss_rate_over_the_minimum_sample_ejects() -> None:
    r = router(trunk("A", thresholds=Thresholds(line_loss=0.3, min_sample=10, consecutive=99)))
    t = 0.0
    pattern = [True, True, False] * 3 + [True]  # 4 losses in 10 results = 40%
    for i, bad in enumerate(pattern):
        send(r, t)
        if bad:
            lose(r, "A", t + 0.1)
        else:
            ring(r, "A", t + 0.1)
        t += 1.0
        if i < 9:
            assert r.health("A") is TrunkHealth.ENABLED, "not before the minimum sample"
    assert r.health("A") is TrunkHealth.EJECTED
    assert r.live["A"].breaker.last_reason.startswith("line_loss_rate:")


def test_callee_side_failures_never_eject() -> None:
    r = router(trunk("A"))
    for k in range(50):
        send(r, k)
        ring(r, "A", k + 0.1)
        r.on_outcome("A", "浙江", k + 1.0, answered=False)
        r.release("A")
    assert r.health("A") is TrunkHealth.ENABLED


def test_answer_rate_threshold_ejects_a_silent_trunk() -> None:
    r = router(trunk("A", thresholds=Thresholds(min_answer_rate=0.05, answer_min_sample=40)))
    for k in range(40):
        send(r, k)
        ring(r, "A", k + 0.1)
        r.on_outcome("A", "浙江", k + 30.0, answered=False)
        r.release("A")
    assert r.health("A") is TrunkHealth.EJECTED
    assert r.live["A"].breaker.last_reason.startswith("answer_rate:")


def test_congestion_throttles_instead_of_ejecting() -> None:
    r = router(trunk("A", capacity=100))
    for k in range(40):
        assert send(r, k * 0.01)[0] == "A"
    for k in range(19):  # 40 in flight; the carrier starts refusing one call in four
        refused = k % 4 == 3
        r.on_line("A", 1.0 + k * 0.01, ok=not refused, cause=LossCause.CONGESTION if refused else None)
    assert r.live["A"].usable >= 40, "not before a full window of results"
    r.on_line("A", 1.2, ok=False, cause=LossCause.CONGESTION)
    assert r.health("A") is TrunkHealth.ENABLED
    assert r.live["A"].usable < 40
    assert any(e == "throttle" for _, _, e, _ in r.transitions)


def test_a_carrier_refusing_every_call_with_503_is_ejected() -> None:
    busy = router(trunk("A", capacity=100))
    t = 0.0
    for _k in range(40):  # a busy line lets calls through between its refusals: never ejected
        t += 5.0
        lose(busy, "A", t, LossCause.CONGESTION)
        ring(busy, "A", t + 0.5)
    assert busy.health("A") is TrunkHealth.ENABLED
    full = router(trunk("A", capacity=100))
    for _k in range(30):  # our own calls fill the line: refusals for a minute are no fault either
        assert send(full, 0.0)[0] == "A"
    for k in range(30):
        full.on_line("A", 2.0 * k, ok=False, cause=LossCause.CONGESTION)
        full.release("A")
    for k in range(12):  # nor is a quick burst of refusals of lone calls
        lose(full, "A", 61 + 0.01 * k, LossCause.CONGESTION)
    assert full.health("A") is TrunkHealth.ENABLED
    r = router(trunk("A", capacity=100), trunk("B", capacity=100, priority=-1))
    for k in range(10):  # a carrier that refuses every lone call for over 10 s is down
        assert r.health("A") is TrunkHealth.ENABLED, k
        lose(r, "A", 1.5 * k, LossCause.CONGESTION)
    assert r.health("A") is TrunkHealth.EJECTED
    assert [reason for _, tid, e, reason in r.transitions if tid == "A" and e == "eject"] == [
        "consecutive_congestion:10"]
    assert send(r, 16.0)[0] == "B"
    off = router(trunk("C", capacity=100, thresholds=Thresholds(congestion_run=0)))
    for k in range(30):
        lose(off, "C", float(k), LossCause.CONGESTION)
    assert off.health("C") is TrunkHealth.ENABLED, "0 turns the rule off"


def test_only_registered_trunks_and_the_hold_reasons() -> None:
    r = router(trunk("A", business=frozenset({"care"})), trunk("B", regions=frozenset({"广东"})))
    assert send(r, 0.0, business="care")[0] == "A"
    assert send(r, 0.0, region="广东")[0] == "B"
    assert send(r, 0.0, region="浙江") == (None, False, "no_line.not_registered")
    assert [a.reason for a in r.alerts] == ["no_line.not_registered"]
    assert send(r, 1.0, region="浙江")[0] is None
    assert len(r.alerts) == 1, "one alert per business and region until a line is found again"


def test_capacity_and_cps_are_honoured() -> None:
    r = router(trunk("A", capacity=3, cps=2.0), trunk("B", role=TrunkRole.TEMPORARY, capacity=1, cps=1.0))
    got = [send(r, 0.0)[0] for _ in range(4)]
    assert got == ["A", "A", "B", None], "two per second on A, then the temporary trunk, then hold"
    assert send(r, 0.5)[2] == "no_line.all_full"
    assert send(r, 1.0)[0] == "A"
    assert send(r, 1.0)[0] is None, "A is at its capacity of 3"
    r.release("A")
    assert send(r, 1.1)[0] == "A"


def test_avoided_trunks_are_skipped_for_a_retry() -> None:
    r = router(trunk("A", priority=2), trunk("B"))
    assert send(r, 0.0, avoid=frozenset({"A"}))[0] == "B"
    assert send(r, 0.0, avoid=frozenset({"A", "B"}))[2] == "no_line.not_registered"


def test_the_router_learns_the_better_trunk_per_region() -> None:
    r = Router([trunk("A"), trunk("B")], RoutingPolicy(explore=0.1), seed=2)
    truth = {("A", "浙江"): 0.5, ("B", "浙江"): 0.3, ("A", "广东"): 0.3, ("B", "广东"): 0.5}
    import random
    rng = random.Random(5)
    picks: dict[str, list[str]] = {"浙江": [], "广东": []}
    for k in range(4000):
        region = "浙江" if k % 2 else "广东"
        t, _, _ = send(r, k * 0.1, region=region)
        assert t is not None
        picks[region].append(t)
        ring(r, t, k * 0.1)
        r.on_outcome(t, region, k * 0.1, answered=rng.random() < truth[(t, region)])
        r.release(t)
    late = {reg: p[-500:] for reg, p in picks.items()}
    assert late["浙江"].count("A") / 500 > 0.85
    assert late["广东"].count("B") / 500 > 0.85


def test_options_down_ejects_and_holds_the_trunk_out_until_options_up() -> None:
    r = router(trunk("A", priority=1), trunk("B"))
    assert send(r, 0.0)[0] == "A"
    r.release("A")
    r.on_signal("A", False, 1.0)
    assert r.health("A") is TrunkHealth.EJECTED
    assert r.transitions[-1] == (1.0, "A", "eject", "options_down")
    r.on_signal("A", False, 2.0)  # still down: nothing new
    assert len([t for t in r.transitions if t[1] == "A"]) == 1
    # long past the cool-down, the trunk stays out while its probes fail
    assert send(r, 500.0)[0] == "B" and r.health("A") is TrunkHealth.EJECTED
    r.release("B")
    r.on_signal("A", True, 501.0)  # good probes again: probe calls may go at once
    assert r.health("A") is TrunkHealth.PROBING and r.transitions[-1][2:] == ("cooldown", "options_up")
    for k in range(5):
        assert send(r, 501.1 + k / 10)[:3] == ("A", True, "probe")
    for k in range(5):
        ring(r, "A", 502.0 + k / 10, probe=True)
    assert r.health("A") is TrunkHealth.ENABLED
    r.on_signal("A", True, 503.0)  # up while enabled changes nothing
    assert r.health("A") is TrunkHealth.ENABLED and r.transitions[-1][2] == "probe_ok"


def test_options_down_during_probing_ejects_again_and_disabled_trunks_are_left_alone() -> None:
    r = router(trunk("A"))
    r.on_signal("A", False, 0.0)
    r.on_signal("A", True, 1.0)
    assert r.health("A") is TrunkHealth.PROBING
    r.on_signal("A", False, 2.0)
    assert r.health("A") is TrunkHealth.EJECTED and r.transitions[-1][2:] == ("probe_fail", "options_down")
    b = r.live["A"].breaker
    b.state = TrunkHealth.DISABLED
    r.on_signal("A", True, 3.0)
    assert r.health("A") is TrunkHealth.DISABLED and not b.signal_down
