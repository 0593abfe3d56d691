"""Scripted event sequences through the engine (virtual time, no I/O)."""

from __future__ import annotations

import pytest

from tests.unit.engine.helpers import make, of, target
from waihu.domain.calls import LossCause, Outcome
from waihu.domain.campaigns import ContactState, DialMode
from waihu.domain.errors import Conflict
from waihu.domain.messages import (
    Abandon,
    AgentChanged,
    AgentLoggedIn,
    AgentPaused,
    Bridge,
    CallAnswered,
    CallEnded,
    CallFailed,
    CallRinging,
    CampaignActivated,
    CampaignDrained,
    CancelDial,
    ContactsLoaded,
    Dial,
    DialTarget,
    LoadContacts,
    ManualDialRequested,
    OfferPreview,
    PreviewAnswered,
    SetTimer,
    TimerFired,
    UpdateContact,
    WrapUpEnded,
    WriteCdr,
    WriteDisposition,
)
from waihu.domain.pacing import Observation, PacingDecision, PacingSnapshot, PowerPacer
from waihu.domain.phone import PhoneNumber
from waihu.engine.config import CampaignSpec


def start(mode: DialMode = DialMode.PROGRESSIVE, agents: int = 1, **kw: object):  # type: ignore[no-untyped-def]
    d, spec = make(mode, **kw)
    for i in range(agents):
        d.handle(AgentLoggedIn(f"a{i}"), 0.0)
    cmds = d.handle(CampaignActivated(spec), 0.0)
    return d, spec, cmds


def test_progressive_connected_call_end_to_end() -> None:
    d, spec, cmds = start()
    assert of(cmds, LoadContacts) == [LoadContacts("k1", spec.buffer_size)]
    cmds = d.handle(ContactsLoaded("k1", (target(1),), None), 0.0)
    (dial,) = of(cmds, Dial)
    assert dial.agent_id == "a0" and dial.attempt == 1 and dial.contact_id == "c1"
    assert d.agents["a0"].state.value == "reserved"
    assert SetTimer(f"ring:{dial.call_id}", spec.ring_timeout) in cmds
    d.handle(CallRinging(dial.call_id), 1.0)
    cmds = d.handle(CallAnswered(dial.call_id), 6.0)
    assert of(cmds, Bridge) == [Bridge(dial.call_id, "a0")]
    assert d.agents["a0"].state.value == "talking"
    cmds = d.handle(CallEnded(dial.call_id), 66.0)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.outcome is Outcome.CONNECTED and cdr.talk_seconds == 60.0 and cdr.ring_at == 1.0
    assert cdr.answer_at == 6.0 and cdr.agent_id == "a0"
    assert d.agents["a0"].state.value == "wrap_up"
    assert not of(cmds, UpdateContact), "the contact waits for the disposition"
    cmds = d.handle(WrapUpEnded("a0", dial.call_id, "sale"), 80.0)
    assert of(cmds, WriteDisposition)[0].code == "sale"
    (upd,) = of(cmds, UpdateContact)
    assert upd.state is ContactState.FINISHED and upd.attempts == 1 and upd.disposition == "sale"
    assert d.agents["a0"].state.value == "ready"
    assert of(cmds, CampaignDrained) == [CampaignDrained("k1")]


@pytest.mark.parametrize(("cause", "code", "outcome", "state", "due"), [
    (LossCause.BUSY, 486, Outcome.BUSY, ContactState.PENDING, 10 + 600),
    (LossCause.NO_ANSWER, 480, Outcome.NO_ANSWER, ContactState.PENDING, 10 + 1800),
    (LossCause.REJECTED, 603, Outcome.REJECTED, ContactState.PENDING, 10 + 4 * 3600),
    (LossCause.EMPTY_NUMBER, 404, Outcome.INVALID_NUMBER, ContactState.FINISHED, None),
    (LossCause.CONGESTION, 503, Outcome.LINE_FAILURE, ContactState.PENDING, 10 + 120),
])
def test_failed_attempts_follow_the_retry_policy(cause, code, outcome, state, due) -> None:  # type: ignore[no-untyped-def]
    d, _spec, _ = start()
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    cmds = d.handle(CallFailed(dial.call_id, cause, code), 10.0)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert (cdr.outcome, cdr.loss_cause, cdr.sip_code) == (outcome, cause, code)
    (upd,) = of(cmds, UpdateContact)
    assert (upd.state, upd.next_attempt_at, upd.last_outcome) == (state, due, outcome)
    assert d.agents["a0"].state.value == "ready"


