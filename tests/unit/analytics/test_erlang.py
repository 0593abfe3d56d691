"""Erlang B/C/A against published values, exact sums and limiting cases."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from waihu.domain.erlang import (
    agents_for_service_level,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    trunks_for_blocking,
)
from waihu.domain.errors import ValidationError


def exact_erlang_c(n: int, a: int) -> float:
    a_f = Fraction(a)
    top = a_f**n / math.factorial(n) * Fraction(n, n - a)
    return float(top / (sum(a_f**k / math.factorial(k) for k in range(n)) + top))


def test_published_ten_erlangs_on_fourteen_agents() -> None:
    # Erlang C tables: 10 Erlangs on 14 agents -> P(wait) 0.1741; Erlang B 14 lines -> 0.0568
    assert erlang_c(14, 10) == pytest.approx(0.1741, abs=1e-4)
    assert erlang_b(14, 10) == pytest.approx(0.0568, abs=1e-4)
    r = erlang_c_metrics(360, 100, 14, 20)  # 360 calls/h x 100 s = 10 Erlangs
    assert r.traffic_erlangs == pytest.approx(10.0)
    assert r.occupancy == pytest.approx(10 / 14)
    assert r.asa_seconds == pytest.approx(0.17413 * 100 / 4, rel=1e-4)
    assert r.service_level == pytest.approx(1 - 0.174132 * math.exp(-4 * 20 / 100), rel=1e-5)


@pytest.mark.parametrize(("n", "a"), [(2, 1), (14, 10), (30, 25), (60, 50)])
def test_erlang_c_matches_exact_sum(n: int, a: int) -> None:
    assert erlang_c(n, a) == pytest.approx(exact_erlang_c(n, a), rel=1e-12)


def test_erlang_b_published_trunk_table() -> None:
    # 1% grade of service: 18 lines carry 10.437 Erlangs
    assert erlang_b(18, 10.437) == pytest.approx(0.01, abs=2e-4)
    assert trunks_for_blocking(10.0, 0.01) == (18, pytest.approx(erlang_b(18, 10.0)))


def test_large_n_is_finite() -> None:
    assert 0 < erlang_c(5000, 4950) < 1
    r = erlang_a_metrics(36000, 180, 1790, 120, 20)  # overloaded: Erlang A stays stable
    assert all(math.isfinite(v) for v in (r.p_wait, r.service_level, r.asa_seconds))
    assert 0 < r.p_abandon < 1 if r.p_abandon is not None else False


def test_unstable_queue_is_a_clear_error() -> None:
    with pytest.raises(ValidationError) as e:
        erlang_c_metrics(360, 100, 10, 20)
    assert e.value.code == "staffing.unstable_queue"


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    c = erlang_c_metrics(360, 100, 14, 20)
    a = erlang_a_metrics(360, 100, 14, 1e8, 20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-4)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-4)
    assert a.p_abandon is not None and a.p_abandon < 1e-6


def birth_death(lam: float, mu: float, theta: float, n: int, k: int = 4000) -> tuple[float, float, float]:
    """Brute-force M/M/N+M stationary distribution: P(wait), P(abandon) = theta E[Q] / lam, E[W]."""
    logp = [0.0]
    for i in range(1, k):
        logp.append(logp[-1] + math.log(lam) - math.log(min(i, n) * mu + max(i - n, 0) * theta))
    peak = max(logp)
    p = [math.exp(v - peak) for v in logp]
    s = sum(p)
    p = [v / s for v in p]
    pw = sum(p[n:])
    eq = sum((i - n) * p[i] for i in range(n, k))
    return pw, theta * eq / lam, eq / lam


@pytest.mark.parametrize(("cph", "aht", "n", "pat"), [(360, 100, 14, 60), (360, 100, 8, 60), (1200, 240, 70, 90)])
def test_erlang_a_closed_form_matches_birth_death(cph: float, aht: float, n: int, pat: float) -> None:
    r = erlang_a_metrics(cph, aht, n, pat, 20)
    pw, pab, ew = birth_death(cph / 3600, 1 / aht, 1 / pat, n)
    assert r.p_wait == pytest.approx(pw, rel=1e-9)
    assert r.p_abandon == pytest.approx(pab, rel=1e-9)
    assert r.asa_seconds == pytest.approx(ew, rel=1e-9)
    assert 1 - r.p_wait <= r.service_level <= 1


def test_agents_for_target() -> None:
    r = agents_for_service_level(360, 100, 20, 0.8)
    assert r.agents == 13 and r.service_level >= 0.8
    assert erlang_c_metrics(360, 100, 12, 20).service_level < 0.8
    ra = agents_for_service_level(360, 100, 20, 0.8, patience=60)
    assert ra.agents <= 13 and ra.service_level >= 0.8
    assert erlang_a_metrics(360, 100, ra.agents - 1, 60, 20).service_level < 0.8
