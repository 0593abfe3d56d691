"""Online estimators for pacing: binned empirical distributions and a forgetting proportion.

Everything is binned to whole seconds so that survival tables can be cached and reused between
decisions; a table is rebuilt only when enough new observations have arrived.
"""

from __future__ import annotations

import math


class Histogram:
    """An empirical distribution of durations in one-second bins (the last bin holds the tail)."""

    def __init__(self, max_seconds: int) -> None:
        self.counts = [0] * (max_seconds + 1)
        self.n = 0
        self.total = 0.0
        self._surv: list[float] | None = None
        self._built_at = 0

    def add(self, x: float) -> None:
        i = int(x) if x > 0 else 0
        if i >= len(self.counts):
            i = len(self.counts) - 1
        self.counts[i] += 1
        self.n += 1
        self.total += x

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    def stale(self, growth: float = 0.05, minimum: int = 20) -> bool:
        return self._surv is None or self.n - self._built_at >= max(minimum, growth * self._built_at)

    def survival(self) -> list[float]:
        """S[i] = P(X >= i) for i = 0..max+1 (a duration in bin i counts as lasting past i)."""
        if self._surv is None or self.stale():
            n = max(1, self.n)
            out = [0.0] * (len(self.counts) + 1)
            acc = 0
            for i in range(len(self.counts) - 1, -1, -1):
                acc += self.counts[i]
                out[i] = acc / n
            self._surv = out
            self._built_at = self.n
        return self._surv

    def quantile_bin(self, q: float) -> int:
        """The first bin by which a share ``q`` of the observations has ended."""
        need = q * self.n
        acc = 0
        for i, c in enumerate(self.counts):
            acc += c
            if acc >= need:
                return i
        return len(self.counts) - 1


class ForgettingRate:
    """A proportion estimated with exponential forgetting (effective memory ``memory`` trials)."""

    def __init__(self, prior: float, memory: float) -> None:
        self.value = prior
        self.memory = memory
        self.n = 0

    def add(self, success: bool) -> None:
        self.n += 1
        w = 1.0 / min(self.n + 1, self.memory)
        self.value += w * ((1.0 if success else 0.0) - self.value)


def expected_excess(mean: float, var: float) -> float:
    """E[(X - 0.5)^+] for an integer X approximated by a normal with this mean and variance."""
    m = mean - 0.5
    if var <= 1e-12:
        return m if m > 0 else 0.0
    s = math.sqrt(var)
    z = m / s
    return m * 0.5 * math.erfc(-z / math.sqrt(2.0)) + s * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
