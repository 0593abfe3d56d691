"""``waihu bench shift``: how fast a simulated shift runs (engine + simulated network + store)."""

from __future__ import annotations

import itertools
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from waihu.adapters.memory import MemoryStore
from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.bootstrap import bootstrap
from waihu.domain.campaigns import DialMode
from waihu.domain.messages import AgentLoggedIn, CampaignActivated
from waihu.domain.pacers import make_pacer
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.demo import DEFAULT_START, DemoConfig, run_demo
from waihu.service.runtime import DialerRuntime

START = DEFAULT_START


def memory_shift(agents: int, hours: float, mode: str, seed: int) -> dict[str, Any]:
    loop = VirtualLoop(START)
    draws = Draws(seed)
    net = SimNetwork(loop, CalleeModel(), draws, START)
    ids = [f"a{i}" for i in range(agents)]
    sim = SimAgents(loop, AgentModel(), draws, ids)
    counter = itertools.count()
    engine = Dialer("bench", new_id=lambda: f"c{next(counter)}")
    store = MemoryStore(unlimited=True)
    rt = DialerRuntime(engine, net, store, loop, [sim])
    dm = DialMode(mode)
    pacer = make_pacer("predictive") if dm is DialMode.PREDICTIVE else None
    spec = CampaignSpec("k", "bench", mode=dm, pacer=pacer, buffer_size=max(1000, 2 * agents))
    t0 = time.perf_counter()
    c0 = time.process_time()
    rt.feed(CampaignActivated(spec), START)
    for a in ids:
        rt.feed(AgentLoggedIn(a), START)
    loop.run(rt.deliver, until=START + hours * 3600)
    talk, logged = engine.agent_times(START + hours * 3600)
    return {"store": "memory", "events": rt.events, "cdrs": len(store.cdrs),
            "occupancy": round(talk / logged, 4) if logged else 0.0,
            "wall_seconds": round(time.perf_counter() - t0, 3), "cpu_seconds": round(time.process_time() - c0, 3)}


def sql_shift(agents: int, hours: float, mode: str, seed: int, contacts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        platform = bootstrap(f"sqlite:///{Path(tmp) / 'shift.db'}")
        t0 = time.perf_counter()
        c0 = time.process_time()
        doc = run_demo(platform, DemoConfig(agents=agents, contacts=contacts, mode=mode, seed=seed, hours=hours))
        platform.dispose()
    return {"store": "sqlite", "events": doc["events"], "cdrs": doc["cdrs"], "occupancy": doc["occupancy"],
            "contacts": contacts, "wall_seconds": round(time.perf_counter() - t0, 3),
            "cpu_seconds": round(time.process_time() - c0, 3)}


def bench_shift(agents: int, hours: float, mode: str, seed: int, contacts: int, store: str) -> dict[str, Any]:
    run = memory_shift(agents, hours, mode, seed) if store == "memory" else \
        sql_shift(agents, hours, mode, seed, contacts)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"agents": agents, "hours": hours, "mode": mode, "seed": seed, **run,
            "sim_seconds": hours * 3600, "speedup": round(hours * 3600 / max(run["wall_seconds"], 1e-9), 1),
            "peak_rss_mb": round(rss, 1)}
