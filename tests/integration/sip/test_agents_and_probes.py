"""Agents' phones (nailed-up legs, re-INVITE bridging) and OPTIONS probing, against SIPp."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.integration.sip.conftest import Recorder, dial, make_telephony, settle, until
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.domain.messages import CallAnswered, CallEnded

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
