"""The dialer engine: ``Dialer.handle(event, now) -> list[Command]``. No I/O, no clock reads.

One engine serves the running campaigns of one tenant (agents may serve several campaigns at
once). Every state change goes through the transition tables in ``waihu.domain``; after each
event the engine dispatches: waiting answered calls to free agents, personal callbacks and
progressive/preview contacts to ready agents, predictive/power calls as the pacer decides,
and contact loads from the store.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from waihu.domain.agents import AGENT_LIFECYCLE, AgentState
from waihu.domain.calls import (
    CALL_LIFECYCLE,
    CallRecord,
    CallState,
    LossCause,
    Outcome,
)
from waihu.domain.campaigns import ContactState, DialMode
from waihu.domain.errors import ValidationError
from waihu.domain.messages import (
    AgentChanged,
    Bridge,
    CampaignDrained,
    Command,
    Dial,
    DialTarget,
    Event,
    LoadContacts,
    LogPacing,
    OfferPreview,
    RecordHold,
    SetTimer,
    UpdateContact,
    WriteCdr,
)
from waihu.domain.pacing import Observation, ObservationKind, PacingSnapshot
from waihu.engine.config import Route, RouteFn, ScreenFn, allow_all, default_route
from waihu.engine.state import AgentRec, CallRec, CampaignRun

AGENT_DRIVEN = (DialMode.PROGRESSIVE, DialMode.PREVIEW)
PACED = (DialMode.PREDICTIVE, DialMode.POWER)
OVERRIDE = "compliance.override"  # reason recorded when a supervisor overrides a screening hold
Out = list[Command]


def _uuid() -> str:
    return uuid.uuid4().hex


class Dialer:
    def __init__(self, tenant_id: str, *, new_id: Callable[[], str] = _uuid,
                 screen: ScreenFn = allow_all, route: RouteFn = default_route,
                 log_pacing: bool = False) -> None:
        self.tenant_id = tenant_id
        self.new_id = new_id
        self.screen = screen
        self.route = route
        self.log_pacing = log_pacing
        self.agents: dict[str, AgentRec] = {}
        self.ready: dict[str, AgentRec] = {}  # insertion order = longest idle first
        self.calls: dict[str, CallRec] = {}
        self.waiting: deque[str] = deque()  # answered calls without an agent, oldest first
        self.campaigns: dict[str, CampaignRun] = {}
        self.wrapping: dict[str, DialTarget] = {}  # call id -> contact awaiting its disposition
        from waihu.engine import handlers  # late import: handlers use this class

        self._handlers = handlers.TABLE

    # ------------------------------------------------------------------ entry point
    def handle(self, event: Event, now: float) -> list[Command]:
        out: Out = []
        handler = self._handlers.get(type(event))
        if handler is None:
            raise ValidationError("engine.unknown_event", f"unknown event {type(event).__name__}")
        handler(self, event, now, out)
        self.dispatch(now, out)
        return out

    # ------------------------------------------------------------------ agents
    def set_agent(self, a: AgentRec, event: str, now: float, out: Out, reason: str | None = None) -> None:
        new = AGENT_LIFECYCLE.next(a.state, event)
        old = a.state
        if old is AgentState.TALKING and a.talk_started is not None:
            a.talk_total += now - a.talk_started
            a.talk_started = None
        if new is AgentState.TALKING:
            a.talk_started = now
        if new is AgentState.OFFLINE:
            a.logged_total += now - a.login_at
        a.state = new
        a.since = now
        if new is AgentState.READY:
            self.ready.pop(a.agent_id, None)
            self.ready[a.agent_id] = a
        else:
            self.ready.pop(a.agent_id, None)
        out.append(AgentChanged(a.agent_id, new.value, now, a.call_id, reason, a.campaign_id))

    def agent_free(self, a: AgentRec, now: float, out: Out) -> None:
        """After a call or an offer: honour a pending break/logout, else become ready."""
        a.call_id = None
        a.campaign_id = None
        a.offered = None
        to_ready = "ready" if a.state is not AgentState.RESERVED else "release"
        if a.logout_after:
            if a.state is AgentState.RESERVED:
                self.set_agent(a, "release", now, out)
            self.set_agent(a, "logout", now, out)
            self.forget_agent(a)
        elif a.pause_after is not None:
            reason = a.pause_after
            a.pause_after = None
            if a.state is AgentState.RESERVED:
                self.set_agent(a, "release", now, out)
            self.set_agent(a, "pause", now, out, reason)
        else:
            self.set_agent(a, to_ready, now, out)

    def forget_agent(self, a: AgentRec) -> None:
        for run in self.campaigns.values():
            run.eligible.pop(a.agent_id, None)

    def agent_times(self, now: float) -> tuple[float, float]:
        """(talk seconds, logged-in seconds) over all agents up to ``now``."""
        talk = logged = 0.0
        for a in self.agents.values():
            talk += a.talk_total + (now - a.talk_started if a.talk_started is not None else 0.0)
            logged += a.logged_total + (now - a.login_at if a.state is not AgentState.OFFLINE else 0.0)
        return talk, logged

    # ------------------------------------------------------------------ calls
    def place_call(self, run: CampaignRun, target: DialTarget, agent: AgentRec | None, now: float,
                   out: Out, *, override: str | None = None) -> bool:
        """Screen, route and dial one target. Returns False when the dial was held back."""
        spec = run.spec
        verdict = self.screen(target, spec, now)
        # a supervisor may override a hold that would lift later (a calling window, a cap), never
        # a permanent block (a DNC entry, no consent, an excluded region, attempts used up)
        if not verdict.allow and (override is None or verdict.until is None):
            run.counters.held += 1
            out.append(RecordHold(spec.campaign_id, target.contact_id, now, verdict.reasons, verdict.until))
            if verdict.until is None:
                self.conclude(run, target, None, ContactState.FINISHED, now, out)
            else:
                self.conclude(run, target, None, ContactState.PENDING, now, out, due=verdict.until)
            return False
        if not verdict.allow:
            # compliance: a supervisor overrode the hold of a manual dial; record what was overridden
            out.append(RecordHold(spec.campaign_id, target.contact_id, now, (OVERRIDE, *verdict.reasons), now,
                                  {"override": override}))
        route = self.route(target, spec, now)
        if route.hold_reason is not None:
            run.counters.held += 1
            retry = route.retry_at if route.retry_at is not None else now + 60.0
            out.append(RecordHold(spec.campaign_id, target.contact_id, now, (route.hold_reason,),
                                  None if route.final else retry))
            if route.final:
                self.conclude(run, target, None, ContactState.FINISHED, now, out)
            else:
                self.conclude(run, target, None, ContactState.PENDING, now, out, due=retry)
            return False
        self.dial_routed(run, target, agent, route, now, out)
        return True

    def dial_routed(self, run: CampaignRun, target: DialTarget, agent: AgentRec | None, route: Route,
                    now: float, out: Out, *, count_attempt: bool = True) -> None:
        """Dial a screened and routed target (``count_attempt`` False: a retry within a chain)."""
        spec = run.spec
        if count_attempt:
            target.attempts += 1
        call = CallRec(call_id=self.new_id(), target=target, campaign_id=spec.campaign_id,
                       mode=spec.mode.value, state=CALL_LIFECYCLE.next(CallState.CREATED, "dial"),
                       dial_at=now, attempt=target.attempts, agent_id=agent.agent_id if agent else None,
                       trunk_id=route.trunk_id, caller_id=route.caller_id, chain_id=target.chain_id,
                       route_reason=route.reason)
        self.calls[call.call_id] = call
        run.ringing[call.call_id] = now
        run.lines.add(call.call_id)
        run.counters.dialed += 1
        run.last_served = now
        if agent is not None:
            agent.call_id = call.call_id
        if spec.pacer is not None:
            spec.pacer.observe(Observation(ObservationKind.DIALED, now))
        ring = target.ring_timeout if target.ring_timeout is not None else spec.ring_timeout
        out.append(Dial(call.call_id, spec.campaign_id, target.contact_id, target.phone, ring,
                        call.agent_id, route.trunk_id, route.caller_id, call.attempt, target.chain_id))
        out.append(SetTimer(f"ring:{call.call_id}", now + ring))

    def bridge(self, call: CallRec, agent: AgentRec, now: float, out: Out) -> None:
        run = self.campaigns[call.campaign_id]
        call.state = CALL_LIFECYCLE.next(call.state, "bridge")
        call.bridge_at = now
        call.agent_id = agent.agent_id
        agent.call_id = call.call_id
        agent.campaign_id = call.campaign_id
        self.set_agent(agent, "connect", now, out)
        run.counters.connected += 1
        if run.spec.pacer is not None and call.answer_at is not None:
            run.spec.pacer.observe(Observation(ObservationKind.BRIDGED, now, now - call.answer_at))
        out.append(Bridge(call.call_id, agent.agent_id))

    def free_agent_for(self, run: CampaignRun) -> AgentRec | None:
        for a in self.ready.values():
            if a.agent_id in run.eligible:
                return a
        return None

    def finish_call(self, call: CallRec, outcome: Outcome, now: float, out: Out, *,
                    cause: LossCause | None = None, sip_code: int | None = None,
                    hangup_by: str | None = None) -> None:
        run = self.campaigns[call.campaign_id]
        run.ringing.pop(call.call_id, None)
        run.lines.discard(call.call_id)
        self.calls.pop(call.call_id, None)
        t = call.target
        rec = CallRecord(
            call_id=call.call_id, tenant_id=self.tenant_id, campaign_id=call.campaign_id,
            contact_id=t.contact_id, phone_ref=t.phone_ref, attempt=call.attempt, dial_at=call.dial_at,
            end_at=now, outcome=outcome, loss_cause=cause, sip_code=sip_code, chain_id=call.chain_id,
            ring_at=call.ring_at, answer_at=call.answer_at, bridge_at=call.bridge_at,
            agent_id=call.agent_id, trunk_id=call.trunk_id, caller_id=call.caller_id,
            hangup_by=hangup_by, mode=call.mode,
            extra=_cdr_extra(call, outcome))
        out.append(WriteCdr(rec))

    def conclude(self, run: CampaignRun, target: DialTarget, outcome: Outcome | None,
                 state: ContactState | None, now: float, out: Out, *, due: float | None = None,
                 disposition: str | None = None, owner: str | None = None) -> None:
        """Decide and record what becomes of a contact after an attempt (or a hold)."""
        if state is None:
            assert outcome is not None
            due = run.spec.retry.next_attempt(outcome, target.attempts, now)
            state = ContactState.PENDING if due is not None else ContactState.EXHAUSTED
            if outcome is Outcome.INVALID_NUMBER:
                state, due = ContactState.FINISHED, None
        run.loaded.discard(target.contact_id)
        out.append(UpdateContact(run.campaign_id, target.contact_id, state, target.attempts,
                                 due if state is ContactState.PENDING else None, outcome, owner, disposition))
        if state is ContactState.PENDING and due is not None:
            run.store_next_due = due if run.store_next_due is None else min(run.store_next_due, due)
            if run.loading:
                run.due_while_loading = due if run.due_while_loading is None else min(run.due_while_loading, due)
            run.drained = False

    # ------------------------------------------------------------------ dispatch
    def dispatch(self, now: float, out: Out) -> None:
        if self.waiting and self.ready:
            self._serve_waiting(now, out)
        if self.ready:
            self._serve_ready_agents(now, out)
        for run in self.campaigns.values():
            if not run.active:
                self._check_drained(run, out)
                continue
            if run.spec.mode in PACED and run.buffer:
                self._pace(run, now, out)
            self._maybe_load(run, now, out)
            self._check_drained(run, out)

    def _serve_waiting(self, now: float, out: Out) -> None:
        for call_id in list(self.waiting):
            call = self.calls.get(call_id)
            if call is None or call.state is not CallState.ANSWERED:
                self.waiting.remove(call_id)
                continue
            agent = self.free_agent_for(self.campaigns[call.campaign_id])
            if agent is not None:
                self.waiting.remove(call_id)
                self.bridge(call, agent, now, out)
            if not self.ready:
                return

    def _serve_ready_agents(self, now: float, out: Out) -> None:
        # only campaigns that can give a ready agent work: agent-driven ones with contacts, or callbacks
        runs = [r for r in self.campaigns.values()
                if r.active and ((r.buffer and r.spec.mode in AGENT_DRIVEN) or any(r.callbacks.values()))]
        if not runs:
            return
        for agent in list(self.ready.values()):
            # compliance: a dial the screen holds back frees the agent at once; offer the next
            # contact until a dial goes out or nothing more is taken (no other event would follow)
            while agent.state is AgentState.READY:
                left = sum(len(r.buffer) + sum(map(len, r.callbacks.values())) for r in runs)
                self._give_agent_work(agent, runs, now, out)
                if left == sum(len(r.buffer) + sum(map(len, r.callbacks.values())) for r in runs):
                    break

    def _give_agent_work(self, agent: AgentRec, runs: list[CampaignRun], now: float, out: Out) -> None:
        # a personal callback first, in any mode but manual
        for run in runs:
            queue = run.callbacks.get(agent.agent_id)
            if queue and agent.eligible(run.spec):
                self._start_for_agent(run, queue.popleft(), agent, now, out)
                return
        best: CampaignRun | None = None
        for run in runs:
            if run.spec.mode not in AGENT_DRIVEN or not run.buffer or agent.agent_id not in run.eligible:
                continue
            if best is None or (run.spec.priority, -run.last_served) > (best.spec.priority, -best.last_served):
                best = run
        if best is not None:
            self._start_for_agent(best, best.buffer.popleft(), agent, now, out)

    def _start_for_agent(self, run: CampaignRun, target: DialTarget, agent: AgentRec, now: float,
                         out: Out) -> None:
        agent.campaign_id = run.campaign_id
        self.set_agent(agent, "reserve", now, out)
        if run.spec.mode is DialMode.PREVIEW:
            agent.offered = target
            run.last_served = now
            out.append(OfferPreview(agent.agent_id, target))
            return
        if not self.place_call(run, target, agent, now, out):
            self.agent_free(agent, now, out)

    def _pace(self, run: CampaignRun, now: float, out: Out) -> None:
        pacer = run.spec.pacer
        if pacer is None or not run.eligible:
            return
        if len(run.eligible) == len(self.agents):  # every agent serves it (eligible agents are known agents)
            ready = len(self.ready)
        else:
            ready = sum(1 for a in self.ready.values() if a.agent_id in run.eligible)
        if len(self.campaigns) == 1:
            waiting = len(self.waiting)
        else:
            waiting = sum(1 for c in self.waiting if self.calls[c].campaign_id == run.campaign_id)
        c = run.counters
        snap = PacingSnapshot(now=now, ready=ready, agents=run.eligible.values(),
                              ringing_since=run.ringing.values(), waiting=waiting,
                              lines_in_use=len(run.lines), max_lines=run.spec.max_lines,
                              abandon_target=run.spec.abandon_target, abandon_after=run.spec.abandon_after,
                              dialed=c.dialed, answered=c.answered, abandoned=c.abandoned)
        decision = pacer.decide(snap)
        if decision.cancel > 0:
            self._cancel_longest_ringing(run, decision.cancel, now, out)
        n = min(decision.calls, len(run.buffer))
        if run.spec.max_lines is not None:
            n = min(n, run.spec.max_lines - len(run.lines))
        if self.log_pacing and (n > 0 or decision.inputs):
            out.append(LogPacing(run.campaign_id, now, max(n, 0), decision.inputs))
        for _ in range(max(n, 0)):
            if not run.buffer:
                break
            self.place_call(run, run.buffer.popleft(), None, now, out)

    def _cancel_longest_ringing(self, run: CampaignRun, k: int, now: float, out: Out) -> None:
        """Hang up the ``k`` unanswered calls that have rung longest (as a ring timeout would)."""
        from waihu.engine import handlers

        oldest = [c for c in (self.calls.get(i) for i in itertools.islice(run.ringing, k)) if c is not None]
        for call in oldest:
            if call.state in (CallState.DIALING, CallState.RINGING):
                handlers.cancel_call(self, call, now, out)

    def _maybe_load(self, run: CampaignRun, now: float, out: Out) -> None:
        if run.loading or run.store_next_due is None:
            return
        if len(run.buffer) >= run.spec.buffer_size // 2:
            return
        if run.store_next_due <= now:
            run.loading = True
            out.append(LoadContacts(run.campaign_id, run.spec.buffer_size - len(run.buffer)))
        elif run.due_timer_at != run.store_next_due:
            run.due_timer_at = run.store_next_due
            out.append(SetTimer(f"due:{run.campaign_id}", run.store_next_due))

    def _check_drained(self, run: CampaignRun, out: Out) -> None:
        if run.drained or run.loading or run.loaded or run.lines:
            return
        if run.active and run.store_next_due is not None:
            return
        run.drained = True
        out.append(CampaignDrained(run.campaign_id))


def _cdr_extra(call: CallRec, outcome: Outcome) -> dict[str, Any]:
    extra: dict[str, Any] = {"route": call.route_reason} if call.route_reason else {}
    if call.cancel_at is not None and outcome is Outcome.ABANDONED:
        extra["answered_after_cancel"] = True  # the callee's 200 OK crossed our CANCEL
    return extra
