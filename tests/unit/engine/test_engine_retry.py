"""Immediate retry of line-side losses on another trunk, and the premium second attempt."""

from __future__ import annotations

import itertools

import pytest

from tests.unit.engine.helpers import DISPS, of, target
from waihu.domain.calls import LossCause, Outcome
from waihu.domain.campaigns import ContactState
from waihu.domain.messages import (
    AgentLoggedIn,
    CallFailed,
    CampaignActivated,
    ContactsLoaded,
    Dial,
    RecordHold,
    SetTimer,
    UpdateContact,
    WriteCdr,
)
from waihu.domain.routing import Router, RoutingPolicy
from waihu.domain.trunks import Trunk
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.routing import RoutedLines


def start(trunks: int = 3, **kw: object) -> tuple[Dialer, RoutedLines, Dial]:
    lines = RoutedLines(Router([Trunk(f"T{i}", f"T{i}", capacity=10, cps=10, priority=10 - i)
                                for i in range(trunks)], RoutingPolicy(explore=0.0)))
    ids = itertools.count(1)
    d = Dialer("t1", new_id=lambda: f"call{next(ids)}", route=lines.route)
    spec = CampaignSpec("k1", "t1", dispositions=dict(DISPS), job_type="insurance", **kw)  # type: ignore[arg-type]
    d.handle(AgentLoggedIn("a0"), 0.0)
    d.handle(CampaignActivated(spec), 0.0)
    (dial,) = of(d.handle(ContactsLoaded("k1", (target(1),), None), 0.0), Dial)
    return d, lines, dial


def fail(d: Dialer, lines: RoutedLines, call_id: str, cause: LossCause, code: int, now: float) -> list:  # type: ignore[type-arg]
    cmds = d.handle(CallFailed(call_id, cause, code), now)
    for c in of(cmds, WriteCdr):
        lines.record(c.record)
    return cmds


def test_a_line_loss_is_dialed_again_at_once_on_another_trunk_with_a_linked_cdr() -> None:
    d, lines, first = start()
    assert first.trunk_id == "T0"
    cmds = fail(d, lines, first.call_id, LossCause.RISK_CONTROL, 608, 2.0)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert (cdr.outcome, cdr.loss_cause, cdr.chain_id) == (Outcome.LINE_FAILURE, LossCause.RISK_CONTROL, "call1")
    (retry,) = of(cmds, Dial)
    assert retry.trunk_id == "T1" and retry.chain_id == "call1" and retry.attempt == first.attempt == 1
    assert not of(cmds, UpdateContact), "the contact stays in the chain"
    assert SetTimer(f"ring:{retry.call_id}", 2.0 + 40.0) in cmds
    assert d.agents["a0"].call_id == retry.call_id, "the reserved agent follows the retry"
    cmds = fail(d, lines, retry.call_id, LossCause.TECHNICAL, 500, 3.0)
    (third,) = of(cmds, Dial)
    assert third.trunk_id == "T2" and third.chain_id == "call1"
    # two retries at most: the third line loss ends the chain with the retry policy
    cmds = fail(d, lines, third.call_id, LossCause.CONGESTION, 503, 4.0)
    assert not of(cmds, Dial)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.chain_id == "call1" and cdr.attempt == 1
    (upd,) = of(cmds, UpdateContact)
    assert upd.state is ContactState.PENDING and upd.attempts == 1 and upd.last_outcome is Outcome.LINE_FAILURE


@pytest.mark.parametrize(("cause", "code"), [(LossCause.BUSY, 486), (LossCause.REJECTED, 603),
                                             (LossCause.NO_ANSWER, 480), (LossCause.EMPTY_NUMBER, 404)])
def test_callee_answers_are_never_retried_on_another_line(cause: LossCause, code: int) -> None:
    d, lines, first = start()
    cmds = fail(d, lines, first.call_id, cause, code, 5.0)
    assert not of(cmds, Dial)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.chain_id is None
    assert len(of(cmds, UpdateContact)) == 1


def test_no_other_trunk_means_no_retry() -> None:
    d, lines, first = start(trunks=1)
    cmds = fail(d, lines, first.call_id, LossCause.TECHNICAL, 503, 1.0)
    assert not of(cmds, Dial) and not of(cmds, RecordHold)
    (upd,) = of(cmds, UpdateContact)
    assert upd.last_outcome is Outcome.LINE_FAILURE


