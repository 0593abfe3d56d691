"""``SipTelephony``: the ``Telephony`` port over real SIP trunks (sippy as the UAC).

Threading: the port's methods are called on the runtime's thread (asyncio); they hand the work
to the SIP thread with ``stack.call``. Legs report events from the SIP thread through the
scheduler, whose ``post`` is thread-safe, so the engine only ever runs on the asyncio loop.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from waihu.adapters.sip.agents import AgentLegs
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.leg import CallLeg, LogEntry
from waihu.adapters.sip.probe import TrunkHealth, TrunkProber
from waihu.adapters.sip.register import Registration
from waihu.adapters.sip.stack import SipStack
from waihu.domain.calls import LossCause
from waihu.domain.messages import CallFailed, Dial, Event
from waihu.ports import Clock, Scheduler


@dataclass(frozen=True, slots=True)
class CallTrace:
    """The signaling of one call, for the CDR and troubleshooting: no number in clear."""

    call_id: str
    trunk: str
    number: str  # masked
    entries: tuple[LogEntry, ...]
    sip_call_id: str = ""  # the dialog's Call-ID header, as the carrier logs it


class SipTelephony:
    def __init__(self, stack: SipStack, trunks: Sequence[SipTrunk], scheduler: Scheduler, clock: Clock, *,
                 default_trunk: str | None = None, media_port: int = 40000, number_format: str = "digits",
                 keep_traces: int = 10_000,
                 on_trunk_state: Callable[[str, bool], None] | None = None) -> None:
        if not trunks:
            raise ValueError("SipTelephony needs at least one trunk")
        self.stack = stack
        self.trunks: dict[str, SipTrunk] = {}
        self.default_trunk = default_trunk or trunks[0].name
        self.scheduler = scheduler
        self.clock = clock
        self.media_port = media_port
        self.number_format = number_format
        self.calls: dict[str, CallLeg] = {}  # SIP thread only
        self._masked: dict[str, str] = {}
        self._traces: OrderedDict[str, tuple[str, str, list[LogEntry], str]] = OrderedDict()
        self._keep = keep_traces
        self.agents = AgentLegs(self)
        self.on_trunk_state = on_trunk_state
        self.health: dict[str, TrunkHealth] = {}
        self._probers: dict[str, TrunkProber] = {}
        # trunks that must register, by name (state readable from any thread)
        self.registrations: dict[str, Registration] = {}
        self._retired: list[Registration] = []  # removed or changed trunks' bindings being taken down
        self._running = False
        for t in trunks:
            self._adopt(t)
        self.started = 0
        self.finished = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start probing and registrations (the stack must be running)."""
        self.stack.call(self._start)

    def _start(self) -> None:
        self._running = True
        for t in self.trunks.values():
            self._begin(t)

    def _adopt(self, t: SipTrunk) -> None:
        self.trunks[t.name] = t
        self.health[t.name] = TrunkHealth(t.name, t.down_after, t.up_after, self.on_trunk_state)
        if t.register and t.username:
            self.registrations[t.name] = Registration(self.stack, t, self.health[t.name].registration)

    def _begin(self, t: SipTrunk) -> None:
        """SIP thread: probe the trunk and keep its registration."""
        if t.options_interval > 0:
            p = TrunkProber(self.stack, t, self.health[t.name])
            p.start()
            self._probers[t.name] = p
        reg = self.registrations.get(t.name)
        if reg is not None:
            reg.start()

    def _retire(self, name: str) -> None:
        """SIP thread: stop probing and registering a trunk (its calls in flight go on)."""
        p = self._probers.pop(name, None)
        if p is not None:
            p.stop()
        reg = self.registrations.pop(name, None)
        if reg is not None:
            if self._running:
                reg.stop()
            self._retired.append(reg)
        self.trunks.pop(name, None)
        self.health.pop(name, None)

    def set_trunks(self, trunks: Sequence[SipTrunk]) -> None:
        """Any thread: dial the next calls over these trunks. A trunk whose settings changed is
        probed and registered anew; a removed one's binding is taken down; calls in flight end on
        the trunk they took."""
        if not trunks:
            raise ValueError("SipTelephony needs at least one trunk")
        self.stack.call(self._set_trunks, list(trunks))

    def _set_trunks(self, trunks: list[SipTrunk]) -> None:
        wanted = {t.name: t for t in trunks}
        for name, old in list(self.trunks.items()):
            if wanted.get(name) != old:
                self._retire(name)
        for name, t in wanted.items():
            if name not in self.trunks:
                self._adopt(t)
                if self._running:
                    self._begin(t)
        if self.default_trunk not in self.trunks:
            self.default_trunk = trunks[0].name

    def stop(self) -> None:
        self.stack.call(self._stop)

    def wait_unregistered(self, timeout: float) -> bool:
        """Any thread but the SIP thread, after ``stop()``: wait (at most ``timeout`` seconds in all)
        until every registration's binding is removed. False if one is still unanswered."""
        deadline = time.monotonic() + timeout
        regs = [*self.registrations.values(), *self._retired]
        return all(r.unregistered.wait(max(0.0, deadline - time.monotonic())) for r in regs)

    def _stop(self) -> None:
        self._running = False
        for p in self._probers.values():
            p.stop()
        self._probers.clear()
        for reg in self.registrations.values():
            reg.stop()

    # ------------------------------------------------------------------ Telephony port
    def dial(self, cmd: Dial, now: float) -> None:
        self._masked[cmd.call_id] = cmd.phone.masked()
        self.stack.call(self._dial, cmd)

    def cancel(self, call_id: str, now: float) -> None:
        self.stack.call(self._on_leg, call_id, CallLeg.cancel)

    def bridge(self, call_id: str, agent_id: str, now: float) -> None:
        self.stack.call(self.agents.bridge, call_id, agent_id)

    def abandon(self, call_id: str, now: float) -> None:
        """No media relay yet, so no message can be played: the customer is hung up."""
        self.stack.call(self._hangup, call_id, "system")

    def hangup(self, call_id: str, by: str = "agent") -> None:
        self.stack.call(self._hangup, call_id, by)

    # ------------------------------------------------------------------ agents (3PCC)
    def login_agent(self, agent_id: str, uri: str) -> None:
        """Call the agent's phone and keep the call up for the session (a nailed-up leg)."""
        self.stack.call(self.agents.login, agent_id, uri)

    def logout_agent(self, agent_id: str) -> None:
        self.stack.call(self.agents.logout, agent_id)

    def agent_state(self, agent_id: str) -> str:
        return self.agents.state(agent_id)

    def agent_trace(self, agent_id: str) -> tuple[LogEntry, ...]:
        leg = self.agents.legs.get(agent_id)
        return tuple(leg.entries) if leg is not None else ()

    # ------------------------------------------------------------------ traces
    def trace(self, call_id: str) -> CallTrace | None:
        """The signaling log of a finished call (kept for the last ``keep_traces`` calls)."""
        kept = self._traces.get(call_id)
        if kept is None:
            return None
        trunk, masked, entries, sip_call_id = kept
        return CallTrace(call_id, trunk, masked, tuple(entries), sip_call_id)

    # ------------------------------------------------------------------ SIP thread
    def _dial(self, cmd: Dial) -> None:
        trunk = self.trunks.get(cmd.trunk_id or self.default_trunk) or self.trunks.get(self.default_trunk)
        if trunk is None or cmd.call_id in self.calls:
            self.emit(CallFailed(cmd.call_id, LossCause.TECHNICAL, None))
            return
        leg = CallLeg(self, cmd, trunk)
        self.calls[cmd.call_id] = leg
        self.started += 1
        try:
            leg.start(cmd)
        except Exception:  # a malformed number or header: the call fails, the worker lives on
            leg.hangup("system")

    def _on_leg(self, call_id: str, action: Callable[[CallLeg], None]) -> None:
        leg = self.calls.get(call_id)
        if leg is not None:
            action(leg)

    def _hangup(self, call_id: str, by: str) -> None:
        leg = self.calls.get(call_id)
        if leg is not None:
            leg.hangup(by)

    def leg_finished(self, leg: CallLeg, event: Event) -> None:
        self.calls.pop(leg.call_id, None)
        self.finished += 1
        self.agents.customer_gone(leg)
        self._traces[leg.call_id] = (leg.trunk.name, self._masked.pop(leg.call_id, "?"), leg.entries,
                                     leg.sip_call_id)
        if len(self._traces) > self._keep:
            self._traces.popitem(last=False)

    def emit(self, event: Event) -> None:
        self.scheduler.post(self.clock.now(), event)
