"""The routing strategies the benchmark compares on the same draws.

``adaptive`` is the production router (``waihu.domain.routing.Router``), unchanged. The others
are references: ``round_robin`` and ``static_priority`` (what most platforms do), and
``oracle``, which knows every trunk's true state at every moment and decides call by call.
All of them respect the configured capacity and calls-per-second limits, the business
registration and the primary-before-standby rule, and all retry line-side losses.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from waihu.adapters.simnet.trunks import SimTrunk
from waihu.domain.calls import LossCause
from waihu.domain.routing import Router, RouteRequest, RoutingPolicy
from waihu.domain.trunks import Trunk

Choice = tuple[str | None, bool, str]  # trunk, probe, reason


class Strategy(Protocol):
    name: str

    def choose(self, business: str, region: str, avoid: frozenset[str], now: float) -> Choice: ...

    def on_line(self, trunk: str, now: float, ok: bool, cause: LossCause | None, probe: bool) -> None: ...

    def on_outcome(self, trunk: str, region: str, now: float, answered: bool, dialed_at: float) -> None: ...

    def on_talk(self, talk: float) -> None: ...

    def release(self, trunk: str) -> None: ...


class Limited:
    """Configured capacity and cps bookkeeping for the reference strategies."""

    name = "limited"

    def __init__(self, trunks: list[Trunk]) -> None:
        self.trunks = trunks
        self.in_flight = {t.trunk_id: 0 for t in trunks}
        self.dials: dict[str, deque[float]] = {t.trunk_id: deque() for t in trunks}

    def room(self, t: Trunk, now: float, cap: int | None = None) -> bool:
        limit = t.capacity if cap is None else min(cap, t.capacity)
        if self.in_flight[t.trunk_id] >= limit:
            return False
        d = self.dials[t.trunk_id]
        while d and d[0] <= now - 1.0:
            d.popleft()
        return len(d) < max(1, int(t.cps))

    def take(self, t: Trunk, now: float, reason: str) -> Choice:
        self.in_flight[t.trunk_id] += 1
        self.dials[t.trunk_id].append(now)
        return t.trunk_id, False, reason

    def registered(self, business: str, region: str, avoid: frozenset[str]) -> list[Trunk]:
        return [t for t in self.trunks if t.eligible(business, region) and t.trunk_id not in avoid]

    def on_line(self, trunk: str, now: float, ok: bool, cause: LossCause | None, probe: bool) -> None:
        return None

    def on_outcome(self, trunk: str, region: str, now: float, answered: bool, dialed_at: float) -> None:
        return None

    def on_talk(self, talk: float) -> None:
        return None

    def release(self, trunk: str) -> None:
        self.in_flight[trunk] -= 1


class RoundRobin(Limited):
    name = "round_robin"

    def __init__(self, trunks: list[Trunk]) -> None:
        super().__init__(trunks)
        self.turn = 0

    def choose(self, business: str, region: str, avoid: frozenset[str], now: float) -> Choice:
        reg = self.registered(business, region, avoid)
        if not reg:
            return None, False, "no_line.not_registered"
        for tier, reason in (([t for t in reg if not t.standby], "round_robin"),
                             ([t for t in reg if t.standby], "fallback_standby")):
            n = len(tier)
            for k in range(n):
                t = tier[(self.turn + k) % n]
                if self.room(t, now):
                    self.turn += 1
                    return self.take(t, now, reason)
        return None, False, "no_line.all_full"


class StaticPriority(Limited):
    name = "static_priority"

    def __init__(self, trunks: list[Trunk]) -> None:
        super().__init__(sorted(trunks, key=lambda t: (t.standby, -t.priority)))

    def choose(self, business: str, region: str, avoid: frozenset[str], now: float) -> Choice:
        reg = self.registered(business, region, avoid)
        if not reg:
            return None, False, "no_line.not_registered"
        for t in reg:
            if self.room(t, now):
                return self.take(t, now, "fallback_standby" if t.standby else "priority")
        return None, False, "no_line.all_full"


class Oracle(Limited):
    name = "oracle"

    def __init__(self, trunks: list[Trunk], sims: dict[str, SimTrunk], answer_rates: dict[str, float],
                 policy: RoutingPolicy, talk_mean: float) -> None:
        super().__init__(trunks)
        self.sims = sims
        self.answer_rates = answer_rates
        self.policy = policy
        self.talk_mean = talk_mean

    def _score(self, t: Trunk, region: str, now: float) -> tuple[bool, float]:
        truth = self.sims[t.trunk_id].truth(now)
        p = self.answer_rates[region] * self.sims[t.trunk_id].factor(region) * truth.answer_multiplier
        loss = truth.line_loss
        healthy = not truth.failed and loss < t.thresholds.line_loss
        billed = self.talk_mean + (t.billing_increment / 2.0 if t.billing_increment > 1 else 0.0)
        margin = self.policy.value_per_answer - t.cost_per_minute * billed / 60.0
        score = (1 - loss) * p * margin - t.cost_per_attempt - loss * self.policy.line_loss_penalty
        return healthy, score

    def choose(self, business: str, region: str, avoid: frozenset[str], now: float) -> Choice:
        reg = self.registered(business, region, avoid)
        if not reg:
            return None, False, "no_line.not_registered"
        scored = [(t, *self._score(t, region, now)) for t in reg]
        healthy = [(t, s) for t, ok, s in scored if ok]
        if not healthy:
            return None, False, "no_line.all_ejected"
        for standby in (False, True):
            best: tuple[Trunk, float] | None = None
            for t, s in healthy:
                if (t.standby is standby and (best is None or s > best[1])
                        and self.room(t, now, self.sims[t.trunk_id].truth(now).capacity)):
                    best = (t, s)
            if best is not None:
                return self.take(best[0], now, "fallback_standby" if standby else "best_value")
        return None, False, "no_line.all_full"


class Adaptive:
    """The production router, driven by the benchmark's events."""

    name = "adaptive"

    def __init__(self, trunks: list[Trunk], policy: RoutingPolicy, seed: int) -> None:
        self.router = Router(trunks, policy, seed=seed)

    def choose(self, business: str, region: str, avoid: frozenset[str], now: float) -> Choice:
        d = self.router.route(RouteRequest(business, region, avoid), now)
        return d.trunk_id, d.probe, d.reason

    def on_line(self, trunk: str, now: float, ok: bool, cause: LossCause | None, probe: bool) -> None:
        self.router.on_line(trunk, now, ok=ok, cause=cause, probe=probe)

    def on_outcome(self, trunk: str, region: str, now: float, answered: bool, dialed_at: float) -> None:
        self.router.on_outcome(trunk, region, now, answered=answered, dialed_at=dialed_at)

    def on_talk(self, talk: float) -> None:
        self.router.on_talk(talk)

    def release(self, trunk: str) -> None:
        self.router.release(trunk)
