"""Property tests: whatever happens on the lines, the router never breaks a hard limit."""

from __future__ import annotations

from collections import deque

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waihu.domain.calls import LossCause
from waihu.domain.routing import Router, RouteRequest, RoutingPolicy
from waihu.domain.trunks import Thresholds, Trunk, TrunkRole

BUSINESSES = ["insurance", "care", "loans"]
REGIONS = ["浙江", "广东", "江苏", None]
CAUSES = [None, LossCause.CONGESTION, LossCause.RISK_CONTROL, LossCause.TECHNICAL, LossCause.BLACKLIST]

trunk_st = st.builds(
    lambda i, cap, cps, biz, reg, role: Trunk(
        f"T{i}", f"T{i}", capacity=cap, cps=cps, business=frozenset(biz) or frozenset({"*"}),
        regions=frozenset(reg) or frozenset({"*"}), role=role,
        thresholds=Thresholds(min_answer_rate=0.05, answer_min_sample=20)),
    st.integers(0, 10**6), st.integers(0, 6), st.sampled_from([0.5, 1.0, 2.0, 3.0]),
    st.sets(st.sampled_from(BUSINESSES), max_size=2), st.sets(st.sampled_from(REGIONS[:3]), max_size=2),
    st.sampled_from(list(TrunkRole)))

step_st = st.tuples(
    st.floats(0.0, 0.7),  # time step
    st.sampled_from(BUSINESSES), st.sampled_from(REGIONS),
    st.integers(0, 3),  # how many open calls get their line result / end
    st.sampled_from(CAUSES), st.booleans(), st.booleans())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trunks=st.lists(trunk_st, min_size=1, max_size=4, unique_by=lambda t: t.trunk_id),
       steps=st.lists(step_st, max_size=150), seed=st.integers(0, 5))
def test_never_over_capacity_or_cps_never_unregistered(trunks: list[Trunk], steps: list, seed: int) -> None:  # type: ignore[type-arg]
    r = Router(trunks, RoutingPolicy(explore=0.2), seed=seed)
    by_id = {t.trunk_id: t for t in trunks}
    open_calls: deque[tuple[str, bool, bool]] = deque()  # trunk, probe, line result known
    in_flight = dict.fromkeys(by_id, 0)
    dials: dict[str, deque[float]] = {t: deque() for t in by_id}
    now = 0.0
    for dt, biz, region, settle, cause, answered, use_avoid in steps:
        now += dt
        avoid = frozenset(list(by_id)[:1]) if use_avoid else frozenset()
        d = r.route(RouteRequest(biz, region, avoid), now)
        if d.trunk_id is not None:
            t = by_id[d.trunk_id]
            assert t.eligible(biz, region), "only trunks registered for the business and region"
            assert d.trunk_id not in avoid
            in_flight[d.trunk_id] += 1
            assert in_flight[d.trunk_id] <= t.capacity
            q = dials[d.trunk_id]
            q.append(now)
            while q and q[0] <= now - 1.0:
                q.popleft()
            assert len(q) <= max(1, int(t.cps))
            open_calls.append((d.trunk_id, d.probe, False))
        else:
            assert d.reason.startswith("no_line.")
        for _ in range(min(settle, len(open_calls))):
            tid, probe, _known = open_calls.popleft()
            ok = cause is None
            r.on_line(tid, now, ok=ok, cause=cause, probe=probe)
            if ok:
                r.on_outcome(tid, region, now, answered=answered, dialed_at=now - 1.0)
            r.release(tid)
            in_flight[tid] -= 1
        for tid, tl in r.live.items():
            assert tl.in_flight == in_flight[tid], "the router's count matches the calls on the line"