def test_last_allowed_attempt_exhausts_the_contact() -> None:
    d, _spec, _ = start()
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1, attempts=2),), None), 0.0), Dial)
    assert dial.attempt == 3
    (upd,) = of(d.handle(CallFailed(dial.call_id, LossCause.BUSY, 486), 5.0), UpdateContact)
    assert upd.state is ContactState.EXHAUSTED and upd.attempts == 3


def test_ring_timeout_cancels_and_records_no_answer() -> None:
    d, _spec, _ = start(ring_timeout=30.0)
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    cmds = d.handle(TimerFired(f"ring:{dial.call_id}"), 30.0)
    assert CancelDial(dial.call_id) in cmds
    assert of(cmds, WriteCdr) == [], "the CDR waits for the network's final answer to the CANCEL"
    assert d.campaigns["k1"].lines == set(), "the line is free at once"
    cmds = d.handle(CallFailed(dial.call_id, LossCause.NO_ANSWER, 487), 30.05)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.outcome is Outcome.NO_ANSWER and cdr.sip_code == 487 and cdr.end_at == 30.05
    assert "answered_after_cancel" not in cdr.extra
    assert of(d.handle(CallAnswered(dial.call_id), 31.0), Bridge) == [], "a late answer is ignored"


def test_answer_crossing_the_cancel_is_an_abandoned_call_not_a_no_answer() -> None:
    d, _spec, _ = start(ring_timeout=30.0)
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    assert CancelDial(dial.call_id) in d.handle(TimerFired(f"ring:{dial.call_id}"), 30.0)
    cmds = d.handle(CallAnswered(dial.call_id), 30.02)  # the callee's 200 OK crossed our CANCEL
    assert of(cmds, Bridge) == [], "never bridged: the agent may already have another call"
    assert of(cmds, Abandon) == [Abandon(dial.call_id)]
    cmds = d.handle(CallEnded(dial.call_id, "system"), 30.03)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.outcome is Outcome.ABANDONED and cdr.answer_at == 30.02 and cdr.hangup_by == "system"
    assert cdr.extra.get("answered_after_cancel") is True
    c = d.campaigns["k1"].counters
    assert (c.answered, c.abandoned, c.failed) == (1, 1, 0)
    (upd,) = of(cmds, UpdateContact)
    assert upd.last_outcome is Outcome.ABANDONED


def test_answer_crossing_the_cancel_reported_only_as_an_end_is_still_abandoned() -> None:
    d, _spec, _ = start(ring_timeout=30.0)
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    d.handle(TimerFired(f"ring:{dial.call_id}"), 30.0)
    (cdr,) = [c.record for c in of(d.handle(CallEnded(dial.call_id, "system"), 30.03), WriteCdr)]
    assert cdr.outcome is Outcome.ABANDONED and cdr.answer_at == 30.03


def test_answered_call_without_free_agent_is_abandoned_after_two_seconds() -> None:
    d, _spec, _ = start(DialMode.POWER, agents=1, pacer=PowerPacer(2.0))
    cmds = d.handle(ContactsLoaded("k1", (target(1), target(2)), None), 0.0)
    dials = of(cmds, Dial)
    assert len(dials) == 2 and all(x.agent_id is None for x in dials)
    assert of(d.handle(CallAnswered(dials[0].call_id), 5.0), Bridge) == [Bridge(dials[0].call_id, "a0")]
    cmds = d.handle(CallAnswered(dials[1].call_id), 6.0)
    assert SetTimer(f"abandon:{dials[1].call_id}", 8.0) in cmds and not of(cmds, Bridge)
    assert of(d.handle(TimerFired(f"abandon:{dials[1].call_id}"), 8.0), Abandon) == [Abandon(dials[1].call_id)]
    cmds = d.handle(CallEnded(dials[1].call_id, "system"), 12.0)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.outcome is Outcome.ABANDONED and cdr.bridge_at is None
    assert d.campaigns["k1"].counters.abandoned == 1


