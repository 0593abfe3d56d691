"""The hindsight search for VICIdial's RATIO dial level, one simulated run at a time.

The level reported is the highest on a 0.1 grid whose every seed keeps abandon at or under the
target. Abandons grow with the level, so each seed has a boundary level and the answer is the
lowest of them. Rather than running every seed at every level tried, the search bisects one
seed's boundary, checks the other seeds at that level, and searches again below it with a seed
that failed there, if any (a step down first: seeds' boundaries are usually close). Levels are
in tenths; level 1.0 never over-dials, so it is assumed safe (and reported as it is if even it
fails).
"""

from __future__ import annotations

from typing import Any

Run = dict[str, Any]


class RatioSearch:
    def __init__(self, seeds: list[int], target: float, *, first: int = 20, top: int = 400) -> None:
        self.seeds = seeds
        self.target = target
        self.first = first  # the first level probed above 1.0 (doubled while safe)
        self.top = top  # the doubling stops here
        self.results: dict[tuple[int, int], Run] = {}

    def record(self, tenths: int, seed: int, run: Run) -> None:
        self.results[(tenths, seed)] = run

    def _ok(self, tenths: int, seed: int) -> bool:
        return bool(self.results[(tenths, seed)]["abandon_rate"] <= self.target + 1e-12)

    def _failing(self) -> tuple[int, int] | None:
        """(the lowest level known to fail for some seed, that seed)."""
        bad = [(t, s) for (t, s) in self.results if not self._ok(t, s)]
        return min(bad, key=lambda ts: (ts[0], self.seeds.index(ts[1]))) if bad else None

    def _safe_below(self, seed: int, limit: int | None) -> int:
        """The highest level known safe for ``seed`` (below ``limit``), 1.0 if none."""
        levels = [t for (t, s) in self.results if s == seed and (limit is None or t < limit) and self._ok(t, s)]
        return max(levels, default=10)

    def _candidate(self) -> tuple[int, list[tuple[int, int]]]:
        """The level to confirm on every seed, or the single run that narrows the bracket."""
        failing = self._failing()
        if failing is None:  # no level fails yet: double the first seed's level
            probe = self.seeds[0]
            lo = self._safe_below(probe, None)
            if lo >= self.top:
                return lo, []
            nxt = self.first if lo < self.first else lo * 2
            return -1, [(nxt, probe)]
        hi, probe = failing
        if hi <= 10:
            return 10, []
        lo = self._safe_below(probe, hi)
        if hi - lo > 1:
            fails = sum(1 for (t, s) in self.results if s == probe and not self._ok(t, s))
            if probe != self.seeds[0] and fails <= 2:
                # another seed failing where the first one passed: its boundary is usually just below
                return -1, [(hi - 1, probe)]
            return -1, [((lo + hi) // 2, probe)]
        return lo, []

    def wanted(self) -> list[tuple[int, int]]:
        """The runs (tenths, seed) the search needs next; empty once it is done."""
        level, runs = self._candidate()
        if runs:
            return runs
        return [(level, s) for s in self.seeds if (level, s) not in self.results]

    def answer(self) -> tuple[float, list[Run]]:
        """The level found and its runs, one per seed (call when ``wanted()`` is empty)."""
        level, runs = self._candidate()
        assert not runs
        return level / 10, [self.results[(level, s)] for s in self.seeds]
