"""One handler per event type: ``handler(dialer, event, now, out)``."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from waihu.domain.agents import AgentState
from waihu.domain.calls import CALL_LIFECYCLE, CallState, LossCause, Outcome, outcome_for_cause
from waihu.domain.campaigns import SYSTEM_DISPOSITION_TIMEOUT, ContactState
from waihu.domain.errors import Conflict, NotFound, ValidationError
from waihu.domain.messages import (
    Abandon,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReadied,
    CallAnswered,
    CallEnded,
    CallFailed,
    CallRinging,
    CampaignActivated,
    CampaignDeactivated,
    CancelDial,
    ContactsLoaded,
    ManualDialRequested,
    PreviewAnswered,
    SetTimer,
    Tick,
    TimerFired,
    UpdateContact,
    WrapUpEnded,
    WriteDisposition,
)
from waihu.domain.pacing import Observation, ObservationKind
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer, Out
from waihu.engine.retry import retry_failed
from waihu.engine.state import AgentRec, CallRec, CampaignRun

Handler = Callable[[Dialer, Any, float, Out], None]


def _agent(d: Dialer, agent_id: str) -> AgentRec:
    a = d.agents.get(agent_id)
    if a is None:
        raise NotFound("agent.not_logged_in", "the agent is not logged in to the dialer")
    return a


# ---------------------------------------------------------------- agents
def on_login(d: Dialer, ev: AgentLoggedIn, now: float, out: Out) -> None:
    old = d.agents.get(ev.agent_id)
    if old is not None and old.state is not AgentState.OFFLINE:
        raise Conflict("agent.already_logged_in", "the agent is already logged in")
    a = AgentRec(ev.agent_id, ev.groups, AgentState.OFFLINE, now, now)
    if old is not None:  # keep the shift's totals across a re-login
        a.talk_total, a.logged_total = old.talk_total, old.logged_total
    d.agents[a.agent_id] = a
    d.set_agent(a, "login", now, out)
    for run in d.campaigns.values():
        if a.eligible(run.spec):
            run.eligible[a.agent_id] = a


def on_ready(d: Dialer, ev: AgentReadied, now: float, out: Out) -> None:
    a = _agent(d, ev.agent_id)
    if a.state is AgentState.WRAP_UP and a.call_id is not None:
        on_wrap_end(d, WrapUpEnded(a.agent_id, a.call_id), now, out)
        return
    a.pause_after = None
    if a.state is not AgentState.READY:
        d.set_agent(a, "ready", now, out)


def on_pause(d: Dialer, ev: AgentPaused, now: float, out: Out) -> None:
    a = _agent(d, ev.agent_id)
    if a.state in (AgentState.READY, AgentState.BREAK):
        d.set_agent(a, "pause", now, out, ev.reason)
    else:
        a.pause_after = ev.reason  # after the current offer, call or wrap-up


def on_logout(d: Dialer, ev: AgentLoggedOut, now: float, out: Out) -> None:
    a = _agent(d, ev.agent_id)
    if a.state in (AgentState.READY, AgentState.BREAK):
        d.set_agent(a, "logout", now, out)
        d.forget_agent(a)
    elif a.state is not AgentState.OFFLINE:
        a.logout_after = True


def on_wrap_end(d: Dialer, ev: WrapUpEnded, now: float, out: Out) -> None:
    a = _agent(d, ev.agent_id)
    if a.state is not AgentState.WRAP_UP or a.call_id != ev.call_id:
        raise Conflict("agent.not_in_wrap_up", "the agent is not wrapping up this call")
    run = d.campaigns.get(a.campaign_id or "")
    target = d.wrapping.pop(ev.call_id, None)
    if run is not None and target is not None:
        spec = run.spec
        code = ev.disposition or SYSTEM_DISPOSITION_TIMEOUT.code
        disp = spec.dispositions.get(code)
        if disp is None and code == SYSTEM_DISPOSITION_TIMEOUT.code:
            disp = SYSTEM_DISPOSITION_TIMEOUT
        if disp is None:
            d.wrapping[ev.call_id] = target
            raise ValidationError("disposition.unknown", f"unknown disposition {code!r}")
        out.append(WriteDisposition(ev.call_id, run.campaign_id, target.contact_id, a.agent_id, code, now,
                                    ev.note, ev.callback_at, disp.stage))
        if disp.final:
            d.conclude(run, target, Outcome.CONNECTED, ContactState.FINISHED, now, out, disposition=code)
        else:
            due = ev.callback_at if ev.callback_at is not None else now + spec.callback_default_delay
            owner = a.agent_id if ev.personal_callback else None
            d.conclude(run, target, Outcome.CONNECTED, ContactState.PENDING, now, out, due=due,
                       disposition=code, owner=owner)
        if spec.pacer is not None:
            spec.pacer.observe(Observation(ObservationKind.WRAP_ENDED, now, now - a.since))
    if ev.then_pause and a.pause_after is None:
        a.pause_after = "break"
    d.agent_free(a, now, out)


# ---------------------------------------------------------------- preview and manual
def on_preview(d: Dialer, ev: PreviewAnswered, now: float, out: Out) -> None:
    a = _agent(d, ev.agent_id)
    target = a.offered
    if a.state is not AgentState.RESERVED or target is None or target.contact_id != ev.contact_id:
        raise Conflict("preview.not_offered", "this contact is not offered to the agent")
    run = d.campaigns[target.campaign_id]
    a.offered = None
    if ev.accept and run.active:
        if d.place_call(run, target, a, now, out):
            return
    else:
        d.conclude(run, target, None, ContactState.PENDING, now, out, due=now + run.spec.preview_skip_delay)
    d.agent_free(a, now, out)


def on_manual(d: Dialer, ev: ManualDialRequested, now: float, out: Out) -> None:
    a = _agent(d, ev.agent_id)
    run = d.campaigns.get(ev.target.campaign_id)
    if run is None:
        raise NotFound("campaign.not_running", "the campaign is not running in this dialer")
    if a.state not in (AgentState.READY, AgentState.BREAK):
        raise Conflict("agent.busy", "the agent is busy")
    run.loaded.add(ev.target.contact_id)
    a.campaign_id = run.campaign_id
    d.set_agent(a, "reserve", now, out, "manual")
    if not d.place_call(run, ev.target, a, now, out, override=ev.override_reason):
        d.agent_free(a, now, out)


# ---------------------------------------------------------------- campaigns and contacts
def on_activate(d: Dialer, ev: CampaignActivated, now: float, out: Out) -> None:
    spec: CampaignSpec = ev.campaign
    run = d.campaigns.get(spec.campaign_id)
    if run is None:
        run = CampaignRun(spec)
        d.campaigns[spec.campaign_id] = run
    else:
        run.spec, run.active, run.drained = spec, True, False
        run.store_next_due = 0.0
    run.eligible = {a.agent_id: a for a in d.agents.values()
                    if a.state is not AgentState.OFFLINE and a.eligible(spec)}


def on_deactivate(d: Dialer, ev: CampaignDeactivated, now: float, out: Out) -> None:
    run = d.campaigns.get(ev.campaign_id)
    if run is None:
        return
    run.active = False
    returned = list(run.buffer) + [t for q in run.callbacks.values() for t in q]
    run.buffer.clear()
    run.callbacks.clear()
    for t in returned:
        run.loaded.discard(t.contact_id)
        out.append(UpdateContact(run.campaign_id, t.contact_id, ContactState.PENDING, t.attempts,
                                 t.next_attempt_at, None, t.owner_agent_id))


def on_loaded(d: Dialer, ev: ContactsLoaded, now: float, out: Out) -> None:
    run = d.campaigns.get(ev.campaign_id)
    if run is None:
        return
    run.loading = False
    # what the store said when it answered, and any retry put back since (it came too late to be in it)
    dues = [d for d in (ev.next_due_at, run.due_while_loading) if d is not None]
    run.store_next_due = min(dues) if dues else None
    run.due_while_loading = None
    for t in ev.targets:
        run.loaded.add(t.contact_id)
        owner = t.owner_agent_id
        if owner is not None and owner in run.eligible:
            run.callbacks.setdefault(owner, deque()).append(t)
        else:
            run.buffer.append(t)
    if not run.active:
        on_deactivate(d, CampaignDeactivated(run.campaign_id), now, out)


# ---------------------------------------------------------------- call progress
def _call(d: Dialer, call_id: str) -> CallRec | None:
    return d.calls.get(call_id)


def on_ringing(d: Dialer, ev: CallRinging, now: float, out: Out) -> None:
    call = _call(d, ev.call_id)
    if call is None or call.state not in (CallState.DIALING, CallState.RINGING):
        return
    call.state = CALL_LIFECYCLE.next(call.state, "ring")
    if call.ring_at is None:
        call.ring_at = now


def on_answered(d: Dialer, ev: CallAnswered, now: float, out: Out) -> None:
    call = _call(d, ev.call_id)
    if call is not None and call.state is CallState.CANCELLING:
        _answered_across_cancel(d, call, now)
        out.append(Abandon(call.call_id))
        return
    if call is None or call.state not in (CallState.DIALING, CallState.RINGING):
        return
    run = d.campaigns[call.campaign_id]
    call.state = CALL_LIFECYCLE.next(call.state, "answer")
    call.answer_at = now
    run.ringing.pop(call.call_id, None)
    run.counters.answered += 1
    if run.spec.pacer is not None:
        run.spec.pacer.observe(Observation(ObservationKind.ANSWERED, now, now - call.dial_at))
    agent = d.agents.get(call.agent_id) if call.agent_id is not None else d.free_agent_for(run)
    if agent is not None:
        d.bridge(call, agent, now, out)
        return
    d.waiting.append(call.call_id)
    out.append(SetTimer(f"abandon:{call.call_id}", now + run.spec.abandon_after))


def _release_reserved(d: Dialer, call: CallRec, now: float, out: Out) -> None:
    if call.agent_id is None:
        return
    a = d.agents.get(call.agent_id)
    if a is not None and a.call_id == call.call_id and a.state is AgentState.RESERVED:
        d.agent_free(a, now, out)


def cancel_call(d: Dialer, call: CallRec, now: float, out: Out) -> None:
    """Withdraw an unanswered call (ring timeout, or pacing sheds a line). Its line, its place in
    the pacing and any reserved agent are freed at once; its CDR waits for the network's final
    answer: 487 (no answer), or a 200 OK that crossed the CANCEL (a person answered and was hung
    up on: counted as answered and abandoned, never hidden as a no-answer)."""
    run = d.campaigns[call.campaign_id]
    out.append(CancelDial(call.call_id))
    call.state = CALL_LIFECYCLE.next(call.state, "cancel")
    call.cancel_at = now
    run.ringing.pop(call.call_id, None)
    run.lines.discard(call.call_id)
    if run.spec.pacer is not None:
        run.spec.pacer.observe(Observation(ObservationKind.UNANSWERED, now, now - call.dial_at))
    _release_reserved(d, call, now, out)


def _cancel_confirmed(d: Dialer, call: CallRec, now: float, out: Out, sip_code: int | None) -> None:
    run = d.campaigns[call.campaign_id]
    call.state = CALL_LIFECYCLE.next(call.state, "fail")
    run.counters.failed += 1
    d.finish_call(call, Outcome.NO_ANSWER, now, out, cause=LossCause.NO_ANSWER, sip_code=sip_code)
    d.conclude(run, call.target, Outcome.NO_ANSWER, None, now, out)


def _answered_across_cancel(d: Dialer, call: CallRec, now: float) -> None:
    run = d.campaigns[call.campaign_id]
    call.state = CALL_LIFECYCLE.next(call.state, "answer")
    call.answer_at = now
    run.counters.answered += 1
    run.counters.abandoned += 1
    if run.spec.pacer is not None:
        run.spec.pacer.observe(Observation(ObservationKind.ABANDONED, now, 0.0))


def unanswered(d: Dialer, call: CallRec, event: str, outcome: Outcome, now: float, out: Out,
                cause: LossCause | None, sip_code: int | None) -> None:
    run = d.campaigns[call.campaign_id]
    call.state = CALL_LIFECYCLE.next(call.state, event)
    run.counters.failed += 1
    if run.spec.pacer is not None:
        run.spec.pacer.observe(Observation(ObservationKind.UNANSWERED, now, now - call.dial_at))
    d.finish_call(call, outcome, now, out, cause=cause, sip_code=sip_code)
    _release_reserved(d, call, now, out)
    d.conclude(run, call.target, outcome, None, now, out)


def on_failed(d: Dialer, ev: CallFailed, now: float, out: Out) -> None:
    call = _call(d, ev.call_id)
    if call is None:
        return
    if call.state is CallState.CANCELLING:
        _cancel_confirmed(d, call, now, out, ev.sip_code)
        return
    if call.state in (CallState.DIALING, CallState.RINGING):
        if retry_failed(d, call, ev, now, out):
            return
        unanswered(d, call, "fail", outcome_for_cause(ev.cause), now, out, ev.cause, ev.sip_code)
    elif call.state in (CallState.ANSWERED, CallState.BRIDGED, CallState.ABANDONED):
        on_ended(d, CallEnded(call.call_id, "network"), now, out)


def on_ended(d: Dialer, ev: CallEnded, now: float, out: Out) -> None:
    call = _call(d, ev.call_id)
    if call is None:
        return
    run = d.campaigns[call.campaign_id]
    if call.state in (CallState.DIALING, CallState.RINGING):
        unanswered(d, call, "fail", Outcome.NO_ANSWER, now, out, LossCause.NO_ANSWER, None)
        return
    if call.state is CallState.CANCELLING:  # answered across our CANCEL and already hung up
        _answered_across_cancel(d, call, now)
    if call.state is CallState.ANSWERED:  # the callee left before an agent came: abandoned
        _mark_abandoned(d, call, run, "hangup", now)
    if call.state is CallState.ABANDONED:
        call.state = CALL_LIFECYCLE.next(call.state, "hangup")
        d.finish_call(call, Outcome.ABANDONED, now, out, hangup_by=ev.by)
        d.conclude(run, call.target, Outcome.ABANDONED, None, now, out)
        return
    if call.state is CallState.BRIDGED:
        call.state = CALL_LIFECYCLE.next(call.state, "hangup")
        d.finish_call(call, Outcome.CONNECTED, now, out, hangup_by=ev.by)
        if run.spec.pacer is not None and call.bridge_at is not None:
            run.spec.pacer.observe(Observation(ObservationKind.TALK_ENDED, now, now - call.bridge_at))
        a = d.agents.get(call.agent_id or "")
        if a is None or a.call_id != call.call_id:
            d.conclude(run, call.target, Outcome.CONNECTED, ContactState.FINISHED, now, out)
            return
        d.wrapping[call.call_id] = call.target
        d.set_agent(a, "hangup", now, out)
        a.wrap_seq += 1
        if run.spec.wrap_limit is not None:
            out.append(SetTimer(f"wrap:{a.agent_id}:{a.wrap_seq}", now + run.spec.wrap_limit))


def _mark_abandoned(d: Dialer, call: CallRec, run: CampaignRun, event: str, now: float) -> None:
    if call.call_id in d.waiting:
        d.waiting.remove(call.call_id)
    call.state = CALL_LIFECYCLE.next(call.state, event)
    run.counters.abandoned += 1
    if run.spec.pacer is not None:
        waited = now - (call.answer_at if call.answer_at is not None else now)
        run.spec.pacer.observe(Observation(ObservationKind.ABANDONED, now, waited))


def on_timer(d: Dialer, ev: TimerFired, now: float, out: Out) -> None:
    kind, _, rest = ev.key.partition(":")
    if kind == "ring":
        call = _call(d, rest)
        if call is not None and call.state in (CallState.DIALING, CallState.RINGING):
            cancel_call(d, call, now, out)
    elif kind == "abandon":
        call = _call(d, rest)
        if call is not None and call.state is CallState.ANSWERED:
            _mark_abandoned(d, call, d.campaigns[call.campaign_id], "abandon", now)
            out.append(Abandon(call.call_id))
    elif kind == "wrap":
        agent_id, _, seq = rest.rpartition(":")
        a = d.agents.get(agent_id)
        if a is not None and a.state is AgentState.WRAP_UP and str(a.wrap_seq) == seq and a.call_id:
            on_wrap_end(d, WrapUpEnded(agent_id, a.call_id), now, out)
    elif kind == "due":
        due_run = d.campaigns.get(rest)
        if due_run is not None:
            due_run.due_timer_at = None


def on_tick(d: Dialer, ev: Tick, now: float, out: Out) -> None:
    return None


TABLE: dict[type, Handler] = {
    Tick: on_tick, AgentLoggedIn: on_login, AgentReadied: on_ready, AgentPaused: on_pause,
    AgentLoggedOut: on_logout, WrapUpEnded: on_wrap_end, PreviewAnswered: on_preview,
    ManualDialRequested: on_manual, CampaignActivated: on_activate, CampaignDeactivated: on_deactivate,
    ContactsLoaded: on_loaded, CallRinging: on_ringing, CallAnswered: on_answered, CallFailed: on_failed,
    CallEnded: on_ended, TimerFired: on_timer,
}
