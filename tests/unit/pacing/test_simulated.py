"""Small simulated campaigns: accounting and constraints hold (correctness only, no timing)."""

from __future__ import annotations

import math

import pytest

from waihu.bench.pacing import STRATEGIES, Scenario, closed_form_tolerance, run_once


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_small_campaign_invariants(strategy: str) -> None:
    sc = Scenario(agents=10, hours=1.0, warmup_minutes=10.0, max_lines=18)
    params = {"level": 1.8} if strategy == "vicidial_ratio" else {}
    r = run_once(strategy, sc, 1, params)
    assert 0 <= r["abandoned"] <= r["answered"]
    # every answered call is either bridged to an agent or abandoned (a few may still wait at the end)
    assert r["answered"] - 2 * sc.agents <= r["connected"] + r["abandoned"] <= r["answered"] + sc.agents
    assert r["max_lines_used"] <= 18
    assert 0.0 < r["occupancy"] < sc.bound
    if strategy != "progressive":
        assert r["line_loss"] == 0  # paced strategies never dial into a full trunk
    if strategy == "progressive":
        assert r["abandoned"] == 0


@pytest.mark.parametrize("strategy", ["predictive", "vicidial_adaptive"])
def test_zero_target_never_abandons(strategy: str) -> None:
    sc = Scenario(agents=10, hours=1.0, warmup_minutes=10.0, abandon_target=0.0)
    r = run_once(strategy, sc, 2)
    assert r["abandoned"] == 0 and r["campaign_abandon_rate"] == 0.0
    assert r["answered"] > 100


def test_progressive_dials_into_a_full_trunk_as_line_loss() -> None:
    r = run_once("progressive", Scenario(agents=10, hours=0.5, warmup_minutes=5.0, max_lines=6), 1)
    assert r["line_loss"] > 0 and r["max_lines_used"] <= 6


def test_progressive_matches_the_closed_form() -> None:
    """Progressive occupancy against the renewal-reward closed form.

    Each agent cycles through failed dials, the answered dial's ring, the talk and the wrap-up:
    occupancy = talk / ((1/p - 1) * no_answer_timeout + ring_mean + talk + wrap). The tolerance is
    3.5 standard errors of the renewal-reward estimator over the number of agent cycles observed
    (variance of the cycle's talk-weighted length from the geometric number of failures, the
    lognormal talk, Gamma(2) wrap-up and Gamma(4) ring times), and never below 1%.
    """
    sc = Scenario(agents=50, hours=2.0)
    r = run_once("progressive", sc, 7)
    closed = sc.closed_form()
    assert math.isclose(closed, 120 / (3 * 25 + 8 + 120 + 15))
    assert abs(r["occupancy"] - closed) / closed <= closed_form_tolerance(sc, 1)
