"""Progressive dialing in steady state agrees with the closed form (this checks the simulator).

With an unlimited list, only answered and unanswered outcomes and no retries, each agent
repeats a renewal cycle: (1/p - 1) unanswered dials that each ring until the network's
no-answer timeout NA, one answered dial that rings R, a talk T and a wrap-up W. The long-run
share of logged-in time spent talking is therefore

    occupancy = T / ((1/p - 1) * NA + R + T + W)

The estimate over a finite run is a renewal-reward ratio. Its standard error is
sqrt(Var(D) / cycles) / T with D = T_cycle_talk - occ * cycle_length, i.e.

    Var(D) = (1 - occ)^2 Var(T) + occ^2 (Var(W) + Var(R) + NA^2 Var(F)),

where F ~ Geometric(p) - 1 counts the failed dials (Var(F) = (1 - p) / p^2), talk is lognormal
(Var(T) = (cv T)^2), wrap-up Gamma with shape 2 (Var(W) = W^2 / 2) and ring Gamma with shape 4
(Var(R) = R^2 / 4); cycles = agents * hours * 3600 / E[cycle]. The test accepts a relative
difference within max(1%, 3.5 standard errors), the tolerance documented in docs/pacing.md.
"""

from __future__ import annotations

import itertools

import pytest

from waihu.adapters.memory import MemoryStore
from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.domain.campaigns import Disposition, RetryPolicy
from waihu.domain.messages import AgentLoggedIn, CampaignActivated
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.runtime import DialerRuntime

START = 1_700_000_000.0


def closed_form(p: float, na: float, r: float, t: float, w: float) -> float:
    return t / ((1 / p - 1) * na + r + t + w)


def tolerance(p: float, na: float, r: float, t: float, w: float, cv: float, agents: int, hours: float) -> float:
    occ = closed_form(p, na, r, t, w)
    cycle = (1 / p - 1) * na + r + t + w
    var_d = (1 - occ) ** 2 * (cv * t) ** 2 + occ**2 * (w**2 / 2 + r**2 / 4 + na**2 * (1 - p) / p**2)
    cycles = agents * hours * 3600 / cycle
    return max(0.01, 3.5 * (var_d / cycles) ** 0.5 / t)


def run_progressive(seed: int, p: float, na: float, r: float, t: float, w: float, cv: float, agents: int,
                    hours: float, warmup: float = 1800.0) -> float:
    loop = VirtualLoop(START)
    draws = Draws(seed)
    model = CalleeModel(answer_rate=p, busy_rate=0, rejected_rate=0, empty_rate=0, suspended_rate=0,
                        powered_off_rate=0, ring_mean=r, no_answer_timeout=na, talk_mean=t, talk_cv=cv)
    net = SimNetwork(loop, model, draws, START)
    done = Disposition("done", "完成", "Done")
    ids = [f"a{i}" for i in range(agents)]
    sim = SimAgents(loop, AgentModel(wrap_mean=w), draws, ids, {"k": [done]})
    counter = itertools.count()
    engine = Dialer("t", new_id=lambda: f"c{next(counter)}")
    rt = DialerRuntime(engine, net, MemoryStore(unlimited=True), loop, [sim])
    spec = CampaignSpec("k", "t", dispositions={"done": done}, retry=RetryPolicy({}), ring_timeout=na + 30)
    rt.feed(CampaignActivated(spec), START)
    for a in ids:
        rt.feed(AgentLoggedIn(a), START)
    loop.run(rt.feed, until=START + warmup)
    talk0, logged0 = engine.agent_times(START + warmup)
    end = START + warmup + hours * 3600
    loop.run(rt.feed, until=end)
    talk1, logged1 = engine.agent_times(end)
    return (talk1 - talk0) / (logged1 - logged0)


@pytest.mark.parametrize(("seed", "p", "agents", "hours"), [(1, 0.25, 50, 4.0), (2, 0.5, 20, 6.0), (3, 0.1, 30, 6.0)])
def test_progressive_occupancy_matches_closed_form(seed: int, p: float, agents: int, hours: float) -> None:
    na, r, t, w, cv = 25.0, 8.0, 120.0, 15.0, 1.0
    got = run_progressive(seed, p, na, r, t, w, cv, agents, hours)
    want = closed_form(p, na, r, t, w)
    tol = tolerance(p, na, r, t, w, cv, agents, hours)
    assert abs(got - want) / want <= tol, f"occupancy {got:.4f} vs closed form {want:.4f} (tolerance {tol:.3%})"


def test_closed_form_detects_a_wrong_simulator() -> None:
    """The check has teeth: a wrap-up twice as long as configured is outside the tolerance."""
    na, r, t, w, cv, p = 25.0, 8.0, 120.0, 15.0, 1.0, 0.25
    got = run_progressive(1, p, na, r, t, 2 * w, cv, 50, 4.0)
    want = closed_form(p, na, r, t, w)
    assert abs(got - want) / want > tolerance(p, na, r, t, w, cv, 50, 4.0)
