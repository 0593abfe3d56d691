"""``waihu bench pacing``: every pacing strategy on the same simulated callees and agents.

Each (strategy, seed) run drives the real engine and runtime over the simulated network on a
virtual clock: a warm-up, then the measured shift. Strategies compared on one seed see the same
callees (common random numbers). Runs are spread over processes; the hindsight search for
VICIdial's RATIO level (``waihu.bench.ratio_search``) runs alongside the other strategies.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any

from waihu.adapters.memory import MemoryStore
from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.bench.ratio_search import RatioSearch
from waihu.domain.calls import LossCause
from waihu.domain.campaigns import DialMode, Disposition, RetryPolicy
from waihu.domain.messages import AgentLoggedIn, CallFailed, CampaignActivated, Command, Dial, WriteCdr
from waihu.domain.metrics import abandon_rate, talk_occupancy
from waihu.domain.pacers import make_pacer
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.runtime import DialerRuntime

STRATEGIES = ("progressive", "power", "vicidial_ratio", "vicidial_adaptive", "predictive")
START = 1_700_000_000.0
CAMPAIGN = "bench"


@dataclass(frozen=True)
class Scenario:
    agents: int = 50
    answer_rate: float = 0.25
    answer_rate_end: float | None = None
    ring_mean: float = 8.0
    no_answer_timeout: float = 25.0
    talk_mean: float = 120.0
    talk_cv: float = 1.0
    wrap_mean: float = 15.0
    hours: float = 4.0
    warmup_minutes: float = 30.0
    abandon_target: float = 0.03
    max_lines: int | None = None
    power_ratio: float = 2.0

    @property
    def bound(self) -> float:
        return self.talk_mean / (self.talk_mean + self.wrap_mean)

    def closed_form(self) -> float:
        """Progressive occupancy: talk / ((1/p - 1) * no-answer timeout + ring + talk + wrap)."""
        p = self.answer_rate
        return self.talk_mean / ((1 / p - 1) * self.no_answer_timeout + self.ring_mean + self.talk_mean
                                 + self.wrap_mean)


class _Trunk:
    """The simulated network behind a trunk of ``max_lines`` lines: a dial into a full trunk is
    refused by the carrier (503) and counted as line loss."""

    def __init__(self, net: SimNetwork, loop: VirtualLoop, max_lines: int | None) -> None:
        self.net, self.loop, self.max_lines = net, loop, max_lines
        self.active: set[str] = set()
        self.line_loss = 0
        self.max_used = 0

    def dial(self, cmd: Dial, now: float) -> None:
        if self.max_lines is not None and len(self.active) >= self.max_lines:
            self.line_loss += 1
            self.loop.post(now + 0.5, CallFailed(cmd.call_id, LossCause.CONGESTION, 503))
            return
        self.active.add(cmd.call_id)
        self.max_used = max(self.max_used, len(self.active))
        self.net.dial(cmd, now)

    def cancel(self, call_id: str, now: float) -> None:
        self.active.discard(call_id)  # the line is free once the CANCEL is sent
        self.net.cancel(call_id, now)

    def bridge(self, call_id: str, agent_id: str, now: float) -> None:
        self.net.bridge(call_id, agent_id, now)

    def abandon(self, call_id: str, now: float) -> None:
        self.net.abandon(call_id, now)

    def observe(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, WriteCdr):
            self.active.discard(cmd.record.call_id)


def run_once(strategy: str, sc: Scenario, seed: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One strategy, one seed: the measured figures after the warm-up."""
    loop = VirtualLoop(START)
    draws = Draws(seed)
    total = (sc.warmup_minutes * 60 + sc.hours * 3600)
    callee = CalleeModel(answer_rate=sc.answer_rate, answer_rate_end=sc.answer_rate_end, drift_seconds=total,
                         busy_rate=0.0, rejected_rate=0.0, empty_rate=0.0, suspended_rate=0.0,
                         powered_off_rate=0.0, ring_mean=sc.ring_mean, no_answer_timeout=sc.no_answer_timeout,
                         talk_mean=sc.talk_mean, talk_cv=sc.talk_cv)
    net = SimNetwork(loop, callee, draws, START)
    trunk = _Trunk(net, loop, sc.max_lines)
    done = Disposition("done", "完成", "Done")
    ids = [f"a{i}" for i in range(sc.agents)]
    agents = SimAgents(loop, AgentModel(wrap_mean=sc.wrap_mean), draws, ids, {CAMPAIGN: [done]})
    counter = itertools.count()
    engine = Dialer("bench", new_id=lambda: f"c{next(counter)}")
    runtime = DialerRuntime(engine, trunk, MemoryStore(unlimited=True), loop, [agents], observers=[trunk.observe])
    if strategy == "progressive":
        mode, pacer = DialMode.PROGRESSIVE, None
    else:
        mode = DialMode.POWER if strategy == "power" else DialMode.PREDICTIVE
        pacer = make_pacer(strategy, **(params or {}))
    spec = CampaignSpec(CAMPAIGN, "bench", mode=mode, dispositions={"done": done}, retry=RetryPolicy({}),
                        abandon_target=sc.abandon_target, max_lines=sc.max_lines, pacer=pacer)
    runtime.feed(CampaignActivated(spec), START)
    for a in ids:
        runtime.feed(AgentLoggedIn(a), START)
    warm = START + sc.warmup_minutes * 60
    loop.run(runtime.feed, until=warm)
    c = engine.campaigns[CAMPAIGN].counters
    talk0, logged0 = engine.agent_times(warm)
    ans0, ab0, con0 = c.answered, c.abandoned, c.connected
    end = warm + sc.hours * 3600
    loop.run(runtime.feed, until=end)
    talk1, logged1 = engine.agent_times(end)
    answered, abandoned = c.answered - ans0, c.abandoned - ab0
    return {"seed": seed, "occupancy": talk_occupancy(talk1 - talk0, logged1 - logged0),
            "abandon_rate": abandon_rate(abandoned, answered), "answered": answered,
            "abandoned": abandoned, "connected": c.connected - con0, "max_lines_used": trunk.max_used,
            "line_loss": trunk.line_loss, "campaign_abandon_rate": abandon_rate(c.abandoned, c.answered)}