def test_premium_second_attempt_rings_longer_once() -> None:
    d, lines, first = start(premium_retry=True, premium_ring_timeout=70.0)
    cmds = fail(d, lines, first.call_id, LossCause.NO_ANSWER, 480, 30.0)
    (again,) = of(cmds, Dial)
    assert again.ring_timeout == 70.0 and again.attempt == 2, "the phone rang: it counts"
    assert SetTimer(f"ring:{again.call_id}", 100.0) in cmds
    cmds = fail(d, lines, again.call_id, LossCause.REJECTED, 603, 50.0)
    assert not of(cmds, Dial), "only one premium attempt"
    (upd,) = of(cmds, UpdateContact)
    assert upd.attempts == 2 and upd.last_outcome is Outcome.REJECTED


def test_route_reason_is_recorded_in_the_cdr() -> None:
    d, lines, first = start()
    cmds = fail(d, lines, first.call_id, LossCause.BUSY, 486, 1.0)
    (cdr,) = [c.record for c in of(cmds, WriteCdr)]
    assert cdr.extra["route"] == "best_value"
    assert lines.decisions[-1].trunk_id == "T0"
    assert lines.router.live["T0"].in_flight == 0, "the CDR frees the line"


def test_a_retry_shows_the_caller_id_its_chain_showed() -> None:
    from waihu.domain.callerid import CallerId, CallerIdPool

    pool = CallerIdPool()
    pool.add(CallerId("n1", "+8613700000001", "浙江", max_concurrent=5))
    lines = RoutedLines(Router([Trunk("T0", "T0", capacity=10, cps=10, priority=2),
                                Trunk("T1", "T1", capacity=10, cps=10)], RoutingPolicy(explore=0.0)), pool)
    ids = itertools.count(1)
    d = Dialer("t1", new_id=lambda: f"call{next(ids)}", route=lines.route)
    spec = CampaignSpec("k1", "t1", dispositions=dict(DISPS), job_type="insurance")
    d.handle(AgentLoggedIn("a0"), 0.0)
    d.handle(CampaignActivated(spec), 0.0)
    callee = target(1)
    callee.region = "浙江"
    (first,) = of(d.handle(ContactsLoaded("k1", (callee,), None), 0.0), Dial)
    cmds = fail(d, lines, first.call_id, LossCause.TECHNICAL, 500, 1.0)
    (retry,) = of(cmds, Dial)
    assert retry.caller_id == first.caller_id == "+8613700000001"
    assert pool.numbers["n1"].in_use == 1 and pool.numbers["n1"].used_today == 1
    fail(d, lines, retry.call_id, LossCause.BUSY, 486, 3.0)
    assert pool.numbers["n1"].in_use == 0


def test_a_retry_put_back_while_a_load_is_on_its_way_is_not_forgotten() -> None:
    """The store answers a load with what was due when it read; a busy callee's retry written
    after that read must still wake the campaign when it falls due (it was once lost, and the
    contact stayed pending until the campaign was started again)."""
    from tests.unit.engine.helpers import make
    from waihu.domain.messages import CampaignDrained, LoadContacts

    d, spec = make()
    d.handle(AgentLoggedIn("a0"), 0.0)
    assert of(d.handle(CampaignActivated(spec), 0.0), LoadContacts)
    cmds = d.handle(ContactsLoaded("k1", (target(1),), 0.0), 0.0)  # more are due: it loads again at once
    (dial,) = of(cmds, Dial)
    assert of(cmds, LoadContacts) and d.campaigns["k1"].loading
    cmds = d.handle(CallFailed(dial.call_id, LossCause.BUSY, 486), 5.0)  # the retry goes back meanwhile
    (upd,) = of(cmds, UpdateContact)
    assert upd.state is ContactState.PENDING and upd.next_attempt_at == 605.0
    cmds = d.handle(ContactsLoaded("k1", (), None), 5.0)  # read before the retry was written
    assert SetTimer("due:k1", 605.0) in cmds and not of(cmds, CampaignDrained)
    assert d.campaigns["k1"].store_next_due == 605.0
