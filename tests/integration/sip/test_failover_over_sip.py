"""Trunk failover over real SIP: a carrier answering 503 is ejected, its lost calls are retried
at once on a second carrier, and OPTIONS probes bring it back (probe calls readmit it).

The engine routes with the adaptive router (``RoutedLines``); SipTelephony probes both SIPp
carriers with OPTIONS and reports their state changes to the router.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.integration.sip.conftest import until
from tests.integration.sip.test_campaign_over_sip import read_log, seed_campaign
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.adapters.storage.models import Cdr
from waihu.bootstrap import Platform
from waihu.domain.messages import AgentLoggedIn, AgentLoggedOut, CampaignActivated, RecordHold, WriteCdr
from waihu.domain.routing import Router, RoutingPolicy
from waihu.domain.trunks import Thresholds, Trunk, TrunkHealth
from waihu.engine.dialer import Dialer
from waihu.service.routing import RoutedLines
from waihu.service.runtime import DialerRuntime

Start = Callable[..., Any]

CONTACTS = 80
AGENTS = [f"a{i}" for i in range(1, 6)]


def logged(path: Path) -> dict[str, str]:
    """SIP Call-ID -> what the SIPp carrier did with that call."""
    return {parts[0]: parts[2] for parts in read_log(path)} if path.exists() else {}


def test_503_carrier_is_ejected_calls_retried_on_the_other_and_options_bring_it_back(
        platform: Platform, sip_stack: SipStack, sipp: Start, tmp_path: Path) -> None:
    logs = {k: tmp_path / f"{k}.log" for k in ("a_down", "a_up", "b")}
    down = sipp("unavailable.xml", extra=("-trace_logs", "-log_file", str(logs["a_down"])))
    carrier_b = sipp("carrier_ok.xml", hold_ms=200, extra=("-trace_logs", "-log_file", str(logs["b"])))
    numbers = [f"+861390001{i:04d}" for i in range(CONTACTS)]
    t0 = time.monotonic()
    tid, spec = seed_campaign(platform, numbers, time.time())
    spec.default_trunk = None
    # every callee here answers after a short ring: a ring timeout well above it keeps a loaded
    # machine's late 200 OK from turning a call into a no-answer
    spec.ring_timeout = 15.0
    quick = Thresholds(probe_successes=2, probe_concurrency=2)
    router = Router([Trunk("A", "A", 20, 100.0, priority=1, thresholds=quick), Trunk("B", "B", 20, 100.0)],
                    RoutingPolicy(explore=0.0), seed=1)
    lines = RoutedLines(router)
    changes: list[tuple[str, bool]] = []
    phases: dict[str, Any] = {}
    written: list[int] = [0]  # CDRs written so far
    holds: list[tuple[str, ...]] = []  # why the router held a dial back (none expected)

    def count(cmd: Any, now: float) -> None:
        written[0] += isinstance(cmd, WriteCdr)
        if isinstance(cmd, RecordHold):
            holds.append(cmd.reasons)

    async def go() -> SipTelephony:
        loop = asyncio.get_running_loop()
        sched = AsyncioScheduler(loop)

        def trunk_state(name: str, up: bool) -> None:  # on the SIP thread: hop to the loop
            changes.append((name, up))
            loop.call_soon_threadsafe(lines.trunk_signal, name, up, sched.now())

        # A's probes are answered 503 at once (down after two), then 200 (up after two); B's may be
        # slow on a loaded machine: a late answer is not a failure within 2 s, and it takes three
        # (were B taken out while A is, calls would be held for a minute: no line at all)
        quick_probes = {"options_interval": 0.2, "options_timeout": 0.5, "down_after": 2, "up_after": 2}
        patient_probes = {"options_interval": 0.2, "options_timeout": 2.0, "down_after": 3, "up_after": 2}
        tel = SipTelephony(sip_stack, [SipTrunk("A", "127.0.0.1", down.port, **quick_probes),
                                       SipTrunk("B", "127.0.0.1", carrier_b.port, **patient_probes)],
                           sched, sched.clock, on_trunk_state=trunk_state)
        store = SqlDialerStore(platform.engine, platform.codec, tid)
        engine = Dialer(tid, route=lines.route)
        drained = asyncio.Event()
        runtime = DialerRuntime(engine, tel, store, sched, on_drained=lambda _c, _t: drained.set(),
                                observers=[lines.observe, count])
        sched.bind(runtime.deliver)
        runtime.feed(CampaignActivated(spec), sched.now())
        for agent in AGENTS:  # five calls at once to the preferred carrier, A
            runtime.feed(AgentLoggedIn(agent), sched.now())
        tel.start()
        await until(lambda: router.health("A") is TrunkHealth.EJECTED)
        phases["ejected_at"] = written[0]
        # the carrier comes back: it answers OPTIONS and calls again
        down.proc.terminate()
        down.wait()
        phases["up"] = sipp("carrier_ok.xml", hold_ms=200, port=down.port,
                            extra=("-trace_logs", "-log_file", str(logs["a_up"])))
        await until(lambda: router.health("A") is TrunkHealth.ENABLED, timeout=15)
        phases["enabled_at"] = written[0]
        try:
            await asyncio.wait_for(drained.wait(), 40)
        except TimeoutError:  # say what kept the campaign from finishing
            raise AssertionError(f"not drained: trunk changes {changes}, router {router.transitions}, calls "
                                 f"{[(c.call_id, c.state.value) for c in engine.calls.values()]}, "
                                 f"{written[0]} CDRs, holds {holds}") from None
        await until(lambda: not engine.calls and not engine.wrapping)
        for agent in AGENTS:
            runtime.feed(AgentLoggedOut(agent), sched.now())
        tel.stop()
        store.flush()
        return tel

    tel = asyncio.run(go())
    elapsed = time.monotonic() - t0
    assert phases["ejected_at"] < phases["enabled_at"] < CONTACTS, phases

    # the router's story of A: out on OPTIONS, back to probing on OPTIONS, in after clean probe calls
    assert [(e, why) for _, t, e, why in router.transitions if t == "A"] == [
        ("eject", "options_down"), ("cooldown", "options_up"), ("probe_ok", "probes_clean")]
    assert changes.count(("A", False)) == 1 and changes.count(("A", True)) == 1
    assert ("B", False) not in changes and router.health("B") is TrunkHealth.ENABLED and not holds

    with platform.uow(tid) as uow:
        cdrs = list(uow.session.scalars(select(Cdr).where(Cdr.tenant_id == tid)))
    by_chain: dict[str, list[Cdr]] = {}
    for c in cdrs:
        by_chain.setdefault(c.chain_id or c.id, []).append(c)
    lost = [c for c in cdrs if c.sip_code == 503]
    assert len(lost) == len(AGENTS), "the first calls went to A and all came back 503"
    sipp_down, sipp_up, sipp_b = logged(logs["a_down"]), logged(logs["a_up"]), logged(logs["b"])
    for c in lost:
        trace = tel.trace(c.id)
        assert trace is not None and sipp_down[trace.sip_call_id] == "503"
        assert (c.trunk_id, c.outcome, c.loss_cause, c.chain_id) == ("A", "line_failure", "congestion", c.id)
        retry = [r for r in by_chain[c.id] if r.id != c.id]
        assert len(retry) == 1, "retried once, at once, on the other carrier"
        r = retry[0]
        assert (r.trunk_id, r.outcome, r.contact_id, r.attempt) == ("B", "connected", c.contact_id, c.attempt)
        assert r.route_reason == "best_value" and r.dial_at - c.end_at < timedelta(seconds=1)
    assert len(sipp_down) == len(lost)
    # after OPTIONS said A was back, probe calls went to A and were answered
    probes = [c for c in cdrs if c.route_reason == "probe"]
    assert len(probes) >= quick.probe_successes
    assert all(c.trunk_id == "A" and c.outcome == "connected" for c in probes)
    # every contact was connected once; SIPp's carriers answered exactly the calls the CDRs say
    connected = [c for c in cdrs if c.outcome == "connected"]
    assert len(cdrs) == CONTACTS + len(lost) and len({c.contact_id for c in connected}) == CONTACTS
    for c in connected:
        trace = tel.trace(c.id)
        assert trace is not None
        assert (sipp_up if c.trunk_id == "A" else sipp_b).get(trace.sip_call_id) == "answered"
    assert Counter(c.trunk_id for c in connected) == {"A": len(sipp_up), "B": len(sipp_b)}
    print(f"\nfailover over SIP: {elapsed:.1f} s, {len(lost)} lost and retried, {len(probes)} probe calls, "
          f"ejected after {phases['ejected_at']} CDRs, enabled after {phases['enabled_at']}")