def test_waiting_call_is_bridged_when_an_agent_frees_within_the_limit() -> None:
    d, _spec, _ = start(DialMode.POWER, agents=1, pacer=PowerPacer(2.0))
    dials = of(d.handle(ContactsLoaded("k1", (target(1), target(2)), None), 0.0), Dial)
    d.handle(CallAnswered(dials[0].call_id), 1.0)
    d.handle(CallEnded(dials[0].call_id), 5.0)
    d.handle(CallAnswered(dials[1].call_id), 5.5)
    cmds = d.handle(WrapUpEnded("a0", dials[0].call_id, "sale"), 6.0)
    assert Bridge(dials[1].call_id, "a0") in cmds
    assert of(d.handle(TimerFired(f"abandon:{dials[1].call_id}"), 7.5), Abandon) == []


def test_preview_skip_returns_contact_without_an_attempt() -> None:
    d, _spec, _ = start(DialMode.PREVIEW)
    cmds = d.handle(ContactsLoaded("k1", (target(1),), None), 0.0)
    (offer,) = of(cmds, OfferPreview)
    assert offer.agent_id == "a0" and not of(cmds, Dial)
    cmds = d.handle(PreviewAnswered("a0", "c1", accept=False), 9.0)
    (upd,) = of(cmds, UpdateContact)
    assert upd.state is ContactState.PENDING and upd.attempts == 0 and upd.next_attempt_at == 9.0 + 3600
    assert d.agents["a0"].state.value == "ready"


def test_preview_accept_dials_with_the_agent_reserved() -> None:
    d, _spec, _ = start(DialMode.PREVIEW)
    d.handle(ContactsLoaded("k1", (target(1),), None), 0.0)
    (dial,) = of(d.handle(PreviewAnswered("a0", "c1", accept=True), 4.0), Dial)
    assert dial.agent_id == "a0"


def test_manual_dial_from_break_engages_the_agent() -> None:
    d, _spec, _ = start(DialMode.MANUAL)
    d.handle(AgentPaused("a0", "lunch"), 1.0)
    (dial,) = of(d.handle(ManualDialRequested("a0", target(5)), 2.0), Dial)
    assert dial.agent_id == "a0" and d.agents["a0"].state.value == "reserved"
    assert of(d.handle(CallAnswered(dial.call_id), 8.0), Bridge) == [Bridge(dial.call_id, "a0")]


def test_personal_callback_goes_to_its_owner() -> None:
    d, _spec, _ = start(agents=2)
    cmds = d.handle(ContactsLoaded("k1", (target(1, owner="a1"),), None), 0.0)
    (dial,) = of(cmds, Dial)
    assert dial.agent_id == "a1"


def test_shared_callback_goes_to_any_free_agent_and_is_not_owned() -> None:
    d, _spec, _ = start(agents=2)
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    d.handle(CallAnswered(dial.call_id), 3.0)
    d.handle(CallEnded(dial.call_id), 50.0)
    agent = dial.agent_id
    assert agent is not None
    cmds = d.handle(WrapUpEnded(agent, dial.call_id, "later", callback_at=5000.0, personal_callback=False), 60.0)
    (upd,) = of(cmds, UpdateContact)
    assert (upd.state, upd.next_attempt_at, upd.owner_agent_id) == (ContactState.PENDING, 5000.0, None)
    d.handle(AgentPaused(agent, "lunch"), 61.0)  # the agent who set it is away: another takes it
    (again,) = of(d.handle(ContactsLoaded("k1", (target(1, attempts=1),), None), 5000.0), Dial)
    assert again.agent_id not in (None, agent)


