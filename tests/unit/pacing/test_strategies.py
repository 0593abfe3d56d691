"""Table-driven tests of each pacing strategy on hand-built snapshots and observations."""

from __future__ import annotations

import random

import pytest

from tests.unit.pacing.helpers import snapshot
from waihu.domain.pacers import make_pacer
from waihu.domain.pacing import Observation, ObservationKind, PowerPacer
from waihu.domain.predictive import PredictivePacer
from waihu.domain.vicidial import VicidialAdaptivePacer, VicidialRatioPacer

K = ObservationKind


@pytest.mark.parametrize(("ratio", "kw", "calls"), [
    (2.0, {"ready": 3}, 6),
    (2.0, {"ready": 3, "ringing": (1.0, 2.0)}, 4),
    (2.0, {"ready": 3, "ringing": (1.0,), "waiting": 1}, 4),
    (1.5, {"ready": 3}, 4),
    (2.0, {"ready": 0, "talking": (10.0,)}, 0),
    (2.0, {"ready": 3, "max_lines": 4}, 3),  # one of the four lines is in use below
    (2.0, {"ready": 3, "target": 0.0}, 3),  # a 0% target: one line per ready agent, nothing risked
    (2.0, {"ready": 3, "answered": 100, "abandoned": 3}, 6),  # 3 < 3% x 100 + 1: not over the target yet
    (2.0, {"ready": 3, "answered": 100, "abandoned": 4}, 3),  # 4 >= 3 + 1: the guard holds
    (2.0, {"ready": 3, "answered": 200, "abandoned": 4}, 6),  # enough answers since: the ratio again
])
def test_power(ratio: float, kw: dict[str, object], calls: int) -> None:
    snap = snapshot(**kw)  # type: ignore[arg-type]
    if snap.max_lines is not None:
        snap.lines_in_use = 1
    assert PowerPacer(ratio).decide(snap).calls == calls


@pytest.mark.parametrize(("level", "kw", "calls"), [
    (1.0, {"ready": 3}, 3),  # level 1: one call per active agent, progressive without reservation
    (1.0, {"ready": 3, "talking": (5.0, 9.0)}, 3),  # talking agents hold their own calls
    (2.0, {"ready": 2, "talking": (5.0, 9.0)}, 6),  # 2 x 4 agents - 2 live calls
    (2.0, {"ready": 2, "talking": (5.0, 9.0), "ringing": (1.0, 2.0, 3.0)}, 3),
    (2.0, {"ready": 0, "talking": (5.0,), "ringing": (1.0,), "waiting": 1}, 0),
    (2.0, {"ready": 2, "breaks": 5}, 4),  # agents on break are not active
    (3.0, {"ready": 4, "max_lines": 5}, 5),
])
def test_vicidial_ratio(level: float, kw: dict[str, object], calls: int) -> None:
    assert VicidialRatioPacer(level).decide(snapshot(**kw)).calls == calls  # type: ignore[arg-type]


def test_vicidial_ratio_refuses_levels_below_one() -> None:
    with pytest.raises(ValueError):
        VicidialRatioPacer(0.5)


def test_vicidial_adaptive_raises_the_level_while_agents_wait() -> None:
    p = VicidialAdaptivePacer()
    for t in range(0, 16):
        p.decide(snapshot(now=1000.0 + t, ready=5, talking=(30.0,) * 5))
    # 15 s of samples with 5 of 10 agents ready: level x (1 + 5/10)
    assert p.level == pytest.approx(1.5)
    for t in range(16, 200):
        p.decide(snapshot(now=1000.0 + t, ready=10))
    assert p.level == pytest.approx(3.0)  # adaptive_maximum_level


def test_vicidial_adaptive_lowers_the_level_on_waiting_calls_and_drops() -> None:
    p = VicidialAdaptivePacer(start_level=2.0)
    for t in range(0, 16):
        p.decide(snapshot(now=1000.0 + t, ready=0, talking=(30.0,) * 10, waiting=2))
    assert p.level == pytest.approx(2.0 * (1 - 2 / 10))
    q = VicidialAdaptivePacer(start_level=2.8)
    for t in range(0, 16):  # drops over 3% of answers today, more than 50 calls: the level is halved
        q.decide(snapshot(now=1000.0 + t, talking=(30.0,) * 10, answered=100, abandoned=10))
    assert q.level == pytest.approx(1.4)


def test_vicidial_adaptive_never_overdials_at_zero_target() -> None:
    p = VicidialAdaptivePacer(start_level=3.0)
    assert p.decide(snapshot(ready=2, talking=(10.0,) * 3, target=0.0)).calls == 2


