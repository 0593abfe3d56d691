"""``waihu bench sip``: the SIP adapter against a SIPp callee, in one worker process.

N calls are placed at R calls/s through ``SipTelephony`` on the asyncio runtime pieces (wall
clock, thread-safe scheduler, the SIP thread). The engine is bypassed: a recorder turns each
call's events into a call detail record (``WriteCdr`` into a ``MemoryStore``), exactly one per
call, so ``cdrs == calls`` checks the adapter's promise of one final event per dial. A call is
an unexpected failure when its outcome is not what its callee was told to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waihu.adapters.memory import MemoryStore
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import INPUT_FIRST, SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.bench import sipp
from waihu.domain.calls import CallRecord, LossCause, Outcome, outcome_for_cause
from waihu.domain.messages import CallAnswered, CallEnded, CallFailed, CallRinging, Dial, Event, WriteCdr
from waihu.domain.phone import PhoneNumber


@dataclass(slots=True)
class _Call:
    kind: str
    dial_at: float
    ring_at: float | None = None
    answer_at: float | None = None
    done: bool = False


class _Recorder:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.calls: dict[str, _Call] = {}
        self.live = 0
        self.peak = 0
        self.answered = 0
        self.failed = 0
        self.unexpected = 0
        self.unexpected_by: dict[str, int] = {}
        self.finished = asyncio.Event()
        self.expected = 0

    def dialed(self, call_id: str, kind: str, now: float) -> None:
        self.calls[call_id] = _Call(kind, now)
        self.live += 1
        self.peak = max(self.peak, self.live)

    def deliver(self, event: Event, now: float) -> None:
        call = self.calls.get(getattr(event, "call_id", ""))
        if call is None or call.done:
            if call is not None:
                self.unexpected += 1  # an event after the final one
            return
        if isinstance(event, CallRinging):
            call.ring_at = call.ring_at or now
        elif isinstance(event, CallAnswered):
            call.answer_at = now
            self.answered += 1
        elif isinstance(event, (CallFailed, CallEnded)):
            self._final(event, call, now)

    def _final(self, event: CallFailed | CallEnded, call: _Call, now: float) -> None:
        call.done = True
        self.live -= 1
        cause: LossCause | None = None
        code: int | None = None
        if isinstance(event, CallFailed):
            self.failed += 1
            cause, code = event.cause, event.sip_code
            outcome = outcome_for_cause(cause)
            ok = (call.kind == sipp.BUSY and cause is LossCause.BUSY) or (
                call.kind == sipp.NO_ANSWER and cause is LossCause.NO_ANSWER)
        else:
            outcome = Outcome.ABANDONED  # no agent in this bench: an answered, unbridged call
            ok = call.kind == sipp.ANSWER and call.answer_at is not None and event.by == "callee"
        if not ok:
            self.unexpected += 1
            what = f"{call.kind}:{cause.value if cause else 'ended'}/{code if code else getattr(event, 'by', '')}"
            self.unexpected_by[what] = self.unexpected_by.get(what, 0) + 1
        rec = CallRecord(event.call_id, "bench", "bench", event.call_id, event.call_id, 1, call.dial_at, now,
                         outcome, cause, code, ring_at=call.ring_at, answer_at=call.answer_at, trunk_id="sipp",
                         hangup_by=getattr(event, "by", None))
        self.store.apply([WriteCdr(rec)])
        if len(self.store.cdrs) >= self.expected:
            self.finished.set()


class _GcPauses:
    """The garbage collector's pauses while the bench runs (they stall every thread, the SIP one
    too: a pause longer than T1 makes the far end see retransmissions)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.count = [0, 0, 0]
        self.longest = [0.0, 0.0, 0.0]
        self.total = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        took, gen = time.perf_counter() - self.started, info["generation"]
        self.count[gen] += 1
        self.longest[gen] = max(self.longest[gen], took)
        self.total += took

    def doc(self) -> dict[str, Any]:
        return {"full_collections": self.count[2], "longest_full_ms": round(self.longest[2] * 1000, 1),
                "longest_ms": round(max(self.longest) * 1000, 1), "total_s": round(self.total, 2)}


def plan(calls: int, answer_share: float) -> list[str]:
    """Which callee behaviour each call meets: answer for the share, then busy / no answer alternately."""
    kinds: list[str] = []
    other = 0
    for i in range(calls):
        if int((i + 1) * answer_share) > int(i * answer_share):
            kinds.append(sipp.ANSWER)
        else:
            kinds.append(sipp.BUSY if other % 2 == 0 else sipp.NO_ANSWER)
            other += 1
    return kinds


