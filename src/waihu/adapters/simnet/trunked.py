"""The simulated network behind simulated trunks, with a signaling log per attempt.

``TrunkedNetwork`` wraps ``SimNetwork`` (the callees): a dial on a known trunk first meets
the line (its real capacity, failures, line-loss rates and post-dial delay, its answer factor),
then, if the line carries it, the callee. Every attempt's SIP exchange is written down as it
would be seen on the wire (INVITE, 100, 180/183, 200/ACK/BYE, or the failure response with its
Reason: Q.850 cause, CANCEL/487), for ``waihu call trace``.
"""

from __future__ import annotations

import heapq
import random

from waihu.adapters.simnet.network import SimNetwork
from waihu.adapters.simnet.trunks import SIGNAL, SimTrunk, final_response
from waihu.domain.calls import LossCause
from waihu.domain.messages import CallAnswered, CallEnded, CallFailed, CallRinging, Dial, Event
from waihu.ports import Scheduler

Trace = list[tuple[float, str, str]]  # (time, ">" sent / "<" received, message)


class _Recorder:
    """A scheduler in front of the real one: writes each call's events into its trace."""

    def __init__(self, inner: Scheduler, net: TrunkedNetwork) -> None:
        self.inner = inner
        self.net = net

    def post(self, at: float, event: Event) -> None:
        self.net.record(at, event)
        self.inner.post(at, event)


class TrunkedNetwork:
    def __init__(self, base: SimNetwork, trunks: dict[str, SimTrunk], start: float, seed: int) -> None:
        self.base = base
        self.trunks = trunks
        self.start = start
        self.rng = random.Random(f"{seed}:trunks")
        self.scheduler = base.scheduler
        base.scheduler = _Recorder(base.scheduler, self)
        self.traces: dict[str, Trace] = {}
        self.trunk_of: dict[str, str] = {}
        self._busy: dict[str, set[str]] = {name: set() for name in trunks}
        self._ends: list[tuple[float, str]] = []

    def add_trunk(self, trunk: SimTrunk) -> None:
        """A line for a trunk added while running; a known one takes the new limits, its calls stay."""
        old = self.trunks.get(trunk.name)
        if old is None:
            self.trunks[trunk.name] = trunk
            self._busy[trunk.name] = set()
        else:
            old.capacity, old.cps = trunk.capacity, trunk.cps

    def forget(self, call_id: str) -> tuple[str | None, Trace | None]:
        """Hand over and drop what is kept of an ended call: (its trunk, its signaling log)."""
        trunk = self.trunk_of.pop(call_id, None)
        if trunk is not None:
            self._busy[trunk].discard(call_id)
        return trunk, self.traces.pop(call_id, None)

    # ------------------------------------------------------------------ signaling
    def record(self, at: float, event: Event) -> None:
        cid = getattr(event, "call_id", None)
        log = self.traces.get(cid) if isinstance(cid, str) else None
        if log is None or cid is None:
            return
        if isinstance(event, CallRinging):
            log.append((at, "<", "183 Session Progress" if event.early_media else "180 Ringing"))
        elif isinstance(event, CallAnswered):
            log += [(at, "<", "200 OK"), (at + 0.02, ">", "ACK")]
        elif isinstance(event, CallFailed):
            known = SIGNAL.get(event.cause)
            if known is not None and event.sip_code in (None, known[0]):
                text = final_response(event.cause)
            else:
                text = str(event.sip_code or 500)
            log += [(at, "<", text), (at + 0.01, ">", "ACK")]
            heapq.heappush(self._ends, (at, cid))
        elif isinstance(event, CallEnded):
            if event.by == "callee":
                log += [(at, "<", "BYE"), (at + 0.02, ">", "200 OK")]
            else:
                log += [(at, ">", "BYE"), (at + 0.02, "<", "200 OK")]
            heapq.heappush(self._ends, (at, cid))

    def _release(self, now: float) -> None:
        while self._ends and self._ends[0][0] <= now:
            _, cid = heapq.heappop(self._ends)
            trunk = self.trunk_of.get(cid)
            if trunk is not None:
                self._busy[trunk].discard(cid)

    # ------------------------------------------------------------------ Telephony port
    def dial(self, cmd: Dial, now: float) -> None:
        cid = cmd.call_id
        trunk = self.trunks.get(cmd.trunk_id or "")
        if trunk is None:  # not one of the tenant's trunks (the platform's default route): no log
            self.base.dial(cmd, now)
            return
        self.traces[cid] = [(now, ">", "INVITE"), (now + 0.05, "<", "100 Trying")]
        self._release(now)
        self.trunk_of[cid] = trunk.name
        busy = self._busy[trunk.name]
        truth = trunk.truth(now - self.start)
        lo, hi = trunk.pdd
        pdd = lo + (hi - lo) * self.rng.random()
        cause: LossCause | None = None
        if len(busy) >= truth.capacity:
            cause = LossCause.CONGESTION
        elif truth.failed:
            cause = LossCause.TECHNICAL
        else:
            u, acc = self.rng.random(), 0.0
            for c, p in truth.loss:
                acc += p
                if u < acc:
                    cause = c
                    break
        busy.add(cid)
        post = self.base.scheduler.post
        if cause is not None:
            post(now + pdd, CallFailed(cid, cause, SIGNAL[cause][0]))
            return
        if self.rng.random() >= min(1.0, trunk.factor(None) * truth.answer_multiplier):
            post(now + pdd, CallRinging(cid))  # the line rings out: a poor route to the callee
            post(now + self.base.model.no_answer_timeout, CallFailed(cid, LossCause.NO_ANSWER, 480))
            return
        self.base.dial(cmd, now)

    def cancel(self, call_id: str, now: float) -> None:
        log = self.traces.get(call_id)
        if log is not None:
            log += [(now, ">", "CANCEL"), (now + 0.02, "<", "200 OK"), (now + 0.03, "<", "487 Request Terminated"),
                    (now + 0.04, ">", "ACK")]
            heapq.heappush(self._ends, (now, call_id))
        self.base.cancel(call_id, now)

    def bridge(self, call_id: str, agent_id: str, now: float) -> None:
        self.base.bridge(call_id, agent_id, now)

    def abandon(self, call_id: str, now: float) -> None:
        self.base.abandon(call_id, now)
