"""The RATIO level search finds the highest level safe on every seed, with few runs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from waihu.bench.ratio_search import RatioSearch


def _search(bounds: dict[int, int], target: float = 0.03) -> tuple[float, int]:
    """Drive the search against seeds that abandon over the target above their boundary level."""
    search = RatioSearch(list(bounds), target)
    for _ in range(500):
        wanted = search.wanted()
        if not wanted:
            break
        for tenths, seed in wanted[:2]:  # as two workers would: a couple of runs at a time
            rate = 0.01 if tenths <= bounds[seed] else 0.05
            search.record(tenths, seed, {"seed": seed, "abandon_rate": rate})
    level, runs = search.answer()
    assert [r["seed"] for r in runs] == list(bounds)
    return level, len(search.results)


@given(st.lists(st.integers(min_value=10, max_value=60), min_size=1, max_size=6))
def test_finds_the_lowest_boundary(levels: list[int]) -> None:
    bounds = {seed: b for seed, b in enumerate(levels, 1)}
    level, _ = _search(bounds)
    assert level == min(levels) / 10


def test_needs_far_fewer_runs_than_every_seed_at_every_level() -> None:
    # five seeds whose boundaries are 1.6-1.8: a bisection running every seed at each level tried
    # needs 20 runs (levels 2.0, 1.5, 1.7, 1.6)
    level, runs = _search({1: 17, 2: 18, 3: 16, 4: 17, 5: 18})
    assert level == 1.6
    assert runs <= 11


def test_level_one_is_reported_when_nothing_higher_is_safe() -> None:
    level, _ = _search({1: 10, 2: 10})
    assert level == 1.0
