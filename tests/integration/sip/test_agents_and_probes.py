"""Agents' phones (nailed-up legs, re-INVITE bridging) and OPTIONS probing, against SIPp."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.sip.conftest import Recorder, dial, make_telephony, settle, until
from waihu.adapters.memory import MemoryStore
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.domain.agents import AgentState
from waihu.domain.calls import Outcome
from waihu.domain.campaigns import RetryPolicy
from waihu.domain.messages import (
    AgentChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    CallAnswered,
    CallEnded,
    CampaignActivated,
    DialTarget,
)
from waihu.domain.phone import PhoneNumber
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.runtime import DialerRuntime

Start = Callable[..., Any]


def answered_invites(tel: SipTelephony, agent_id: str) -> int:
    return sum(1 for _, d, m, c in tel.agent_trace(agent_id) if (d, m, c) == ("in", "INVITE", 200))


def test_agent_leg_is_nailed_up_and_bridged_by_reinvites(sip_stack: SipStack, sipp: Start) -> None:
    phone = sipp("agent.xml", calls=1)
    customer = sipp("customer_bridge.xml", hold_ms=400, calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, SipTrunk("carrier", "127.0.0.1", customer.port,
                                                        options_interval=0), rec)
        tel.login_agent("a1", f"sip:1001@127.0.0.1:{phone.port}")
        await until(lambda: tel.agent_state("a1") == "idle")
        tel.dial(dial("c1"), sched.now())
        await rec.first("c1", CallAnswered)
        tel.bridge("c1", "a1", sched.now())
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        assert rec.kinds("c1") == ["CallRinging", "CallAnswered", "CallEnded"]
        assert events[-1] == CallEnded("c1", "callee")
        # customer re-INVITEd with the agent phone's SDP, then the agent with the customer's,
        # and after the customer left the agent leg was parked again, not dropped
        await until(lambda: answered_invites(tel, "a1") == 3)
        assert tel.agents.bridges == 1
        assert tel.agent_state("a1") == "idle"
        tel.logout_agent("a1")
        await until(lambda: tel.agent_state("a1") == "offline")

    asyncio.run(go())
    assert customer.wait() == 0, customer.output()
    assert phone.wait() == 0, phone.output()


def test_options_probes_take_a_trunk_down_and_up(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("options.xml")
    changes: list[tuple[str, bool]] = []

    async def go() -> None:
        sched = AsyncioScheduler(asyncio.get_running_loop(), Recorder().deliver)
        trunk = SipTrunk("carrier", "127.0.0.1", uas.port, options_interval=0.2, options_timeout=0.3,
                         down_after=2, up_after=2)
        tel = SipTelephony(sip_stack, [trunk], sched, sched.clock,
                           on_trunk_state=lambda name, up: changes.append((name, up)))
        health = tel.health["carrier"]
        tel.start()
        await until(lambda: health.probes >= 3)
        assert health.up and health.last_code == 200 and changes == [], (health.probes, health.last_code)
        uas.proc.terminate()
        uas.wait()
        await until(lambda: not health.up)
        assert changes == [("carrier", False)]
        sipp("options.xml", port=uas.port)
        await until(lambda: health.up)
        assert changes == [("carrier", False), ("carrier", True)]
        tel.stop()

    asyncio.run(go())


def test_agent_hanging_up_ends_the_call_logs_the_agent_out_until_a_new_login(
        sip_stack: SipStack, sipp: Start, tmp_path: Path) -> None:
    carrier_log = tmp_path / "carrier.log"
    carrier = sipp("carrier_mixed.xml", calls=2, subs={"RING_MS": "50", "TALK_MS": "1500"},
                   extra=("-trace_logs", "-log_file", str(carrier_log)))
    phone = sipp("agent_hangs_up.xml", hold_ms=300, calls=1)  # hangs up 300 ms into the call

    async def go() -> tuple[MemoryStore, list[str], SipTelephony]:
        sched = AsyncioScheduler(asyncio.get_running_loop())
        tel = SipTelephony(sip_stack, [SipTrunk("carrier", "127.0.0.1", carrier.port, options_interval=0)],
                           sched, sched.clock)
        store = MemoryStore()
        for i, n in enumerate(("+8613900002220", "+8613900002221")):  # both answer (last digits 0, 1)
            store.add(DialTarget(f"ct{i}", "k", PhoneNumber(n), f"p{i}"))
        engine = Dialer("t")
        states: list[str] = []

        def agent_states(cmd: Any, now: float) -> None:
            if isinstance(cmd, AgentChanged) and cmd.agent_id == "1001":
                states.append(cmd.state)

        runtime = DialerRuntime(engine, tel, store, sched, observers=[agent_states])
        sched.bind(runtime.deliver)
        tel.login_agent("1001", f"sip:1001@127.0.0.1:{phone.port}")
        await until(lambda: tel.agent_state("1001") == "idle")
        runtime.feed(CampaignActivated(CampaignSpec("k", "t", retry=RetryPolicy({}), default_trunk="carrier",
                                                    ring_timeout=5.0, wrap_limit=0.05)), sched.now())
        runtime.feed(AgentLoggedIn("1001"), sched.now())
        await until(lambda: len(store.cdrs) == 1)
        # the agent's phone is gone: logged out after the wrap-up, and no other call is placed for it
        await until(lambda: engine.agents["1001"].state is AgentState.OFFLINE)
        assert tel.agent_state("1001") == "gone"
        await asyncio.sleep(0.3)
        assert len(store.cdrs) == 1 and not engine.calls
        # a new login calls the phone again and the campaign goes on
        phone2 = sipp("agent_session.xml", calls=1)
        tel.login_agent("1001", f"sip:1001@127.0.0.1:{phone2.port}")
        await until(lambda: tel.agent_state("1001") == "idle")
        runtime.feed(AgentLoggedIn("1001"), sched.now())
        await until(lambda: len(store.cdrs) == 2)
        await until(lambda: engine.agents["1001"].state is AgentState.READY)
        runtime.feed(AgentLoggedOut("1001"), sched.now())
        tel.logout_agent("1001")
        await until(lambda: tel.agent_state("1001") == "offline")
        assert phone2.wait() == 0, phone2.output()
        return store, states, tel

    store, states, tel = asyncio.run(go())
    first, second = store.cdrs
    assert (first.outcome, first.hangup_by, first.agent_id) == (Outcome.CONNECTED, "agent", "1001")
    assert first.bridge_at is not None and 0.2 < first.end_at - first.bridge_at < 1.4
    assert (second.outcome, second.hangup_by, second.agent_id) == (Outcome.CONNECTED, "callee", "1001")
    # talking -> wrap-up -> offline (the phone hung up), then a fresh login
    i = states.index("offline")
    assert states[i - 2:i] == ["talking", "wrap_up"] and "ready" in states[i + 1:]
    assert tel.agents.bridges == 2
    assert carrier.wait() == 0, carrier.output()
    assert phone.wait() == 0, phone.output()
    saw = sorted(line.split()[1:] for line in carrier_log.read_text().splitlines())
    assert saw == [["8613900002220", "bridged", "o=agentphone", "bye-from-dialer"],
                   ["8613900002221", "bridged", "o=agentphone", "bye-from-callee"]]


def test_a_phone_that_refuses_the_login_call_logs_the_agent_out(sip_stack: SipStack, sipp: Start) -> None:
    phone = sipp("reject.xml", subs={"CODE": "486", "REASON": "Busy Here"}, calls=1)

    async def go() -> list[Any]:
        events: list[Any] = []
        sched = AsyncioScheduler(asyncio.get_running_loop(), lambda ev, now: events.append(ev))
        tel = SipTelephony(sip_stack, [SipTrunk("carrier", "127.0.0.1", phone.port, options_interval=0)],
                           sched, sched.clock)
        tel.login_agent("1001", f"sip:1001@127.0.0.1:{phone.port}")
        await until(lambda: tel.agent_state("1001") == "failed")
        await settle(sip_stack, sched)
        return events

    assert asyncio.run(go()) == [AgentLoggedOut("1001")]
    assert phone.wait() == 0, phone.output()