def _run(args: tuple[str, Scenario, int, dict[str, Any]]) -> dict[str, Any]:
    return run_once(*args)


def summarise(sc: Scenario, runs: Sequence[dict[str, Any]], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    k = len(runs)
    answered = sum(r["answered"] for r in runs)
    abandoned = sum(r["abandoned"] for r in runs)
    out: dict[str, Any] = {
        "occupancy": sum(r["occupancy"] for r in runs) / k,
        "abandon_rate": sum(r["abandon_rate"] for r in runs) / k,
        "answered": answered, "abandoned": abandoned,
        "connects_per_agent_hour": sum(r["connected"] for r in runs) / (k * sc.agents * sc.hours),
        "max_lines_used": max(r["max_lines_used"] for r in runs),
        "line_loss": sum(r["line_loss"] for r in runs),
        "per_seed": [{"seed": r["seed"], "occupancy": r["occupancy"], "abandon_rate": r["abandon_rate"]}
                     for r in runs],
        "abandon_rate_max": max(r["abandon_rate"] for r in runs),
    }
    if extra:
        out.update(extra)
    return out


def bench(sc: Scenario, *, seed: int = 1, seeds: int = 1, jobs: int | None = None) -> dict[str, Any]:
    seed_list = [seed + i for i in range(seeds)]
    jobs = jobs or min(os.cpu_count() or 1, 2 * len(STRATEGIES) * seeds)
    params: dict[str, dict[str, Any]] = {"power": {"ratio": sc.power_ratio}}
    # the longest runs first; the RATIO search's runs go ahead of these whenever it needs one
    order = ("predictive", "vicidial_adaptive", "power", "progressive")
    queue = [(s, k) for s in order for k in seed_list]
    search = RatioSearch(seed_list, sc.abandon_target)
    results: dict[str, dict[int, dict[str, Any]]] = {s: {} for s in order}
    running: dict[Future[dict[str, Any]], tuple[str, int, int]] = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        while True:
            while len(running) < jobs:
                busy = {(t, k) for (s, t, k) in running.values() if s == "vicidial_ratio"}
                want = [w for w in search.wanted() if w not in busy]
                if want:
                    tenths, k = want[0]
                    job = ("vicidial_ratio", sc, k, {"level": tenths / 10})
                    running[pool.submit(_run, job)] = ("vicidial_ratio", tenths, k)
                elif queue:
                    s, k = queue.pop(0)
                    running[pool.submit(_run, (s, sc, k, params.get(s, {})))] = (s, 0, k)
                else:
                    break
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                s, tenths, k = running.pop(fut)
                if s == "vicidial_ratio":
                    search.record(tenths, k, fut.result())
                else:
                    results[s][k] = fut.result()
    level, ratio_runs = search.answer()
    strategies: dict[str, Any] = {}
    for s in STRATEGIES:
        if s == "vicidial_ratio":
            strategies[s] = summarise(sc, ratio_runs, {"level": level, "search_runs": len(search.results)})
        else:
            strategies[s] = summarise(sc, [results[s][k] for k in seed_list])
    p = sc.answer_rate
    return {"scenario": {**asdict(sc), "seed": seed, "seeds": seeds, "closed_form_progressive":
                         sc.closed_form() if sc.answer_rate_end is None else None,
                         "cycle_seconds": (1 / p - 1) * sc.no_answer_timeout + sc.ring_mean + sc.talk_mean
                         + sc.wrap_mean},
            "bound": sc.bound, "strategies": strategies}


def closed_form_tolerance(sc: Scenario, seeds: int) -> float:
    """Relative tolerance for progressive occupancy: 3.5 standard errors of the renewal-reward
    estimate over the agent cycles (never below 1%)."""
    p, na, r, t, w = sc.answer_rate, sc.no_answer_timeout, sc.ring_mean, sc.talk_mean, sc.wrap_mean
    closed = sc.closed_form()
    cycle = (1 / p - 1) * na + r + t + w
    var_f = (1 - p) / p**2
    var_d = (1 - closed) ** 2 * (sc.talk_cv * t) ** 2 + closed**2 * (w**2 / 2 + r**2 / 4 + na**2 * var_f)
    cycles = sc.agents * seeds * sc.hours * 3600 / cycle
    return max(0.01, 3.5 * math.sqrt(var_d / cycles) / t)