def number(i: int, kind: str) -> str:
    return f"+86139{kind}{i % 10_000_000:07d}"


async def _drive(calls: int, cps: float, hold: float, kinds: list[str], uas_port: int,
                 ring_timeout: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    store = MemoryStore()
    rec = _Recorder(store)
    rec.expected = calls
    sched = AsyncioScheduler(loop, rec.deliver)
    stack = SipStack("127.0.0.1", sipp.free_udp_port())
    stack.start()
    trunk = SipTrunk("sipp", "127.0.0.1", uas_port, from_user="4008001234", options_interval=0)
    tel = SipTelephony(stack, [trunk], sched, sched.clock, keep_traces=calls + 10)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    pauses = _GcPauses()
    gc.callbacks.append(pauses)
    stalls0, put_off0 = INPUT_FIRST.stalls, INPUT_FIRST.held
    INPUT_FIRST.longest = 0.0
    t0 = loop.time() + 0.2
    i = 0
    while i < calls:  # pace in 5 ms steps: every call due by now goes out
        now_l = loop.time()
        due = min(calls, int((now_l - t0) * cps) + 1) if now_l >= t0 else 0
        while i < due:
            cid = f"b{i}"
            now = sched.now()
            rec.dialed(cid, kinds[i], now)
            tel.dial(Dial(cid, "bench", cid, PhoneNumber(number(i, kinds[i])), ring_timeout, trunk_id="sipp",
                          caller_id="4008001234"), now)
            i += 1
        await asyncio.sleep(0.005)
    with contextlib.suppress(TimeoutError):  # calls still open count as unexpected failures
        await asyncio.wait_for(rec.finished.wait(), hold + ring_timeout + 30.0)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    gc.callbacks.remove(pauses)
    stalls = {"count": INPUT_FIRST.stalls - stalls0, "longest_ms": round(INPUT_FIRST.longest * 1000, 1),
              "timers_put_off": INPUT_FIRST.held - put_off0}
    firsts = []
    for n in range(calls):
        tr = tel.trace(f"b{n}")
        if tr is not None and tr.entries:
            firsts.append(tr.entries[0][0])
    stack.stop()
    span = (max(firsts) - min(firsts)) if len(firsts) > 1 else 0.0
    missing = calls - len(store.cdrs)
    return {
        "achieved_cps": round((len(firsts) - 1) / span, 1) if span > 0 else 0.0,
        "peak_concurrent": rec.peak,
        "answered": rec.answered,
        "failed": rec.failed,
        "unexpected_failures": rec.unexpected + missing,
        "cdrs": len(store.cdrs),
        "unexpected_by": rec.unexpected_by,
        "cpu_seconds": round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime, 2),
        "rss_mb": round(ru1.ru_maxrss / 1024, 1),
        "gc": pauses.doc(),
        "sip_thread_stalls": stalls,
    }


def run(calls: int, cps: float, hold: float, answer_share: float = 0.95, ring_timeout: float = 4.0,
        reference: bool = True) -> dict[str, Any]:
    kinds = plan(calls, answer_share)
    out: dict[str, Any] = {"calls": calls, "target_cps": cps, "answer_share": answer_share, "hold": hold}
    with tempfile.TemporaryDirectory(prefix="waihu-sipbench-") as tmp:
        work = Path(tmp)
        uas_port = sipp.free_udp_port()
        uas = sipp.start_uas(work, hold, uas_port)
        try:
            out.update(asyncio.run(_drive(calls, cps, hold, kinds, uas_port, ring_timeout)))
        finally:
            uas.terminate()
            uas.wait(10)
        out["sipp_reference_cps"] = None
        if reference:
            ref_port = sipp.free_udp_port()
            ref_uas = sipp.start_uas(work, hold, ref_port)
            try:
                nums = [number(i, k).lstrip("+") for i, k in enumerate(kinds)]
                rate = sipp.run_reference_uac(work, nums, cps, ref_port, ring_timeout,
                                              calls / cps + hold + ring_timeout + 30.0)
                out["sipp_reference_cps"] = round(rate, 1) if rate else None
            finally:
                ref_uas.terminate()
                ref_uas.wait(10)
    return out
