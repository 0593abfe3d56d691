"""Immediate retries: a line-side loss goes out again at once on another trunk, and a
no-answer or rejection may get one premium second attempt with a longer ring.

A line loss never reached the callee's phone, so the retry is its own dial attempt with its
own CDR, linked to the first by ``chain_id`` (the first attempt's call id), and counts once
with its chain (the contact's attempt count does not grow). Busy (486) and rejected (603) are
the callee's answer: they are never retried on another line. Each retry avoids the trunks
already tried in its chain; at most ``CampaignSpec.line_retries`` of them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from waihu.domain.agents import AgentState
from waihu.domain.calls import CALL_LIFECYCLE, LossCause, Side, outcome_for_cause
from waihu.domain.messages import CallFailed, DialTarget
from waihu.domain.pacing import Observation, ObservationKind

if TYPE_CHECKING:
    from waihu.engine.dialer import Dialer, Out
    from waihu.engine.state import CallRec

PREMIUM_CAUSES = (LossCause.NO_ANSWER, LossCause.REJECTED)


def _next_target(call: CallRec, ev: CallFailed, line_retries: int, premium: bool,
                 premium_ring: float) -> tuple[DialTarget, bool] | None:
    t = call.target
    if ev.cause.side is Side.LINE:
        if call.trunk_id is None or len(t.avoid_trunks) >= line_retries:
            return None
        chain = call.chain_id or call.call_id
        return replace(t, chain_id=chain, avoid_trunks=(*t.avoid_trunks, call.trunk_id)), False
    if premium and ev.cause in PREMIUM_CAUSES and t.ring_timeout is None and not t.avoid_trunks:
        return replace(t, ring_timeout=premium_ring), True
    return None


def retry_failed(d: Dialer, call: CallRec, ev: CallFailed, now: float, out: Out) -> bool:
    """Close a failed attempt and dial its retry at once.

    False (nothing done) when no retry applies, the retry is not allowed now, or no other
    trunk can take it: the caller then records the failure as usual.
    """
    run = d.campaigns.get(call.campaign_id)
    if run is None or not run.active:
        return False
    spec = run.spec
    got = _next_target(call, ev, spec.line_retries, spec.premium_retry, spec.premium_ring_timeout)
    if got is None:
        return False
    target, counts = got
    if not d.screen(target, spec, now).allow:
        return False
    route = d.route(target, spec, now)
    if route.hold_reason is not None or route.trunk_id is None or route.trunk_id in target.avoid_trunks:
        return False
    if ev.cause.side is Side.LINE:
        call.chain_id = target.chain_id
    call.state = CALL_LIFECYCLE.next(call.state, "fail")
    run.counters.failed += 1
    if spec.pacer is not None:
        spec.pacer.observe(Observation(ObservationKind.UNANSWERED, now, now - call.dial_at))
    d.finish_call(call, outcome_for_cause(ev.cause), now, out, cause=ev.cause, sip_code=ev.sip_code)
    agent = d.agents.get(call.agent_id) if call.agent_id is not None else None
    if agent is not None and (agent.call_id != call.call_id or agent.state is not AgentState.RESERVED):
        agent = None
    d.dial_routed(run, target, agent, route, now, out, count_attempt=counts)
    return True
