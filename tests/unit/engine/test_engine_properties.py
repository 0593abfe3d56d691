"""Property tests: engine invariants under random networks, agents and interruptions.

Whatever happens, (1) every dial ends in exactly one CDR, (2) no agent is ever connected to
two calls at once, (3) an answered call is never bridged after it was abandoned, and (4) every
contact ends finished, exhausted or pending (nothing is lost).
"""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.engine.helpers import DISPS, target
from waihu.adapters.memory import MemoryStore
from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.domain.calls import Outcome
from waihu.domain.campaigns import ContactState, DialMode
from waihu.domain.messages import (
    Abandon,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReadied,
    Bridge,
    CallEnded,
    CampaignActivated,
    Command,
    Dial,
    Event,
)
from waihu.domain.pacing import PowerPacer
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.runtime import DialerRuntime

START = 1_000_000.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    mode=st.sampled_from([DialMode.PROGRESSIVE, DialMode.PREVIEW, DialMode.POWER]),
    agents=st.integers(1, 6),
    contacts=st.integers(1, 60),
    answer=st.floats(0.0, 1.0),
    busy=st.floats(0.0, 0.3),
    interruptions=st.integers(0, 30),
    ring_timeout=st.floats(5.0, 60.0),
)
def test_invariants_hold_for_any_run(seed: int, mode: DialMode, agents: int, contacts: int, answer: float,
                                     busy: float, interruptions: int, ring_timeout: float) -> None:
    busy = min(busy, 1.0 - answer)
    loop = VirtualLoop(START)
    draws = Draws(seed)
    net = SimNetwork(loop, CalleeModel(answer_rate=answer, busy_rate=busy, rejected_rate=0.0, talk_mean=60.0),
                     draws, START)
    agent_ids = [f"a{i}" for i in range(agents)]
    sim = SimAgents(loop, AgentModel(wrap_mean=10.0), draws, agent_ids, {"k1": list(DISPS.values())})
    ids = itertools.count()
    d = Dialer("t1", new_id=lambda: f"call{next(ids)}")
    store = MemoryStore()
    for n in range(contacts):
        store.add(target(n))
    pacer = PowerPacer(2.0) if mode is DialMode.POWER else None
    spec = CampaignSpec("k1", "t1", mode=mode, dispositions=dict(DISPS), pacer=pacer, ring_timeout=ring_timeout)
    dials: list[str] = []
    on_call: dict[str, str] = {}  # agent -> call it is connected to
    abandoned: set[str] = set()

    def watch(cmd: Command, now: float) -> None:
        if isinstance(cmd, Dial):
            dials.append(cmd.call_id)
        elif isinstance(cmd, Bridge):
            assert cmd.agent_id not in on_call, "agent bridged to two calls"
            assert cmd.call_id not in abandoned, "abandoned call bridged"
            on_call[cmd.agent_id] = cmd.call_id
        elif isinstance(cmd, Abandon):
            abandoned.add(cmd.call_id)

    rt = DialerRuntime(d, net, store, loop, [sim], observers=[watch])

    def feed(ev: Event, now: float, *, strict: bool = False) -> None:
        if isinstance(ev, CallEnded):
            for a, c in list(on_call.items()):
                if c == ev.call_id:
                    del on_call[a]
        if strict:
            rt.feed(ev, now)
        else:
            rt.deliver(ev, now)

    feed(CampaignActivated(spec), START)
    for a in agent_ids:
        feed(AgentLoggedIn(a), START)
    rng = random.Random(seed)
    for _ in range(interruptions):  # agents take breaks, come back, log out and in again
        a = rng.choice(agent_ids)
        at = START + rng.uniform(0, 4 * 3600)
        kind = rng.choice(["pause", "ready", "logout", "login"])
        ev: Event = {"pause": AgentPaused(a), "ready": AgentReadied(a), "logout": AgentLoggedOut(a),
                     "login": AgentLoggedIn(a)}[kind]
        loop.post(at, _Guarded(ev))  # type: ignore[arg-type]
    for a in agent_ids:  # everyone is back at the end so the list can finish
        loop.post(START + 5 * 3600, _Guarded(AgentLoggedIn(a)))  # type: ignore[arg-type]
        loop.post(START + 5 * 3600, _Guarded(AgentReadied(a)))  # type: ignore[arg-type]

    def deliver(ev: Event, now: float) -> None:
        if isinstance(ev, _Guarded):
            try:
                feed(ev.event, now, strict=True)
            except Exception as e:  # illegal agent actions are refused, not applied
                assert getattr(e, "code", "").startswith("agent."), e
            return
        feed(ev, now)

    loop.run(deliver, until=START + 30 * 24 * 3600)
    # only simulated people's late actions may be refused (a wrap-up the agent already ended, an offer gone)
    assert {(kind, code) for _, kind, code in rt.refused} <= {
        ("WrapUpEnded", "agent.not_in_wrap_up"), ("WrapUpEnded", "agent.not_logged_in"),
        ("PreviewAnswered", "preview.not_offered"), ("PreviewAnswered", "agent.not_logged_in")}
    cdr_ids = [r.call_id for r in store.cdrs]
    assert sorted(cdr_ids) == sorted(dials), "every dial ends in exactly one CDR"
    assert len(set(cdr_ids)) == len(cdr_ids)
    assert not d.calls and not d.waiting
    counts = store.counts("k1")
    assert counts[ContactState.ACTIVE.value] == 0
    assert counts[ContactState.PENDING.value] == 0
    assert counts[ContactState.FINISHED.value] + counts[ContactState.EXHAUSTED.value] == contacts
    answered = sum(1 for r in store.cdrs if r.outcome in (Outcome.CONNECTED, Outcome.ABANDONED))
    assert answered == d.campaigns["k1"].counters.answered
    if mode is not DialMode.POWER:
        assert all(r.outcome is not Outcome.ABANDONED for r in store.cdrs), "agent-reserved calls never abandon"


class _Guarded:
    """An agent action that may be illegal at the moment it happens (the engine refuses it)."""

    def __init__(self, event: Event) -> None:
        self.event = event
