"""Number-status pre-check: unreachable numbers are held before any attempt, cached, counted."""

from __future__ import annotations

from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.domain.calls import LossCause
from waihu.domain.messages import DialTarget
from waihu.domain.number_status import NumberStatusCache
from waihu.domain.phone import PhoneNumber
from waihu.domain.routing import Router
from waihu.domain.trunks import Trunk
from waihu.engine.config import CampaignSpec
from waihu.service.routing import RoutedLines

SPEC = CampaignSpec("k1", "t1", job_type="insurance")


def lines(**model: float) -> RoutedLines:
    net = SimNetwork(VirtualLoop(0.0), CalleeModel(**model), Draws(1), 0.0)  # type: ignore[arg-type]
    router = Router([Trunk("A", "A", capacity=10, cps=10, cost_per_attempt=0.02)])
    return RoutedLines(router, number_status=net)


def target(n: int) -> DialTarget:
    return DialTarget(f"c{n}", "k1", PhoneNumber(f"+8613900{n:06d}"), f"p{n}")


def test_empty_numbers_are_held_with_their_reason_and_saved_cost() -> None:
    rl = lines(empty_rate=1.0, suspended_rate=0.0, powered_off_rate=0.0)
    r = rl.route(target(1), SPEC, 100.0)
    assert (r.trunk_id, r.hold_reason, r.final) == (None, "number_status.empty_number", True)
    assert r.retry_at == 100.0 + 30 * 86400.0
    assert rl.router.live["A"].in_flight == 0, "no line was taken"
    assert rl.status_cache.skipped == {"empty_number": 1}
    assert rl.status_cache.saved_cost == 0.02


def test_a_number_that_stays_off_is_looked_at_less_and_less_often() -> None:
    rl = lines(empty_rate=0.0, suspended_rate=0.0, powered_off_rate=1.0)
    t, holds = 0.0, []
    for _ in range(4):
        r = rl.route(target(3), SPEC, t)
        assert r.hold_reason == "number_status.powered_off" and r.retry_at is not None
        holds.append((r.retry_at - t, r.final))
        t = r.retry_at
    assert holds == [(2 * 3600.0, False), (4 * 3600.0, False), (8 * 3600.0, False), (16 * 3600.0, True)]


def test_reachable_numbers_are_routed_and_answers_are_cached_until_they_expire() -> None:
    rl = lines(empty_rate=0.0, suspended_rate=0.0, powered_off_rate=0.0)
    assert rl.route(target(1), SPEC, 0.0).trunk_id == "A"
    assert rl.route(target(1), SPEC, 10.0).trunk_id == "A"
    assert (rl.status_cache.checks, rl.status_cache.hits) == (1, 1)
    rl.route(target(1), SPEC, 86400.0 + 1)
    assert rl.status_cache.checks == 2, "checked again after a day"


def test_powered_off_expires_sooner_than_empty() -> None:
    c = NumberStatusCache()
    assert c.put("a", LossCause.POWERED_OFF, 0.0) == 2 * 3600.0
    assert c.get("a", 3600.0) == (True, LossCause.POWERED_OFF)
    assert c.get("a", 2 * 3600.0) == (False, None)
    assert c.put("b", LossCause.SUSPENDED, 0.0) == 7 * 86400.0


def test_retries_in_a_chain_are_not_checked_again() -> None:
    rl = lines(empty_rate=1.0, suspended_rate=0.0, powered_off_rate=0.0)
    t = target(2)
    t.avoid_trunks = ("B",)
    assert rl.route(t, SPEC, 0.0).trunk_id == "A"
    assert rl.status_cache.checks == 0
