"""Properties every pacing strategy keeps, on random snapshots."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.pacing.helpers import snapshot
from waihu.domain.pacers import PACER_NAMES, make_pacer
from waihu.domain.pacing import Observation, ObservationKind, Pacer

durations = st.lists(st.floats(min_value=0.0, max_value=900.0), max_size=30).map(tuple)
ages = st.lists(st.floats(min_value=0.0, max_value=39.0), max_size=60).map(tuple)


def _warmed(name: str, seed: int) -> Pacer:
    p = make_pacer(name)
    rng = random.Random(seed)
    for _ in range(300):
        if rng.random() < 0.3:
            p.observe(Observation(ObservationKind.ANSWERED, 0.0, rng.uniform(1, 20)))
            p.observe(Observation(ObservationKind.TALK_ENDED, 0.0, rng.expovariate(1 / 120)))
            p.observe(Observation(ObservationKind.WRAP_ENDED, 0.0, rng.uniform(1, 30)))
        else:
            p.observe(Observation(ObservationKind.UNANSWERED, 0.0, rng.uniform(1, 30)))
    return p


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(PACER_NAMES), seed=st.integers(0, 5), ready=st.integers(0, 30), talking=durations,
       wrapping=durations, ringing=ages, waiting=st.integers(0, 5), max_lines=st.none() | st.integers(0, 80),
       extra_used=st.integers(0, 20), target=st.sampled_from([0.0, 0.01, 0.03, 0.1]),
       answered=st.integers(0, 5000), abandoned=st.integers(0, 300))
def test_never_beyond_the_line_limit(name: str, seed: int, ready: int, talking: tuple[float, ...],
                                     wrapping: tuple[float, ...], ringing: tuple[float, ...], waiting: int,
                                     max_lines: int | None, extra_used: int, target: float, answered: int,
                                     abandoned: int) -> None:
    snap = snapshot(ready=ready, talking=talking, wrapping=wrapping, ringing=ringing, waiting=waiting,
                    max_lines=max_lines, target=target, answered=answered, abandoned=min(abandoned, answered))
    snap.lines_in_use += extra_used
    d = _warmed(name, seed).decide(snap)
    assert d.calls >= 0 and 0 <= d.cancel <= len(ringing)
    if max_lines is not None:
        # lines freed by hanging up ringing calls may be reused, never more
        assert d.calls <= max(0, max_lines - snap.lines_in_use) + d.cancel
    else:
        assert d.cancel == 0
    if target == 0.0 and name in ("predictive", "vicidial_adaptive", "power"):
        assert d.calls <= max(0, ready - len(ringing) - waiting)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(PACER_NAMES), seed=st.integers(0, 5), ringing=ages, waiting=st.integers(0, 5))
def test_no_dial_without_agents(name: str, seed: int, ringing: tuple[float, ...], waiting: int) -> None:
    snap = snapshot(ringing=ringing, waiting=waiting)
    assert _warmed(name, seed).decide(snap).calls == 0
