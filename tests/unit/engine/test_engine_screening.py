"""The engine asks the screen before every dial: holds, deferrals and a supervisor's override."""

from __future__ import annotations

from tests.unit.engine.helpers import make, of, target
from waihu.domain.campaigns import ContactState, DialMode
from waihu.domain.messages import (
    AgentLoggedIn,
    CampaignActivated,
    ContactsLoaded,
    Dial,
    DialTarget,
    ManualDialRequested,
    RecordHold,
    UpdateContact,
)
from waihu.engine.config import CampaignSpec, Screening
from waihu.engine.dialer import Dialer


def held(until: float | None) -> object:
    def screen(t: DialTarget, spec: CampaignSpec, now: float) -> Screening:
        return Screening(False, ("compliance.outside_calling_window",), until)
    return screen


def engine(until: float | None, mode: DialMode = DialMode.PROGRESSIVE) -> Dialer:
    d, spec = make(mode)
    d.screen = held(until)  # type: ignore[assignment]
    d.handle(AgentLoggedIn("a0"), 0.0)
    d.handle(CampaignActivated(spec), 0.0)
    return d


def test_a_deferred_dial_is_rescheduled_without_an_attempt() -> None:
    cmds = engine(until=5000.0).handle(ContactsLoaded("k1", (target(1),), None), 10.0)
    assert not of(cmds, Dial)
    (hold,) = of(cmds, RecordHold)
    assert hold.reasons == ("compliance.outside_calling_window",) and hold.until == 5000.0
    (upd,) = of(cmds, UpdateContact)
    assert upd.state is ContactState.PENDING and upd.next_attempt_at == 5000.0 and upd.attempts == 0


def test_a_blocked_dial_finishes_the_contact() -> None:
    cmds = engine(until=None).handle(ContactsLoaded("k1", (target(1),), None), 10.0)
    (upd,) = of(cmds, UpdateContact)
    assert not of(cmds, Dial) and upd.state is ContactState.FINISHED


def test_a_supervisor_override_dials_and_records_what_it_overrode() -> None:
    d = engine(until=5000.0, mode=DialMode.MANUAL)
    cmds = d.handle(ManualDialRequested("a0", target(2), override_reason="customer asked to be called now"), 20.0)
    (dial,) = of(cmds, Dial)
    (hold,) = of(cmds, RecordHold)
    assert hold.reasons == ("compliance.override", "compliance.outside_calling_window")
    assert hold.detail == {"override": "customer asked to be called now"} and dial.contact_id == "c2"
    # without an override the same manual dial is held back
    d2 = engine(until=5000.0, mode=DialMode.MANUAL)
    assert not of(d2.handle(ManualDialRequested("a0", target(3)), 20.0), Dial)
    # a permanent block (here: a reason with no time it would lift) is never overridden
    d3 = engine(until=None, mode=DialMode.MANUAL)
    cmds = d3.handle(ManualDialRequested("a0", target(4), override_reason="please"), 20.0)
    assert not of(cmds, Dial)
    assert [h.reasons for h in of(cmds, RecordHold)] == [("compliance.outside_calling_window",)]
