"""Wilson intervals, chi-square, probability best and stratified assignment against known values."""

from __future__ import annotations

import pytest

from waihu.domain.stats import (
    chi2_sf,
    chi_square_test,
    probability_best,
    sample_size_per_variant,
    stratified_assignment,
    wilson,
)


def test_wilson_known_interval() -> None:
    lo, hi = wilson(81, 263)  # Wilson (1927) / Newcombe example: 0.2553 .. 0.3662
    assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


def test_chi_square_tail() -> None:
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-9)
    assert chi2_sf(5.991464547107979, 2) == pytest.approx(0.05, abs=1e-9)
    assert chi2_sf(30.0, 3) == pytest.approx(1.380e-6, rel=1e-3)


def test_chi_square_two_by_two() -> None:
    # 30/100 vs 50/100: Pearson chi2 = 8.3333, p = 0.00389
    r = chi_square_test([30, 50], [100, 100])
    assert r.statistic == pytest.approx(8.3333, abs=1e-4) and r.dof == 1
    assert r.p_value == pytest.approx(0.003892, abs=1e-5)
    assert chi_square_test([0, 0], [10, 10]).p_value == 1.0


def test_probability_best() -> None:
    p = probability_best([30, 50], [100, 100], draws=20000, seed=1)
    assert sum(p) == pytest.approx(1.0)
    assert p[1] > 0.99
    even = probability_best([50, 50], [100, 100], draws=20000, seed=1)
    assert even[0] == pytest.approx(0.5, abs=0.02)


def test_sample_size() -> None:
    # 10% -> 12% at alpha 0.05, power 0.8: about 3841 per group
    assert sample_size_per_variant(0.10, 0.20) == pytest.approx(3841, abs=5)


def test_stratified_assignment_balances_each_stratum() -> None:
    units = [(f"u{i}", ("north" if i % 3 else "south", i % 2)) for i in range(301)]
    got = stratified_assignment(units, ["A", "B"], seed=5)
    assert set(got) == {u for u, _ in units}
    for stratum in {s for _, s in units}:
        members = [u for u, s in units if s == stratum]
        a = sum(1 for u in members if got[u] == "A")
        assert abs(a - (len(members) - a)) <= 1
    assert got == stratified_assignment(list(reversed(units)), ["A", "B"], seed=5)
    assert got != stratified_assignment(units, ["A", "B"], seed=6)
