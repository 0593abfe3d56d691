"""``waihu bench routing``: routing strategies compared on one scenario and the same draws.

Calls are offered at a fixed rate (no agents: the question is which line each call takes).
Each call carries its own draws (region, business, number state, answer propensity, ring and
talk times, line-loss and post-dial-delay draws per attempt), so every strategy meets the
same callees. A line-side loss is retried at once on another eligible trunk (at most
``max_line_retries`` times); busy and rejected calls are the callee's answer and never are.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from waihu.bench.routing_callerids import BenchCallerIds
from waihu.bench.routing_events import EventLog, event_report
from waihu.bench.routing_scenario import Scenario
from waihu.bench.routing_strategies import Adaptive, Oracle, RoundRobin, StaticPriority, Strategy
from waihu.domain.calls import LossCause, Side
from waihu.domain.routing import RoutingPolicy

STRATEGIES = ("round_robin", "static_priority", "adaptive", "oracle")


@dataclass(slots=True)
class Calls:
    """The draws of every offered call (common random numbers)."""

    region: list[str] = field(default_factory=list)
    business: list[str] = field(default_factory=list)
    empty: list[bool] = field(default_factory=list)
    u_answer: list[float] = field(default_factory=list)
    ring: list[float] = field(default_factory=list)
    talk: list[float] = field(default_factory=list)
    u_line: list[tuple[float, ...]] = field(default_factory=list)
    u_pdd: list[tuple[float, ...]] = field(default_factory=list)


def draw_calls(sc: Scenario) -> Calls:
    rng = random.Random(f"routing:{sc.seed}")
    n = int(sc.duration_minutes * 60 * sc.offered_cps)
    regions = list(sc.regions)
    shares = [sc.regions[r].share for r in regions]
    biz = list(sc.business_mix)
    bshares = [sc.business_mix[b] for b in biz]
    s2 = math.log1p(1.0)
    mu = math.log(sc.talk_mean_seconds) - s2 / 2
    k = sc.max_line_retries + 1
    c = Calls()
    for _ in range(n):
        r = rng.choices(regions, shares)[0]
        c.region.append(r)
        c.business.append(rng.choices(biz, bshares)[0])
        c.empty.append(rng.random() < sc.regions[r].empty_rate)
        c.u_answer.append(rng.random())
        c.ring.append(rng.gammavariate(4.0, sc.ring_mean_seconds / 4.0))
        c.talk.append(rng.lognormvariate(mu, math.sqrt(s2)))
        c.u_line.append(tuple(rng.random() for _ in range(k)))
        c.u_pdd.append(tuple(rng.random() for _ in range(k)))
    return c


def make_strategy(name: str, sc: Scenario) -> Strategy:
    policy = RoutingPolicy(value_per_answer=sc.value_per_answer, line_loss_penalty=sc.line_loss_penalty)
    if name == "round_robin":
        return RoundRobin(sc.trunks)
    if name == "static_priority":
        return StaticPriority(sc.trunks)
    if name == "oracle":
        rates = {r: m.answer_rate for r, m in sc.regions.items()}
        return Oracle(sc.trunks, sc.sim, rates, policy, sc.talk_mean_seconds)
    return Adaptive(sc.trunks, policy, sc.seed)


@dataclass(slots=True)
class Tally:
    attempts: int = 0
    answered: int = 0
    line_losses: int = 0
    retries: int = 0
    retries_held: int = 0
    cost: float = 0.0
    held: dict[str, int] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=lambda: {"capacity": 0, "cps": 0, "unregistered": 0})


def run(sc: Scenario, calls: Calls, strategy: Strategy) -> dict[str, Any]:
    trunks = {t.trunk_id: t for t in sc.trunks}
    sims = sc.sim
    in_flight = {t: 0 for t in trunks}
    dials: dict[str, deque[float]] = {t: deque() for t in trunks}
    log = EventLog(list(trunks))
    tally = Tally()
    heap: list[tuple[float, int, int, int, int, str, bool, float]] = []  # at, seq, kind, call, k, trunk, probe, dialed
    seq = 0
    LINE, ANSWER, END = 0, 1, 2
    n = len(calls.region)
    horizon = sc.duration_minutes * 60.0
    cids = BenchCallerIds(sc.caller_ids, sc.events, sc.seed)
    shown: dict[int, tuple[str | None, float]] = {}  # call -> (caller ID, answer multiplier)

    def attempt(i: int, k: int, now: float, avoid: frozenset[str]) -> None:
        nonlocal seq
        biz, region = calls.business[i], calls.region[i]
        if k == 0 and cids.enabled:
            number, mult, why = cids.pick(f"callee{i}", region, now)
            if number is None:
                tally.held[why] = tally.held.get(why, 0) + 1
                return
            shown[i] = (number, mult)
        trunk_id, probe, reason = strategy.choose(biz, region, avoid, now)
        if trunk_id is None:
            cids.release(shown.pop(i, (None, 1.0))[0])
            if k == 0:
                tally.held[reason] = tally.held.get(reason, 0) + 1
            else:
                tally.retries_held += 1
            return
        t = trunks[trunk_id]
        if not t.eligible(biz, region):
            tally.violations["unregistered"] += 1
        if in_flight[trunk_id] >= t.capacity:
            tally.violations["capacity"] += 1
        d = dials[trunk_id]
        while d and d[0] <= now - 1.0:
            d.popleft()
        d.append(now)
        if len(d) > max(1, int(t.cps)):
            tally.violations["cps"] += 1
        m = sc.regions[region]
        res = sims[trunk_id].attempt(
            now, in_flight[trunk_id], region=region, p_answer=m.answer_rate * shown.get(i, (None, 1.0))[1],
            empty=calls.empty[i],
            u_line=calls.u_line[i][k], u_pdd=calls.u_pdd[i][k], u_answer=calls.u_answer[i],
            ring=calls.ring[i], talk=calls.talk[i], no_answer_after=sc.no_answer_seconds,
            busy_rate=m.busy_rate, rejected_rate=m.rejected_rate)
        in_flight[trunk_id] += 1
        tally.attempts += 1
        tally.retries += 1 if k > 0 else 0
        log.dial(trunk_id, now, probe, in_flight[trunk_id], res.over_capacity)
        talk = calls.talk[i] if res.answer_at is not None else 0.0
        tally.cost += t.call_cost(talk)
        if res.answer_at is not None:
            tally.answered += 1
        code = 0 if res.cause is None else list(LossCause).index(res.cause) + 1
        heapq.heappush(heap, (now + res.progress_at, seq, LINE, i, k * 64 + code, trunk_id, probe, now))
        seq += 1
        if res.line_ok:
            if res.answer_at is not None:
                heapq.heappush(heap, (now + res.answer_at, seq, ANSWER, i, k, trunk_id, probe, now))
                seq += 1
            heapq.heappush(heap, (now + res.end_at, seq, END, i, k * 64 + code, trunk_id, probe, now))
            seq += 1

    causes = [None, *LossCause]
    tried: dict[int, frozenset[str]] = {}

    def deliver(at: float, kind: int, i: int, kc: int, trunk_id: str, probe: bool, dialed: float) -> None:
        k, code = divmod(kc, 64)
        cause = causes[code] if kind != ANSWER else None
        if kind == LINE:
            ok = cause is None or cause.side is not Side.LINE
            strategy.on_line(trunk_id, at, ok, cause, probe)
            if not ok:
                tally.line_losses += 1
                in_flight[trunk_id] -= 1
                strategy.release(trunk_id)
                avoid = tried.get(i, frozenset()) | {trunk_id}
                if k < sc.max_line_retries:
                    tried[i] = avoid
                    attempt(i, k + 1, at, avoid)
                else:
                    cids.release(shown.pop(i, (None, 1.0))[0])
        elif kind == ANSWER:
            strategy.on_outcome(trunk_id, calls.region[i], at, True, dialed)
            strategy.on_talk(calls.talk[i])
        else:
            if cause is not None:
                strategy.on_outcome(trunk_id, calls.region[i], at, False, dialed)
            in_flight[trunk_id] -= 1
            strategy.release(trunk_id)
            tried.pop(i, None)
            cids.release(shown.pop(i, (None, 1.0))[0])

    for i in range(n):
        t_i = i / sc.offered_cps
        while heap and heap[0][0] <= t_i:
            at, _, kind, ci, kc, tr, pr, dt = heapq.heappop(heap)
            deliver(at, kind, ci, kc, tr, pr, dt)
        attempt(i, 0, t_i, frozenset())
    while heap:
        at, _, kind, ci, kc, tr, pr, dt = heapq.heappop(heap)
        deliver(at, kind, ci, kc, tr, pr, dt)

    value = tally.answered * sc.value_per_answer - tally.cost - sc.line_loss_penalty * tally.line_losses
    out: dict[str, Any] = {
        "attempts": tally.attempts, "answered": tally.answered,
        "connect_rate": round(tally.answered / n, 5) if n else 0.0,
        "line_losses": tally.line_losses,
        "line_loss_rate": round(tally.line_losses / tally.attempts, 5) if tally.attempts else 0.0,
        "retries": tally.retries, "retries_held": tally.retries_held,
        "held_back": {"total": sum(tally.held.values()), "by_reason": dict(sorted(tally.held.items()))},
        "cost_total": round(tally.cost, 2),
        "cost_per_answer": round(tally.cost / tally.answered, 5) if tally.answered else None,
        "net_value": round(value, 2),
        "violations": {**tally.violations, "caller_id_caps": cids.over_caps},
        "events": event_report(sc, log, horizon),
    }
    if cids.enabled:
        out["caller_id_tiers"] = dict(sorted(cids.by_tier.items()))
    if isinstance(strategy, Adaptive):
        r = strategy.router
        out["transitions"] = len(r.transitions)
        out["alerts"] = [{"at_seconds": round(a.at, 1), "business": a.business, "region": a.region,
                          "reason": a.reason} for a in r.alerts][:20]
    return out


def bench(sc: Scenario, strategies: tuple[str, ...] = STRATEGIES) -> dict[str, Any]:
    calls = draw_calls(sc)
    result = {name: run(sc, calls, make_strategy(name, sc)) for name in strategies}
    scen = sc.as_dict()
    scen["calls_offered"] = len(calls.region)
    return {"scenario": scen, "strategies": result}