def test_one_agent_serves_two_campaigns_one_call_at_a_time() -> None:
    d, spec = make()
    other = CampaignSpec("k2", "t1", mode=DialMode.PROGRESSIVE, dispositions=dict(spec.dispositions))
    d.handle(AgentLoggedIn("a0"), 0.0)
    d.handle(CampaignActivated(spec), 0.0)
    d.handle(CampaignActivated(other), 0.0)
    first = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    second = of(d.handle(ContactsLoaded("k2", (DialTarget("c9", "k2", PhoneNumber("+8613900000009"), "p9"),),
                                        None), 0.0), Dial)
    assert [x.campaign_id for x in first] == ["k1"] and second == [], "the agent is reserved for k1's call"
    # k1's call fails: the agent is free and takes k2's waiting contact at once
    cmds = d.handle(CallFailed(first[0].call_id, LossCause.BUSY, 486), 5.0)
    assert [(x.campaign_id, x.agent_id) for x in of(cmds, Dial)] == [("k2", "a0")]


def test_callback_disposition_schedules_the_contact() -> None:
    d, _spec, _ = start()
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    d.handle(CallAnswered(dial.call_id), 3.0)
    d.handle(CallEnded(dial.call_id), 50.0)
    cmds = d.handle(WrapUpEnded("a0", dial.call_id, "later", callback_at=5000.0, personal_callback=True), 60.0)
    (upd,) = of(cmds, UpdateContact)
    assert (upd.state, upd.next_attempt_at, upd.owner_agent_id) == (ContactState.PENDING, 5000.0, "a0")
    assert SetTimer("due:k1", 5000.0) in cmds


def test_pause_requested_during_a_call_takes_effect_after_wrap_up() -> None:
    d, _spec, _ = start()
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    d.handle(CallAnswered(dial.call_id), 3.0)
    d.handle(AgentPaused("a0", "meeting"), 4.0)
    d.handle(CallEnded(dial.call_id), 50.0)
    cmds = d.handle(WrapUpEnded("a0", dial.call_id, "sale"), 60.0)
    assert AgentChanged("a0", "break", 60.0, None, "meeting", None) in cmds


def test_wrap_up_end_for_the_wrong_call_is_refused() -> None:
    d, _spec, _ = start()
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    with pytest.raises(Conflict):
        d.handle(WrapUpEnded("a0", dial.call_id, "sale"), 1.0)


def test_unknown_disposition_is_a_validation_error_and_changes_nothing() -> None:
    from waihu.domain.errors import ValidationError

    d, _spec, _ = start()
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    d.handle(CallAnswered(dial.call_id), 3.0)
    d.handle(CallEnded(dial.call_id), 50.0)
    with pytest.raises(ValidationError):
        d.handle(WrapUpEnded("a0", dial.call_id, "nonsense"), 55.0)
    assert d.agents["a0"].state.value == "wrap_up"
    assert of(d.handle(WrapUpEnded("a0", dial.call_id, "sale"), 56.0), WriteDisposition)


class _Recycler:
    """A pacer that asks for one call more than the trunk has room for, hanging up one ringing call."""

    name = "recycler"

    def __init__(self) -> None:
        self.armed = False

    def observe(self, obs: Observation) -> None:
        return None

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        if not self.armed:
            return PacingDecision(max(0, 2 - snap.lines_in_use))
        self.armed = False
        return PacingDecision(1, cancel=1)


def test_pacer_can_hang_up_the_longest_ringing_call_to_free_its_line() -> None:
    pacer = _Recycler()
    d, _spec, _ = start(DialMode.PREDICTIVE, agents=1, pacer=pacer, max_lines=2)
    first, second = of(d.handle(ContactsLoaded("k1", (target(1), target(2), target(3)), None), 0.0), Dial)
    d.handle(CallRinging(second.call_id), 4.0)
    pacer.armed = True
    cmds = d.handle(CallRinging(first.call_id), 16.0)
    assert of(cmds, CancelDial) == [CancelDial(first.call_id)]  # the one dialed first
    (dial,) = of(cmds, Dial)
    assert dial.contact_id == "c3"
    assert len(d.campaigns["k1"].lines) == 2  # never more than the trunk's lines
    (cdr,) = [c.record for c in of(d.handle(CallFailed(first.call_id, LossCause.NO_ANSWER, 487), 16.05), WriteCdr)]
    assert cdr.call_id == first.call_id and cdr.outcome is Outcome.NO_ANSWER and cdr.sip_code == 487
    assert of(d.handle(CallAnswered(first.call_id), 17.0), Bridge) == [], "a late answer is ignored"
