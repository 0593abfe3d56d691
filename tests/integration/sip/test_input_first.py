"""A stalled SIP thread reads the answers that came meanwhile before its timers fire.

A full garbage collection stops every thread of the worker. When it ends, sippy's event loop
fires the INVITEs' retransmission timers (Timer A, T1 = 500 ms) before it has handled the 180
and 200 that arrived during the stall; SIPp, like a strict carrier, aborts a call on an INVITE
that arrives after its 200 OK, never sends its BYE, and the call is lost. Here the SIP thread is
stalled on purpose right after the INVITEs left, once with the answers queued by the reader
thread (the loop blocked) and once with them unread in the socket (the GIL held).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sip.conftest import Recorder, answered_once, dial, make_telephony, settle
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.domain.messages import CallEnded

Start = Callable[..., Any]
CALLS = 8
STALL = 0.8  # longer than T1, and than the callee's ring and answer


def block_loop() -> None:
    """The event loop stops; the reader thread still reads and queues the answers."""
    time.sleep(STALL)


def hold_gil() -> None:
    """The whole worker stops, as in a garbage collection: the answers stay in the socket."""
    time.sleep(0.05)  # the sender thread sends the INVITEs first
    n = 1_000_000
    t0 = time.perf_counter()
    sum(range(n))
    per = (time.perf_counter() - t0) / n
    sum(range(int(STALL / per)))  # a C loop: the GIL is never released


@pytest.mark.parametrize(("scenario", "stall"), [("answer.xml", block_loop), ("slow_answer.xml", hold_gil)],
                         ids=["answers-queued", "answers-unread"])
def test_no_retransmission_after_a_stall(sip_stack: SipStack, sipp: Start, scenario: str,
                                         stall: Callable[[], None]) -> None:
    uas = sipp(scenario, hold_ms=300, calls=CALLS)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, SipTrunk("carrier", "127.0.0.1", uas.port, options_interval=0), rec)
        for i in range(CALLS):
            tel.dial(dial(f"s{i}"), sched.now())
        sip_stack.call(stall)  # after the dials: the SIP thread runs them first
        for i in range(CALLS):
            await rec.final(f"s{i}", timeout=15)
        await settle(sip_stack, sched)
        for i in range(CALLS):
            events = rec.events[f"s{i}"]
            assert answered_once(events) and events[-1] == CallEnded(f"s{i}", "callee"), rec.kinds(f"s{i}")

    asyncio.run(go())
    # no call aborted on a retransmitted INVITE (whether the loop happens to read the answers
    # before its timers or the timers wait for them, InputFirst decides: without it, these
    # calls are lost)
    assert uas.wait() == 0, uas.output()
