"""The real engine and runtime on the asyncio loop, dialing through SIP to SIPp."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from tests.integration.sip.conftest import until
from waihu.adapters.memory import MemoryStore
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.domain.calls import LossCause, Outcome
from waihu.domain.campaigns import RetryPolicy
from waihu.domain.messages import AgentLoggedIn, CampaignActivated, DialTarget
from waihu.domain.phone import PhoneNumber
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.runtime import DialerRuntime

Start = Callable[..., Any]


def run_campaign(stack: SipStack, port: int, numbers: list[str], expect_cdrs: int) -> MemoryStore:
    async def go() -> MemoryStore:
        loop = asyncio.get_running_loop()
        sched = AsyncioScheduler(loop)
        tel = SipTelephony(stack, [SipTrunk("carrier", "127.0.0.1", port, options_interval=0)], sched, sched.clock)
        store = MemoryStore()
        for i, n in enumerate(numbers):
            store.add(DialTarget(f"ct{i}", "k", PhoneNumber(n), f"p{i}"))
        ids = itertools.count()
        engine = Dialer("t", new_id=lambda: f"call{next(ids)}")
        runtime = DialerRuntime(engine, tel, store, sched)
        sched.bind(runtime.feed)
        spec = CampaignSpec("k", "t", retry=RetryPolicy({}), default_trunk="carrier",
                            default_caller_id="4008001234", ring_timeout=5.0)
        now = sched.now()
        runtime.feed(CampaignActivated(spec), now)
        runtime.feed(AgentLoggedIn("a1"), now)
        await until(lambda: len(store.cdrs) >= expect_cdrs, timeout=15)
        return store

    return asyncio.run(go())


def test_engine_writes_one_connected_cdr(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("answer.xml", hold_ms=300, calls=1)
    store = run_campaign(sip_stack, uas.port, ["+8613912345678"], 1)
    assert len(store.cdrs) == 1
    cdr = store.cdrs[0]
    assert cdr.outcome is Outcome.CONNECTED and cdr.hangup_by == "callee"
    assert cdr.trunk_id == "carrier" and cdr.caller_id == "4008001234"
    assert cdr.ring_at is not None and cdr.answer_at is not None and cdr.bridge_at is not None
    assert uas.wait() == 0, uas.output()


def test_engine_writes_one_busy_cdr(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("reject.xml", subs={"CODE": "486", "REASON": "Busy Here"}, calls=1)
    store = run_campaign(sip_stack, uas.port, ["+8613912345678"], 1)
    assert [(c.outcome, c.loss_cause, c.sip_code) for c in store.cdrs] == [(Outcome.BUSY, LossCause.BUSY, 486)]
    assert uas.wait() == 0, uas.output()
