"""Small statistics for analytics, stdlib only: Wilson intervals, the chi-square test of
independence for k conversion rates, the Bayesian probability that each variant is best, and
stratified random assignment."""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    den = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / den
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series / continued fraction)."""
    if x <= 0:
        return 1.0
    gln = math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - gln))
    b = x + 1 - a
    c = 1e300
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return min(1.0, math.exp(-x + a * math.log(x) - gln) * h)


def chi2_sf(stat: float, dof: int) -> float:
    return _gamma_q(dof / 2.0, stat / 2.0)


@dataclass(frozen=True)
class TestResult:
    statistic: float
    dof: int
    p_value: float


def chi_square_test(successes: Sequence[int], trials: Sequence[int]) -> TestResult:
    """Pearson chi-square test that k conversion rates are equal (2 x k table)."""
    n = sum(trials)
    s = sum(successes)
    if n == 0 or s in (0, n) or len(trials) < 2:
        return TestResult(0.0, max(len(trials) - 1, 1), 1.0)
    stat = 0.0
    for x, t in zip(successes, trials, strict=True):
        if t == 0:
            continue
        for obs, share in ((x, s / n), (t - x, (n - s) / n)):
            exp = t * share
            stat += (obs - exp) ** 2 / exp
    dof = sum(1 for t in trials if t > 0) - 1
    return TestResult(stat, dof, chi2_sf(stat, dof) if dof > 0 else 1.0)


def probability_best(successes: Sequence[int], trials: Sequence[int], draws: int = 20_000,
                     seed: int = 0) -> list[float]:
    """P(variant i has the highest rate) under independent Beta(1 + x, 1 + n - x) posteriors."""
    rng = random.Random(seed)
    wins = [0] * len(trials)
    for _ in range(draws):
        samples = [rng.betavariate(1 + x, 1 + t - x) for x, t in zip(successes, trials, strict=True)]
        wins[max(range(len(samples)), key=samples.__getitem__)] += 1
    return [w / draws for w in wins]


def sample_size_per_variant(base_rate: float, min_lift: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Contacts per variant to detect ``base_rate`` -> ``base_rate * (1 + min_lift)`` (two-sided)."""
    from statistics import NormalDist

    p1, p2 = base_rate, base_rate * (1 + min_lift)
    za = NormalDist().inv_cdf(1 - alpha / 2)
    zb = NormalDist().inv_cdf(power)
    pbar = (p1 + p2) / 2
    num = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    return math.ceil(num / (p2 - p1) ** 2)


def stratified_assignment(units: Sequence[tuple[str, Hashable]], variants: Sequence[str],
                          seed: int) -> dict[str, str]:
    """Assign units (id, stratum) to variants: shuffled within each stratum, then dealt in turn,
    so every stratum is split as evenly as possible. Deterministic for a seed."""
    rng = random.Random(seed)
    by_stratum: dict[Hashable, list[str]] = {}
    for uid, stratum in units:
        by_stratum.setdefault(stratum, []).append(uid)
    out: dict[str, str] = {}
    for stratum in sorted(by_stratum, key=repr):
        ids = sorted(by_stratum[stratum])
        rng.shuffle(ids)
        offset = rng.randrange(len(variants))  # no variant is always dealt first
        for i, uid in enumerate(ids):
            out[uid] = variants[(i + offset) % len(variants)]
    return out
