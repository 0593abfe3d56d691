"""Adaptive trunk routing: for each call, the line with the best expected net value.

The objective is net value: ``answers x value - cost - penalty x line losses``. For every
call the router keeps the trunks registered for the campaign's business that cover the
callee's region, not ejected, under their capacity (as learnt from congestion) and under their
calls-per-second limit, and scores each one::

    score = (1 - L) * p * (value - cost_per_minute * billed_minutes) - cost_per_attempt - L * penalty

where ``p`` is the learnt answer rate of that trunk in that region (time-decayed counts with a
pooled regional prior) and ``L`` the learnt line-loss rate of the trunk. Primary trunks are
used while one of them can take the call; backup and temporary trunks only when none can.
A small share of calls explores the other candidates so that a trunk's recovery is seen.
Ejected trunks cool down, then get probe calls (the circuit breaker in ``trunk_health``).
Every decision carries its reason.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field

from waihu.domain.calls import LossCause
from waihu.domain.trunk_health import Breaker, Decayed, Drift, Tracked
from waihu.domain.trunks import Trunk, TrunkHealth


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    value_per_answer: float = 1.0
    line_loss_penalty: float = 0.2
    tau_seconds: float = 900.0  # long memory of the answer-rate estimates
    change_window: int = 100  # recent calls compared with the long memory to detect a change
    drift_min_weight: float = 100.0  # trunk-wide drift is tested against established estimates
    drift_weight: float = 40.0  # weight of the rescaled estimates after a drift
    settle_seconds: float = 35.0  # outcomes are learnt in dial order after this (>= ring timeout)
    prior_weight: float = 10.0
    explore: float = 0.01  # share of calls sent to a candidate other than the best
    talk_mean_prior: float = 90.0


@dataclass(frozen=True, slots=True)
class RouteRequest:
    business: str
    region: str | None
    avoid: frozenset[str] = frozenset()  # trunks already tried in this retry chain


@dataclass(frozen=True, slots=True)
class RouteDecision:
    trunk_id: str | None
    reason: str  # best_value | explore | probe | fallback_standby | no_line.<why>
    probe: bool = False
    score: float | None = None
    candidates: tuple[str, ...] = ()

    def why(self) -> dict[str, object]:
        return {"trunk": self.trunk_id, "reason": self.reason, "probe": self.probe,
                "score": None if self.score is None else round(self.score, 4),
                "candidates": list(self.candidates)}


@dataclass(frozen=True, slots=True)
class Alert:
    at: float
    business: str
    region: str | None
    reason: str


@dataclass(slots=True)
class TrunkLive:
    trunk: Trunk
    breaker: Breaker
    in_flight: int = 0
    usable: float = 0.0  # learnt concurrency limit (<= capacity)
    dials: deque[float] = field(default_factory=deque)  # dial times within the last second
    loss: Decayed = field(default_factory=lambda: Decayed(60.0))
    drift: Drift = field(default_factory=Drift)


class Router:
    def __init__(self, trunks: list[Trunk], policy: RoutingPolicy | None = None, *, seed: int = 0) -> None:
        self.policy = policy or RoutingPolicy()
        self.rng = random.Random(f"router:{seed}")
        self.live: dict[str, TrunkLive] = {}
        self.set_trunks(trunks)
        self.answer: dict[tuple[str, str | None], Tracked] = {}
        self.region_answer: dict[str | None, Decayed] = {}
        self.talk_mean = self.policy.talk_mean_prior
        self.alerts: list[Alert] = []
        self.transitions: list[tuple[float, str, str, str]] = []  # (at, trunk, event, reason)
        self._no_line: set[tuple[str, str | None]] = set()
        self._pending: list[tuple[float, int, str, str | None, bool]] = []
        self._seq = 0

    def set_trunks(self, trunks: list[Trunk]) -> None:
        """Route the next calls over these trunks (e.g. one was added, enabled or disabled).

        A trunk that stays keeps what was learnt of it (health, loss rate, usable concurrency,
        calls in flight) under its new settings; a trunk that left is forgotten (its calls in
        flight end without feedback); a new one starts fresh."""
        old = self.live
        self.live = {}
        for t in sorted(trunks, key=lambda t: (-t.priority, t.trunk_id)):
            t.validate()
            tl = old.get(t.trunk_id)
            if tl is None:
                tl = TrunkLive(t, Breaker(t), usable=float(t.capacity))
            elif tl.trunk != t:
                if tl.trunk.capacity != t.capacity:
                    tl.usable = float(t.capacity)
                tl.trunk = tl.breaker.trunk = t
            self.live[t.trunk_id] = tl

    # ------------------------------------------------------------------ limits
    def _room(self, tl: TrunkLive, now: float) -> bool:
        if tl.in_flight >= min(tl.trunk.capacity, int(tl.usable)):
            return False
        d = tl.dials
        while d and d[0] <= now - 1.0:
            d.popleft()
        return len(d) < max(1, int(tl.trunk.cps))

    def _tick(self, tl: TrunkLive, now: float) -> None:
        ev = tl.breaker.tick(now)
        if ev is not None:
            self.transitions.append((now, tl.trunk.trunk_id, ev, tl.breaker.last_reason))

    # ------------------------------------------------------------------ scoring
    def p_answer(self, trunk_id: str, region: str | None, now: float) -> float:
        pol = self.policy
        reg = self.region_answer.get(region)
        prior = reg.rate(now, 0.3, 1.0) if reg is not None else 0.3
        est = self.answer.get((trunk_id, region))
        return est.rate(now, prior, pol.prior_weight) if est is not None else prior

    def score(self, tl: TrunkLive, region: str | None, now: float) -> float:
        pol, t = self.policy, tl.trunk
        p = self.p_answer(t.trunk_id, region, now)
        loss = tl.loss.rate(now, 0.02, 20.0)
        billed = self.talk_mean + (t.billing_increment / 2.0 if t.billing_increment > 1 else 0.0)
        margin = pol.value_per_answer - t.cost_per_minute * billed / 60.0
        return (1 - loss) * p * margin - t.cost_per_attempt - loss * pol.line_loss_penalty

    # ------------------------------------------------------------------ decisions
    def route(self, req: RouteRequest, now: float) -> RouteDecision:
        """Choose a trunk for one call and count it as dialed (in flight) on that trunk."""
        registered = [tl for tl in self.live.values()
                      if tl.trunk.eligible(req.business, req.region)
                      and tl.trunk.trunk_id not in req.avoid]
        if not registered:
            return self._hold(req, now, "no_line.not_registered", ())
        for tl in registered:
            self._tick(tl, now)
        for tl in registered:  # probes first: a probing trunk is readmitted quickly
            if tl.breaker.can_probe() and self._room(tl, now):
                tl.breaker.probes_in_flight += 1
                return self._take(tl, req, now, RouteDecision(tl.trunk.trunk_id, "probe", True))
        healthy = [tl for tl in registered if tl.breaker.state is TrunkHealth.ENABLED]
        open_ = [tl for tl in healthy if self._room(tl, now)]
        tier = [tl for tl in open_ if not tl.trunk.standby]
        reason = "best_value"
        if not tier:
            tier = open_
            reason = "fallback_standby"
        if not tier:
            why = "no_line.all_full" if healthy else "no_line.all_ejected"
            return self._hold(req, now, why, tuple(tl.trunk.trunk_id for tl in registered))
        scored = sorted(((self.score(tl, req.region, now), i, tl) for i, tl in enumerate(tier)),
                        key=lambda x: (-x[0], x[1]))
        best_score, _, best = scored[0]
        if len(scored) > 1 and self.rng.random() < self.policy.explore:
            best_score, _, best = scored[self.rng.randrange(1, len(scored))]
            reason = "explore"
        names = tuple(tl.trunk.trunk_id for _, _, tl in scored)
        return self._take(best, req, now, RouteDecision(best.trunk.trunk_id, reason, False, best_score, names))

    def _take(self, tl: TrunkLive, req: RouteRequest, now: float, dec: RouteDecision) -> RouteDecision:
        tl.in_flight += 1
        tl.dials.append(now)
        self._no_line.discard((req.business, req.region))
        return dec

    def _hold(self, req: RouteRequest, now: float, why: str, names: tuple[str, ...]) -> RouteDecision:
        key = (req.business, req.region)
        if why != "no_line.all_full" and not req.avoid and key not in self._no_line:
            self._no_line.add(key)
            self.alerts.append(Alert(now, req.business, req.region, why))
        return RouteDecision(None, why, candidates=names)

    # ------------------------------------------------------------------ feedback
    def on_line(self, trunk_id: str, now: float, *, ok: bool, cause: LossCause | None = None,
                probe: bool = False) -> None:
        """The call rang or was answered (``ok``), or the line lost it (``cause``)."""
        tl = self.live.get(trunk_id)
        if tl is None:
            return
        tl.loss.add(not ok, now)
        ev = tl.breaker.on_line(ok, cause, now, probe, alone=tl.in_flight <= 1)
        if ev is not None:
            self.transitions.append((now, trunk_id, ev, tl.breaker.last_reason))
        if ok:
            tl.usable = min(float(tl.trunk.capacity), tl.usable + 0.2)
        elif cause is LossCause.CONGESTION and tl.breaker.congested():
            tl.usable = max(1.0, min(tl.usable, tl.in_flight * 0.9))
            self.transitions.append((now, trunk_id, "throttle", f"usable_concurrency:{int(tl.usable)}"))

    def on_signal(self, trunk_id: str, up: bool, now: float) -> None:
        """The trunk's own health signal (SIP OPTIONS) went down or up (see ``Breaker.signal``)."""
        tl = self.live.get(trunk_id)
        if tl is None:
            return
        ev = tl.breaker.signal(up, now)
        if ev is not None:
            self.transitions.append((now, trunk_id, ev, tl.breaker.last_reason))

    def on_outcome(self, trunk_id: str, region: str | None, now: float, *, answered: bool,
                   dialed_at: float | None = None) -> None:
        """The callee's outcome of a call the line carried (answered or not).

        With ``dialed_at``, outcomes are learnt in dial order once every call dialed at that
        time has settled (answers come back sooner than no-answers: learning them as they come
        would see false swings whenever a trunk's traffic rate changes).
        """
        if dialed_at is None:
            self._learn(trunk_id, region, now, answered)
            return
        heapq.heappush(self._pending, (dialed_at, self._seq, trunk_id, region, answered))
        self._seq += 1
        self.settle(now)

    def settle(self, now: float) -> None:
        q, limit = self._pending, now - self.policy.settle_seconds
        while q and q[0][0] <= limit:
            _, _, trunk_id, region, answered = heapq.heappop(q)
            self._learn(trunk_id, region, now, answered)

    def _learn(self, trunk_id: str, region: str | None, now: float, answered: bool) -> None:
        tl = self.live.get(trunk_id)
        if tl is None:
            return
        key = (trunk_id, region)
        est = self.answer.get(key)
        if est is None:
            est = self.answer[key] = Tracked.make(self.policy.tau_seconds, self.policy.change_window)
        ratio = None
        if est.long.weight(now) >= self.policy.drift_min_weight:
            ratio = tl.drift.add(answered, self.p_answer(trunk_id, region, now))
        est.add(answered, now)
        if ratio is not None:
            self._rescale(trunk_id, ratio, now)
        reg = self.region_answer.get(region)
        if reg is None:
            reg = self.region_answer[region] = Decayed(self.policy.tau_seconds)
        reg.add(answered, now)
        ev = tl.breaker.on_outcome(answered, now)
        if ev is not None:
            self.transitions.append((now, trunk_id, ev, tl.breaker.last_reason))

    def _rescale(self, trunk_id: str, ratio: float, now: float) -> None:
        """The trunk's answer quality changed by ``ratio``: scale its estimates, with little weight."""
        live = self.live[trunk_id]
        w = max(self.policy.drift_weight, live.drift.evidence)
        for (t, _region), est in self.answer.items():
            if t == trunk_id:
                p = min(0.99, est.rate(now, 0.3, 0.0 if est.long.n > 0 else 1.0) * ratio)
                est.long = Decayed(est.long.tau, p * w, w, now)
                est.recent.clear()
                est.hits = 0
        self.transitions.append((now, trunk_id, "answer_rate_change", f"factor:{ratio:.2f}"))

    def on_talk(self, talk_seconds: float) -> None:
        self.talk_mean += (talk_seconds - self.talk_mean) * 0.01

    def release(self, trunk_id: str) -> None:
        tl = self.live.get(trunk_id)
        if tl is not None:
            tl.in_flight = max(0, tl.in_flight - 1)

    def health(self, trunk_id: str) -> TrunkHealth:
        return self.live[trunk_id].breaker.state