def _warm(p: PredictivePacer, *, seed: int = 1, n: int = 400) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        if rng.random() < 0.25:
            p.observe(Observation(K.ANSWERED, 0.0, rng.gammavariate(4, 2.0)))
            p.observe(Observation(K.TALK_ENDED, 0.0, rng.lognormvariate(4.44, 0.83)))
            p.observe(Observation(K.WRAP_ENDED, 0.0, rng.gammavariate(2, 7.5)))
        else:
            p.observe(Observation(K.UNANSWERED, 0.0, 25.0))


@pytest.mark.parametrize(("kw", "calls"), [
    ({"ready": 3}, 3),
    ({"ready": 3, "ringing": (2.0,)}, 2),
    ({"ready": 1, "ringing": (2.0, 3.0)}, 0),
    ({"ready": 0, "talking": (100.0,) * 9}, 0),
])
def test_predictive_is_safe_before_it_has_observed_enough(kw: dict[str, object], calls: int) -> None:
    assert PredictivePacer().decide(snapshot(**kw)).calls == calls  # type: ignore[arg-type]


@pytest.mark.parametrize("kw", [
    {"ready": 3}, {"ready": 3, "ringing": (2.0,)}, {"ready": 0, "talking": (100.0,) * 9, "wrapping": (14.0,)},
])
def test_predictive_at_zero_target_keeps_no_more_calls_than_ready_agents(kw: dict[str, object]) -> None:
    p = PredictivePacer()
    _warm(p)
    snap = snapshot(target=0.0, **kw)  # type: ignore[arg-type]
    d = p.decide(snap)
    assert d.calls + len(snap.ringing_since) + snap.waiting <= max(snap.ready, len(snap.ringing_since))


def test_predictive_dials_ahead_of_agents_about_to_be_free() -> None:
    p = PredictivePacer()
    _warm(p)
    # ten agents wrapping up for 20 s (most wrap-ups are shorter): their release is near
    near = p.decide(snapshot(ready=0, wrapping=(20.0,) * 10)).calls
    p2 = PredictivePacer()
    _warm(p2)
    # ten agents who just started talking: nobody will be free within half a minute
    far = p2.decide(snapshot(ready=0, talking=(1.0,) * 10)).calls
    assert near > 10 and far < near


def test_predictive_explains_its_decision() -> None:
    p = PredictivePacer()
    _warm(p)
    d = p.decide(snapshot(ready=2, talking=(50.0, 80.0), ringing=(3.0,)))
    for key in ("ready", "ringing", "talking", "p_answer", "expected_answers", "expected_freed", "tau",
                "target_eff", "slack", "marginal_risk"):
        assert key in d.inputs
    assert 0.2 < d.inputs["p_answer"] < 0.3


def test_predictive_tightens_after_abandons() -> None:
    loose, tight = PredictivePacer(), PredictivePacer()
    _warm(loose)
    _warm(tight)
    snap = dict(ready=0, talking=(60.0, 90.0, 150.0, 200.0) * 5, wrapping=(5.0,) * 5)
    n_loose = loose.decide(snapshot(answered=1000, abandoned=10, **snap)).calls  # type: ignore[arg-type]
    n_tight = tight.decide(snapshot(answered=1000, abandoned=60, **snap)).calls  # type: ignore[arg-type]
    assert n_tight < n_loose


@pytest.mark.parametrize("name", ["power", "vicidial_ratio", "vicidial_adaptive", "predictive"])
def test_make_pacer(name: str) -> None:
    assert make_pacer(name).name == name


def test_make_pacer_unknown() -> None:
    with pytest.raises(ValueError):
        make_pacer("progressive")


@pytest.mark.parametrize(("ringing", "max_lines", "cancel"), [
    ((20.0, 18.0, 3.0, 2.0), 4, 2),  # a full trunk: the two calls past 15 s of ringing make room
    ((14.0, 13.0, 3.0, 2.0), 4, 0),  # none has rung 15 s: nothing is hung up
    ((20.0, 18.0, 3.0, 2.0), None, 0),  # no line limit: nothing is hung up
])
def test_predictive_recycles_lines_only_on_a_full_trunk(ringing: tuple[float, ...], max_lines: int | None,
                                                        cancel: int) -> None:
    p = PredictivePacer()
    _warm(p)
    snap = snapshot(ready=8, ringing=ringing, max_lines=max_lines)
    if max_lines is not None:
        snap.lines_in_use = max_lines
    d = p.decide(snap)
    assert d.cancel == cancel
    assert d.calls >= d.cancel
    if max_lines is not None:
        assert d.calls - d.cancel <= max_lines - snap.lines_in_use
